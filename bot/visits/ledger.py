"""The monthly visit ledger (走访台账) a town asks for, written from the visits themselves.

One sheet per patch with the columns 日期, 户（姓名）, 类别, 走访情况, 跟进, 工单号, and a 走访率
sheet (per patch and grid worker, as of the period's end). The ledger names households and their
kinds: it is the official record kept by the street office, not a push to anyone.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import stats, texts
from bot.models import Patch
from bot.tickets import routing
from bot.timeutil import fmt_local
from bot.visits import service
from bot.visits.models import Household, Visit

INVALID_SHEET_CHARS = str.maketrans({c: "_" for c in "[]:*?/\\"})


@dataclass
class PatchLedger:
    """One patch's visits in the period and its coverage at the period's end."""

    patch: Patch
    worker: str
    rows: list[list] = field(default_factory=list)
    coverage: service.Coverage = field(default_factory=service.Coverage)


def columns() -> list[str]:
    """日期, 户（姓名）, 类别, 走访情况, 跟进, 工单号."""
    return texts.t("visits.ledger_columns").split("|")


def build(session: Session, start_day: date, end_day: date, now: datetime) -> list[PatchLedger]:
    """Every patch with households or visits, its visits from ``start_day`` to ``end_day`` (China time)."""
    start, _ = stats.day_bounds(start_day)
    _, end = stats.day_bounds(end_day)
    as_of = min(end, now)
    households = {h.id: h for h in session.scalars(select(Household))}
    codes = sorted({h.patch_code for h in households.values()})
    patches = {p.code: p for p in session.scalars(select(Patch).where(Patch.code.in_(codes)))}
    cover = service.coverage(session, codes, as_of)
    out = {}
    for code in codes:
        if code not in patches:
            continue
        worker = routing.grid_worker_for(session, code)
        out[code] = PatchLedger(patches[code], worker.name if worker else "", coverage=cover[code])
    for visit in session.scalars(select(Visit).where(Visit.visited_at >= start, Visit.visited_at < end)
                                 .order_by(Visit.visited_at, Visit.id)):
        h = households.get(visit.household_id)
        if h is None or h.patch_code not in out:
            continue
        out[h.patch_code].rows.append([fmt_local(visit.visited_at, "%Y-%m-%d %H:%M"), service.label(h),
                                       service.kind_name(h), visit.note, visit.followup, visit.ticket_number])
    return list(out.values())


def coverage_columns() -> list[str]:
    return texts.t("visits.ledger_coverage_columns").split("|")


def coverage_row(book: PatchLedger) -> list:
    c = book.coverage
    return [book.patch.code, book.patch.name, book.worker, c.households, c.covered, c.rate, c.overdue]


def write_xlsx(books: list[PatchLedger], path: Path, start_day: date, end_day: date) -> None:
    """One sheet per patch, then the 走访率 sheet (rates as percentage cells)."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for book in books:
        ws = wb.create_sheet(book.patch.name.translate(INVALID_SHEET_CHARS)[:31] or book.patch.code)
        ws.append([texts.t("visits.ledger_title", patch=book.patch.name, start=start_day.isoformat(),
                           end=end_day.isoformat())])
        ws.append(columns())
        for row in book.rows:
            ws.append(row)
        for letter, width in zip("ABCDEF", (18, 26, 14, 40, 18, 10), strict=True):
            ws.column_dimensions[letter].width = width
    ws = wb.create_sheet(texts.t("visits.ledger_sheet_coverage"))
    ws.append(coverage_columns())
    for book in books:
        ws.append(coverage_row(book))
        ws.cell(row=ws.max_row, column=6).number_format = "0.0%"
    wb.save(path)


def write_csv(books: list[PatchLedger], path: Path) -> None:
    """One CSV (UTF-8 with BOM): the patch code first, then the ledger's columns."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([coverage_columns()[0], *columns()])
        for book in books:
            for row in book.rows:
                writer.writerow([book.patch.code, *row])


def default_name(start_day: date, end_day: date, fmt: str) -> str:
    """qingche-visits-2024-05-01-2024-05-31.xlsx."""
    return f"qingche-visits-{start_day.isoformat()}-{end_day.isoformat()}.{fmt}"
