"""The 三率 as charts: month by month, and per patch and grid worker for a period.

Counted by ``bot.stats.tally`` — the same numbers as the daily digest, 今日 and ``qingche report``.
"""
from __future__ import annotations

from datetime import date, timedelta

from flask import request, url_for
from sqlalchemy import select

from bot import stats
from bot.models import Patch, Ticket
from bot.timeutil import utcnow
from bot.workbench import bp, export, rights, svg
from bot.workbench.auth import current_person, db, log_action, page, require, wt
from bot.workbench.tickets import PERIODS, Filters, names_of, period_bounds

MONTHS = 6
# What bot.stats.tally reads, as plain rows: far cheaper than loading whole tickets for months of them.
TALLY_COLUMNS = (Ticket.status, Ticket.requested_at, Ticket.acknowledged_at, Ticket.resolved_at, Ticket.closed_at,
                 Ticket.respond_by, Ticket.acknowledge_by, Ticket.resolve_by, Ticket.rating, Ticket.patch_code,
                 Ticket.assignee_userid)


def _months(today: date, n: int = MONTHS) -> list[date]:
    first = today.replace(day=1)
    out = [first]
    for _ in range(n - 1):
        first = (first - timedelta(days=1)).replace(day=1)
        out.append(first)
    return list(reversed(out))


def _rates(c: stats.Counts) -> list[float | None]:
    return [c.response_rate, c.resolve_rate, c.satisfaction_rate]


def compute(person, f: Filters, now):
    """(per month, per patch, per grid worker) tallies in the person's area."""
    s = db()
    today = stats.local_today(now)
    months = _months(today)
    start = stats.day_bounds(months[0])[0]
    scoped = rights.scope_tickets(select(*TALLY_COLUMNS), person)
    recent = list(s.execute(scoped.where(Ticket.requested_at >= start)))
    by_month = []
    for i, m in enumerate(months):
        lo = stats.day_bounds(m)[0]
        hi = stats.day_bounds(months[i + 1])[0] if i + 1 < len(months) else None
        by_month.append((f"{m.month}月", stats.tally(
            [tk for tk in recent if tk.requested_at >= lo and (hi is None or tk.requested_at < hi)], now)))
    lo, hi = period_bounds(f, now)
    q = scoped
    if lo is not None:
        q = q.where(Ticket.requested_at >= lo)
    if hi is not None:
        q = q.where(Ticket.requested_at < hi)
    period = list(s.execute(q))
    names = dict(s.execute(select(Patch.code, Patch.name)).all())
    by_patch = [(names.get(code, code or wt("no_patch")), stats.tally(tks, now))
                for code, tks in sorted(stats.group_by(period, lambda tk: tk.patch_code or "").items())]
    workers = stats.group_by(period, lambda tk: tk.assignee_userid or "")
    people = names_of(s, workers)
    by_worker = [(people[u].name if u in people else (u or wt("nobody")), stats.tally(tks, now))
                 for u, tks in sorted(workers.items())]
    return by_month, by_patch, by_worker


@bp.get("/stats")
@require("stats")
def stats_page():
    """三率 charts."""
    person, now = current_person(), utcnow()
    f = Filters.from_args(request.args)
    if not f.period:
        f.period = "30d"
    by_month, by_patch, by_worker = compute(person, f, now)
    rate_names = [wt("rate_response"), wt("rate_resolve"), wt("rate_satisfaction")]
    trend = svg.line_chart([m for m, _ in by_month],
                           {name: [_rates(c)[i] for _, c in by_month] for i, name in enumerate(rate_names)},
                           wt("chart_months"))
    patches = svg.bar_chart([(n, _rates(c)) for n, c in by_patch], rate_names, wt("chart_patches"))
    workers = svg.bar_chart([(n, _rates(c)) for n, c in by_worker], rate_names, wt("chart_workers"))
    return page("stats.html", trend=trend, patches=patches, workers=workers, by_month=by_month, by_patch=by_patch,
                by_worker=by_worker, fmt=stats.fmt_rate, filters=f, periods=PERIODS,
                export_url=url_for("workbench.stats_export", **f.args()))


@bp.get("/stats/export")
@require("stats")
def stats_export():
    """The same tables as .xlsx."""
    person, now = current_person(), utcnow()
    f = Filters.from_args(request.args)
    if not f.period:
        f.period = "30d"
    by_month, by_patch, by_worker = compute(person, f, now)
    rows = []
    for kind, table in ((wt("by_month"), by_month), (wt("by_patch"), by_patch), (wt("by_worker"), by_worker)):
        for name, c in table:
            rows.append([kind, name, c.filed, c.resolved, c.open, c.overdue, stats.fmt_rate(c.response_rate),
                         stats.fmt_rate(c.resolve_rate), stats.fmt_rate(c.satisfaction_rate)])
    log_action("export_stats")
    return export.xlsx_response("sanlv", wt("sheet_stats"), export.columns("export_stats"), rows)
