"""``qingche report``: the monthly tables cadres hand in, from the same data the bot keeps.

``qingche report`` alone is the ticket report (亮绩亮效: tickets and the 三率 per patch and grid
worker); other capabilities add their own subcommands (``qingche report applications``,
``qingche report visits``) with the same options through ``period_options`` and ``open_database``.
The period defaults to the last calendar month (China time).
"""
from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path

import click

from bot.config import Config
from bot.errors import ConfigError


def _day(ctx, param, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2024-05-01") from None


def last_month(today: date) -> tuple[date, date]:
    """The first and last day of the calendar month before ``today``."""
    end = today.replace(day=1) - timedelta(days=1)
    return end.replace(day=1), end


def period(start: date | None, end: date | None) -> tuple[date, date]:
    """The report period: as given, or the last calendar month (China time)."""
    from bot.stats import local_today
    from bot.timeutil import utcnow

    if start is None and end is None:
        return last_month(local_today(utcnow()))
    if start is None or end is None:
        raise click.UsageError("give both --from and --to, or neither (the last calendar month)")
    if end < start:
        raise click.BadParameter("--to is before --from")
    return start, end


def period_options(fn: Callable) -> Callable:
    """--from, --to, --format and --out, shared by every report."""
    for option in reversed((
        click.option("--from", "start", callback=_day, help="first day (China time); default: last month's first"),
        click.option("--to", "end", callback=_day, help="last day, inclusive; default: last month's last"),
        click.option("--format", "fmt", type=click.Choice(["xlsx", "csv"]), default="xlsx", show_default=True),
        click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
                     help="output file (default: a dated name)"),
    )):
        fn = option(fn)
    return fn


def database_url() -> str:
    """The database every command reads: DATABASE_URL, else the one the demo writes."""
    try:
        return Config.from_env(require_wecom=False).DATABASE_URL
    except ConfigError as exc:
        click.echo(f"配置错误 / configuration error: {exc}", err=True)
        sys.exit(2)


@click.group("report", invoke_without_command=True)
@period_options
@click.pass_context
def report(ctx: click.Context, start: date | None, end: date | None, fmt: str, out: Path | None) -> None:
    """Tickets and the 三率 per patch and per grid worker, for tickets filed in the period."""
    if ctx.invoked_subcommand is not None:
        return
    from bot import report as rep
    from bot.db import session_scope
    from bot.timeutil import utcnow

    start, end = period(start, end)
    url = database_url()
    from bot.db import require_schema

    require_schema(url)
    out = out or Path(rep.default_name(start, end, fmt))
    with session_scope(url) as s:
        rows = rep.build(s, start, end, utcnow())
    if fmt == "csv":
        rep.write_csv(rows, out)
    else:
        rep.write_xlsx(rows, out, start, end)
    total = rows[-1].counts
    click.echo(f"{out}: {total.filed} 件工单 (tickets), {len(rows) - 1} 行 (rows), {start} – {end}")


from bot.visits.cli import visits as _visits  # noqa: E402  (defined on top of this module's options)

report.add_command(_visits)
from bot.applications import report as _applications_report  # noqa: E402,F401  (qingche report applications)
