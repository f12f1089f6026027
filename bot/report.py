"""The monthly 亮绩亮效 table: tickets and the 三率 per patch and per grid worker, for a date range."""
from __future__ import annotations

import csv
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import stats, texts
from bot.models import Patch, Person
from bot.visits import attend

COLUMNS = ("level", "code", "name", "village", "town", "filed", "resolved", "open", "late",
           "response_rate", "resolve_rate", "satisfaction_rate", "rated")
RATE_COLUMNS = ("response_rate", "resolve_rate", "satisfaction_rate")


@dataclass
class Row:
    """One line of the report."""

    level: str          # patch, grid_worker, total
    code: str
    name: str
    village: str
    town: str
    counts: stats.Counts
    arrival: float | None = None   # 三必到: mean minutes from filing to arrival

    def values(self) -> list:
        """The cells, rates as fractions (None when nothing could be judged)."""
        c = self.counts
        return [texts.t(f"cadre.report_level_{self.level}"), self.code, self.name, self.village, self.town,
                c.filed, c.resolved, c.open, c.late, c.response_rate, c.resolve_rate, c.satisfaction_rate, c.rated,
                None if self.arrival is None else round(self.arrival)]


def headers() -> list[str]:
    """The column titles."""
    return [texts.t(f"cadre.report_col_{c}") for c in COLUMNS] + [texts.t("visits.report_col_arrival")]


def build(session: Session, start_day: date, end_day: date, now: datetime) -> list[Row]:
    """Rows for tickets filed from ``start_day`` to ``end_day`` inclusive (China time): patches, grid workers, total."""
    start, _ = stats.day_bounds(start_day)
    _, end = stats.day_bounds(end_day)
    tickets = stats.filed_between(session, start, end)
    patches = {p.code: p for p in session.scalars(select(Patch))}
    people = {p.userid: p for p in session.scalars(select(Person))}
    rows: list[Row] = []
    by_patch = stats.group_by(tickets, lambda tk: tk.patch_code or "")
    for code in sorted(by_patch, key=lambda c: (c == "", c)):
        group = by_patch[code]
        patch = patches.get(code)
        rows.append(Row("patch", code, patch.name if patch else texts.t("cadre.no_patch"),
                        patch.village if patch else (group[0].village or ""),
                        patch.town if patch else (group[0].town or ""), stats.tally(group, now)))
    by_worker = stats.group_by(tickets, lambda tk: tk.assignee_userid or "")
    for userid in sorted(by_worker, key=lambda u: (u == "", u)):
        person = people.get(userid)
        patch = patches.get(person.patch) if person and person.patch else None
        rows.append(Row("grid_worker", userid, person.name if person else texts.t("cadre.nobody"),
                        patch.village if patch else "", patch.town if patch else "",
                        stats.tally(by_worker[userid], now)))
    rows.append(Row("total", "", texts.t("cadre.report_total"), "", "", stats.tally(tickets, now)))
    groups = {("patch", c): g for c, g in by_patch.items()} | {("grid_worker", u): g for u, g in by_worker.items()}
    for row in rows:   # 三必到: mean minutes from filing to arrival (bot.visits)
        row.arrival = attend.tally(groups.get((row.level, row.code), tickets)).mean_minutes
    return rows


def write_csv(rows: list[Row], path: Path) -> None:
    """CSV (UTF-8 with BOM so Excel reads the Chinese), rates as percentages."""
    with path.open("w", encoding="utf-8-sig", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(headers())
        for row in rows:
            writer.writerow([stats.fmt_rate(v) if i < len(COLUMNS) and COLUMNS[i] in RATE_COLUMNS else v
                             for i, v in enumerate(row.values())])


def write_xlsx(rows: list[Row], path: Path, start_day: date, end_day: date) -> None:
    """An Excel workbook: one sheet per level, rates as percentage cells."""
    from openpyxl import Workbook

    wb = Workbook()
    wb.remove(wb.active)
    for level in ("total", "patch", "grid_worker"):
        ws = wb.create_sheet(texts.t(f"cadre.report_sheet_{level}"))
        ws.append([texts.t("cadre.report_period", start=start_day.isoformat(), end=end_day.isoformat())])
        ws.append(headers())
        for row in (r for r in rows if r.level == level):
            ws.append(row.values())
            for i, name in enumerate(COLUMNS):
                if name in RATE_COLUMNS:
                    ws.cell(row=ws.max_row, column=i + 1).number_format = "0.0%"
        for i, _ in enumerate(COLUMNS):
            ws.column_dimensions[chr(ord("A") + i)].width = 14
    wb.save(path)


def default_name(start_day: date, end_day: date, fmt: str) -> str:
    """qingche-report-2024-05-01-2024-05-31.xlsx."""
    return f"qingche-report-{start_day.isoformat()}-{end_day.isoformat()}.{fmt}"


