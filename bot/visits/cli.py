"""``qingche report visits``: the monthly visit ledger (走访台账) per patch, and 走访率."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from bot.cli_report import database_url, period, period_options


@click.command("visits")
@period_options
def visits(start: date | None, end: date | None, fmt: str, out: Path | None) -> None:
    """The visit ledger: one sheet per patch (日期, 户, 类别, 走访情况, 跟进, 工单号) and 走访率."""
    from bot.db import require_schema, session_scope
    from bot.timeutil import utcnow
    from bot.visits import ledger

    start, end = period(start, end)
    url = database_url()
    require_schema(url)
    out = out or Path(ledger.default_name(start, end, fmt))
    with session_scope(url) as s:
        books = ledger.build(s, start, end, utcnow())
        if fmt == "csv":
            ledger.write_csv(books, out)
        else:
            ledger.write_xlsx(books, out, start, end)
        visits_n = sum(len(b.rows) for b in books)
    click.echo(f"{out}: {visits_n} 次走访 (visits), {len(books)} 个网格 (patches), {start} – {end}")
