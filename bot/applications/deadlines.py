"""Deadlines from the entry's time limit (working days), with the tickets' reminders and escalation.

``check_deadlines`` is a sweep step. Before the deadline the grid worker (while verifying) or the
village's cadres are reminded; when it passes the village's cadres are alerted; one working day
later the town's cadres. Each is an ``ApplicationEscalation`` row, unique per (application, kind)
with the round restarted by each 补充, written with its pushes, so each is sent once.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import alerts, outbox, runtime
from bot.applications import service, states
from bot.db import add_unique, session_scope
from bot.delivery import enqueue_rows
from bot.models import Application, ApplicationEscalation, ApplicationEvent, Outbox
from bot.timeutil import fmt_local, utcnow
from bot.workdays import add_working_days

REMIND_BEFORE = timedelta(hours=24)


def _record(session: Session, app: Application, kind: str, now: datetime) -> bool:
    if session.scalar(select(ApplicationEscalation.id).where(ApplicationEscalation.application_id == app.id,
                                                             ApplicationEscalation.kind == kind)) is not None:
        return False
    return add_unique(session, ApplicationEscalation(application_id=app.id, kind=kind, created_at=now))


def remind_at(app: Application) -> datetime:
    """A day before the deadline, or half-way for shorter limits."""
    span = app.due_at - app.requested_at
    return app.due_at - min(REMIND_BEFORE, span / 2)


def _check(session: Session, app: Application, now: datetime) -> tuple[list[alerts.Push], list[Outbox]]:
    rounds = session.scalar(select(func.count()).select_from(ApplicationEvent).where(
        ApplicationEvent.application_id == app.id, ApplicationEvent.action == "resubmit")) or 0
    fields = {"number": app.number, "certificate": app.certificate_name, "status": service.status_name(app.status),
              "due": fmt_local(app.due_at), "village": app.village}
    pushes: list[alerts.Push] = []
    rows: list[Outbox] = []
    cadres = [c.userid for c in service.deciders(session, app)]
    if now >= add_working_days(app.due_at, 1):
        if _record(session, app, f"town:{rounds}", now):
            pushes += alerts.raise_alerts(session, [c.userid for c in service.town_cadres(session, app)],
                                          "application_overdue", service.t("alert_town", **fields),
                                          f"app-town:{app.id}:{rounds}", now=now)
    if now >= app.due_at:
        if _record(session, app, f"overdue:{rounds}", now):
            pushes += alerts.raise_alerts(session, cadres, "application_overdue", service.t("alert_overdue", **fields),
                                          f"app-overdue:{app.id}:{rounds}", now=now)
    elif now >= remind_at(app) and _record(session, app, f"remind:{rounds}", now):
        if app.status == "verifying" and app.verifier_userid:
            rows += outbox.queue_text(session, app.verifier_userid, service.t("remind_verifier", **fields),
                                      dedupe_key=f"app-remind:{app.id}:{rounds}")
        else:
            pushes += alerts.raise_alerts(session, cadres, "application_remind", service.t("remind_cadre", **fields),
                                          f"app-remind:{app.id}:{rounds}", now=now)
    return pushes, rows


def check_deadlines(now: datetime | None = None) -> int:
    """Sweep step: remind and escalate open applications near or past their deadline; return how many."""
    rt = runtime.get()
    url = rt.config.DATABASE_URL
    now = now or utcnow()
    with session_scope(url) as s:
        due = list(s.scalars(select(Application.id).where(
            Application.status.in_(states.of_type("open")), Application.due_at.is_not(None),
            Application.due_at <= now + REMIND_BEFORE).order_by(Application.id)))
    for app_id in due:
        with session_scope(url) as s:
            app = s.get(Application, app_id)
            if app is None or states.STATE_TYPES.get(app.status) != "open":
                continue
            pushes, rows = _check(s, app, now)
            rows += alerts.queue(s, pushes)
        enqueue_rows(rows)
    return len(due)
