"""The visit ledger (四必访): 走访率 per patch and its grid worker, and the recent visits.

Coverage is ``bot.visits.service.coverage`` (counts only). A visit to a 特殊家庭 or 重点人员
household shows its name, kind and words only to the patch's grid worker and the cadres of its
village (``bot.visits.service.may_see``); anyone else in the area (a town's cadres) reads that a
household under special care was visited, and when.
"""
from __future__ import annotations

from dataclasses import dataclass

from flask import request, url_for
from sqlalchemy import select

from bot import stats
from bot.models import Person
from bot.timeutil import fmt_local, utcnow
from bot.visits import rules, service
from bot.visits.models import Household, Visit
from bot.workbench import bp, export, rights
from bot.workbench.auth import current_person, db, log_action, page, require, wt
from bot.workbench.tickets import PERIODS, _excel_time, names_of, period_bounds

LIST_MAX = 200
EXPORT_MAX = 100_000


@dataclass
class Filters:
    """The visits' filing period (as the ticket list's)."""

    period: str = ""
    start: str = ""
    end: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        period = args.get("period", "")
        return cls(period=period if period in PERIODS and period != "custom" else "")

    def args(self) -> dict:
        return {"period": self.period} if self.period else {}


def coverage_rows(person: Person) -> tuple[list[dict], service.Coverage]:
    """One row per patch in view with households: its grid workers, 走访率, overdue and due this week."""
    s, now = db(), utcnow()
    patches = rights.patches_for(s, person)
    by_patch = service.coverage(s, [p.code for p in patches], now)
    workers: dict[str, list[str]] = {}
    for w in s.scalars(select(Person).where(Person.role == "grid_worker",
                                            Person.patch.in_([p.code for p in patches])).order_by(Person.id)):
        workers.setdefault(w.patch, []).append(w.name)
    total, rows = service.Coverage(), []
    for p in patches:
        c = by_patch[p.code]
        if not c.households:
            continue
        total.add(c)
        rows.append({"code": p.code, "patch": p.name, "village": p.village,
                     "worker": "、".join(workers.get(p.code, [])) or wt("nobody"), "households": c.households,
                     "covered": c.covered, "rate": stats.fmt_rate(c.rate), "rate_value": c.rate,
                     "overdue": c.overdue, "due_week": c.due_week})
    return rows, total


def visit_rows(person: Person, f: Filters, limit: int) -> list[dict]:
    """The visits on the patches in view, newest first, sensitive households shown only to those allowed."""
    s = db()
    codes = [p.code for p in rights.patches_for(s, person)]
    q = (select(Visit, Household).join(Household, Household.id == Visit.household_id)
         .where(Household.patch_code.in_(codes)))
    start, end = period_bounds(f, utcnow())
    if start is not None:
        q = q.where(Visit.visited_at >= start)
    if end is not None:
        q = q.where(Visit.visited_at < end)
    found = list(s.execute(q.order_by(Visit.visited_at.desc(), Visit.id.desc()).limit(limit)).all())
    people = names_of(s, [v.worker_userid for v, _h in found])
    table = rules.load()
    rows = []
    for visit, h in found:
        hidden = table.is_sensitive(h.kind) and not service.may_see(s, person, h)
        rows.append({"visit": visit, "when": fmt_local(visit.visited_at), "patch": h.patch_code,
                     "worker": people[visit.worker_userid].name if visit.worker_userid in people else "",
                     "household": wt("visit_hidden") if hidden else service.label(h),
                     "kind": "" if hidden else service.kind_name(h), "note": "" if hidden else visit.note,
                     "followup": visit.followup, "ticket": visit.ticket_number or ""})
    return rows


@bp.get("/visits")
@require("visits")
def visits_page():
    """走访率 per patch and grid worker, then the recent visits."""
    person = current_person()
    f = Filters.from_args(request.args)
    rows, total = coverage_rows(person)
    return page("visits.html", coverage=rows, total=total, total_rate=stats.fmt_rate(total.rate),
                visits=visit_rows(person, f, LIST_MAX), filters=f,
                export_url=url_for("workbench.visits_export", **f.args()))


@bp.get("/visits/export")
@require("visits")
def visits_export():
    """走访率 and the visits (same filters, same masking) as .xlsx."""
    person = current_person()
    f = Filters.from_args(request.args)
    rows, _total = coverage_rows(person)
    visits = visit_rows(person, f, EXPORT_MAX)
    log_action("export_visits")
    return export.xlsx_sheets("visits", [
        (wt("sheet_coverage"), export.columns("export_coverage"),
         ([r["code"], r["patch"], r["village"], r["worker"], r["households"], r["covered"], r["rate_value"],
           r["overdue"], r["due_week"]] for r in rows)),
        (wt("sheet_visits"), export.columns("export_visits"),
         ([_excel_time(v["visit"].visited_at), v["patch"], v["worker"], v["household"], v["kind"], v["note"],
           v["followup"], v["ticket"]] for v in visits))])
