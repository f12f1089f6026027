"""出具证明登记台账: the register every committee keeps, generated from the applications.

One row per application filed in the period, oldest first: the register number, the certificate,
the applicant (ID-card number masked: the register outlives the retention period), the dates, the
grid worker's verification, who decided, and where it stands.
"""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import privacy, texts
from bot.applications import service
from bot.models import Application, Person
from bot.stats import day_bounds
from bot.timeutil import fmt_local

COLUMNS = ("register_number", "number", "certificate", "applicant", "id_number", "village", "requested",
           "due", "verified", "decided_by", "decided", "collected", "status", "notes")


def t(key: str, **fields) -> str:
    """An applications text."""
    return texts.t(f"applications.{key}", **fields)


@dataclass
class Row:
    values: list


def headers() -> list[str]:
    """The register's column titles."""
    return [t(f"register_col_{c}") for c in COLUMNS]


def build(session: Session, start_day: date, end_day: date, village: str | None = None) -> list[Row]:
    """The register rows for applications filed from ``start_day`` to ``end_day`` (China time, inclusive)."""
    start, _ = day_bounds(start_day)
    _, end = day_bounds(end_day)
    query = select(Application).where(Application.requested_at >= start, Application.requested_at < end)
    if village:
        query = query.where(service.in_jurisdiction(village))
    names = {p.userid: p.name for p in session.scalars(select(Person))}
    rows = []
    for app in session.scalars(query.order_by(Application.requested_at, Application.id)):
        verified = {"confirmed": t("register_verified_confirmed"), "mismatch": t("register_verified_mismatch")}.get(
            app.verify_result or "", "")
        rows.append(Row([app.register_number or "", f"A{app.number}", app.certificate_name, app.applicant_name,
                         app.id_masked, app.village, fmt_local(app.requested_at), fmt_local(app.due_at),
                         verified, names.get(app.decided_by or "", app.decided_by or ""),
                         fmt_local(app.decided_at) if app.decided_at else "",
                         fmt_local(app.collected_at) if app.collected_at else "",
                         service.status_name(app.status), privacy.mask(app.status_notes or "")]))
    return rows


def write_csv(rows: list[Row], path: Path) -> None:
    """The register as CSV (UTF-8 with BOM, so Excel reads the Chinese)."""
    with path.open("w", newline="", encoding="utf-8-sig") as fh:
        writer = csv.writer(fh)
        writer.writerow(headers())
        for row in rows:
            writer.writerow(row.values)


def write_xlsx(rows: list[Row], path: Path, start_day: date, end_day: date) -> None:
    """The register as an Excel workbook, one sheet."""
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = t("register_sheet")
    ws.append([t("register_title", start=start_day.isoformat(), end=end_day.isoformat())])
    ws.append(headers())
    for row in rows:
        ws.append(row.values)
    for i, _ in enumerate(COLUMNS):
        ws.column_dimensions[chr(ord("A") + i)].width = 16
    wb.save(path)


def default_name(start_day: date, end_day: date, fmt: str) -> str:
    """qingche-applications-2026-11-01-2026-11-30.xlsx."""
    return f"qingche-applications-{start_day.isoformat()}-{end_day.isoformat()}.{fmt}"
