"""Every list exports to xlsx with its current filters (openpyxl, write-only: constant memory)."""
from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import datetime

from flask import Response
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from bot import texts

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def columns(key: str) -> list[str]:
    """The column headings for an export, a comma-separated text in workbench.yaml."""
    return [c.strip() for c in texts.t(f"workbench.{key}").split(",")]


def _safe(value):
    """A cell value; text that a spreadsheet would run as a formula is quoted."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@"):
        return "'" + value
    return value


def xlsx_response(stem: str, sheet: str, headings: list[str], rows: Iterable[Iterable]) -> Response:
    """An .xlsx download: one sheet, a bold heading row, then ``rows``."""
    return xlsx_sheets(stem, [(sheet, headings, rows)])


def xlsx_sheets(stem: str, sheets: list[tuple[str, list[str], Iterable[Iterable]]]) -> Response:
    """An .xlsx download with one sheet per (name, headings, rows)."""
    book = Workbook(write_only=True)
    for sheet, headings, rows in sheets:
        ws = book.create_sheet(sheet)
        head = []
        for h in headings:
            cell = WriteOnlyCell(ws, value=h)
            cell.font = Font(bold=True)
            head.append(cell)
        ws.append(head)
        for row in rows:
            ws.append([_safe(v) for v in row])
    buf = io.BytesIO()
    book.save(buf)
    name = f"{stem}-{datetime.now():%Y%m%d-%H%M}.xlsx"
    return Response(buf.getvalue(), mimetype=XLSX,
                    headers={"Content-Disposition": f'attachment; filename="{name}"', "Cache-Control": "no-store"})
