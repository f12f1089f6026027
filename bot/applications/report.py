"""``qingche report applications``: the 出具证明登记台账 as Excel or CSV."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from bot.cli_report import database_url, period, period_options, report


@report.command("applications")
@period_options
@click.option("--village", help="one village or community (or a town), e.g. 楼冈社区居委会; default: all")
def applications(start: date | None, end: date | None, fmt: str, out: Path | None, village: str | None) -> None:
    """出具证明登记台账: every certificate application filed in the period."""
    from bot.applications import register
    from bot.db import require_schema, session_scope

    start, end = period(start, end)
    url = database_url()
    require_schema(url)
    out = out or Path(register.default_name(start, end, fmt))
    with session_scope(url) as s:
        rows = register.build(s, start, end, village)
    if fmt == "csv":
        register.write_csv(rows, out)
    else:
        register.write_xlsx(rows, out, start, end)
    click.echo(f"{out}: {len(rows)} 件证明申请 (applications), {start} – {end}")
