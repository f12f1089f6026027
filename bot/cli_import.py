"""``qingche import patches|people|households FILE``: rosters and the households to visit, from CSV or Excel."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.config import Config
from bot.errors import ConfigError


def _run(kind: str, path: Path) -> None:
    from bot.db import session_scope
    from bot.roster import RosterError, import_patches, import_people, read_rows

    try:
        url = Config.from_env(require_wecom=False).DATABASE_URL
    except ConfigError as exc:
        click.echo(f"配置错误 / configuration error: {exc}", err=True)
        sys.exit(2)
    from bot.visits.households import import_households

    importer = {"patches": import_patches, "people": import_people, "households": import_households}[kind]
    try:
        with session_scope(url) as session:
            result = importer(session, read_rows(path))
    except RosterError as exc:
        for line in exc.errors:
            click.echo(line, err=True)
        click.echo(f"{path.name}: {len(exc.errors)} 处错误，未导入任何数据 / nothing was imported", err=True)
        sys.exit(1)
    click.echo(f"{path.name}: 新增 {result.created} 条，更新 {result.updated} 条 "
               f"(created {result.created}, updated {result.updated})")


@click.group("import")
def import_group() -> None:
    """Import the roster: patches (网格) and people, from .csv or .xlsx."""


@import_group.command("patches")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def patches(file: Path) -> None:
    """Patches: code, name, village, town, keywords (;-separated), lat, lng, radius_m."""
    _run("patches", file)


@import_group.command("people")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def people(file: Path) -> None:
    """People: userid, name, role, patch, mobile, kind, department, jurisdiction."""
    _run("people", file)


@import_group.command("households")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def households(file: Path) -> None:
    """Households to visit (四必访): patch, name, address, kind, phone, note."""
    _run("households", file)
