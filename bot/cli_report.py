"""``qingche report --from DATE --to DATE --format xlsx|csv [--out FILE]``: the monthly 亮绩亮效 table."""
from __future__ import annotations

import sys
from datetime import date
from pathlib import Path

import click

from bot.config import Config
from bot.errors import ConfigError


def _day(ctx, param, value: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2024-05-01") from None


@click.command("report")
@click.option("--from", "start", required=True, callback=_day, help="first day (China time), e.g. 2024-05-01")
@click.option("--to", "end", required=True, callback=_day, help="last day, inclusive, e.g. 2024-05-31")
@click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="output file (default: a dated name)")
def report(start: date, end: date, fmt: str, out: Path | None) -> None:
    """Tickets and the 三率 per patch and per grid worker, for tickets filed in the period."""
    from bot import report as rep
    from bot.db import session_scope
    from bot.timeutil import utcnow

    if end < start:
        raise click.BadParameter("--to is before --from")
    try:
        url = Config.from_env(require_wecom=False).DATABASE_URL
    except ConfigError as exc:
        click.echo(f"配置错误 / configuration error: {exc}", err=True)
        sys.exit(2)
    out = out or Path(rep.default_name(start, end, fmt))
    with session_scope(url) as s:
        rows = rep.build(s, start, end, utcnow())
    if fmt == "csv":
        rep.write_csv(rows, out)
    else:
        rep.write_xlsx(rows, out, start, end)
    total = rows[-1].counts
    click.echo(f"{out}: {total.filed} 件工单 (tickets), {len(rows) - 1} 行 (rows)")
