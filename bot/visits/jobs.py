"""Sweep steps: the Monday list of households due (四必访) and the arrival reminders (三必到).

``send_weekly``: on Mondays from ``QINGCHE_DIGEST_TIME`` (China time; ``off`` sends none), each grid
worker with households gets the ones due or overdue this week, once per week (a
``VisitReminderSent`` row, unique per worker and week, written with the outbox row). The list
names households and their kinds: it goes to the patch's own worker only.

``check_arrivals``: a must-attend ticket whose arrival deadline passed with no arrival reminds its
grid worker and alerts the village cadres, once each (``TicketEscalation`` rows ``arrive:worker``
and ``arrive:cadre``, as ``bot.escalation`` records its breaches).
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import alerts, digest, escalation, outbox, runtime, texts
from bot.db import add_unique, session_scope
from bot.delivery import enqueue_rows
from bot.models import Person, Ticket
from bot.tickets import service as tickets
from bot.tickets import states
from bot.timeutil import fmt_local, to_local, utcnow
from bot.visits import attend, service
from bot.visits.models import Household, VisitReminderSent

log = logging.getLogger(__name__)
LIST_MAX = 30


def send_weekly(now: datetime | None = None) -> int:
    """Sweep step: this week's due households to each grid worker once; return how many were sent."""
    rt = runtime.get()
    url = rt.config.DATABASE_URL
    now = now or utcnow()
    if to_local(now).weekday() != 0 or digest.due_day(now, rt.config.QINGCHE_DIGEST_TIME) is None:
        return 0
    week, _, _ = service.week_bounds(now)
    with session_scope(url) as s:
        done = set(s.scalars(select(VisitReminderSent.worker_userid).where(VisitReminderSent.week == week)))
        patches = set(s.scalars(select(Household.patch_code).distinct()))
        workers = [p.userid for p in s.scalars(select(Person).where(Person.role == "grid_worker").order_by(Person.id))
                   if p.patch in patches]
    sent = 0
    for userid in workers:
        if userid in done:
            continue
        with session_scope(url) as s:
            rows = _send_one(s, userid, week, now)
        enqueue_rows(rows)
        sent += bool(rows)
    if sent:
        log.info("weekly visit lists sent to %s grid workers", sent)   # counts only: never names
    return sent


def weekly_text(session: Session, worker: Person, now: datetime) -> str:
    """The Monday list for one grid worker (their own households: names and kinds are theirs to see)."""
    due = service.due_for(session, worker, now)
    if not due:
        return texts.t("visits.weekly_none", name=worker.name)
    lines = [texts.t("visits.weekly_header", name=worker.name, count=len(due),
                     overdue=sum(1 for _h, _d, late in due if late))]
    for h, next_due, late in due[:LIST_MAX]:
        when = (texts.t("visits.weekly_never") if next_due is None
                else texts.t("visits.weekly_overdue", due=fmt_local(next_due, "%m月%d日")) if late
                else texts.t("visits.weekly_due", due=fmt_local(next_due, "%m月%d日")))
        lines.append(texts.t("visits.weekly_line", household=service.label(h), kind=service.kind_name(h), when=when))
    if len(due) > LIST_MAX:
        lines.append(texts.t("visits.weekly_more", count=len(due) - LIST_MAX))
    lines.append(texts.t("visits.weekly_footer"))
    return "\n".join(lines)


def _send_one(session: Session, userid: str, week, now: datetime) -> list:
    if not add_unique(session, VisitReminderSent(worker_userid=userid, week=week, created_at=now)):
        return []
    worker = session.scalar(select(Person).where(Person.userid == userid))
    return outbox.queue_text(session, userid, weekly_text(session, worker, now), dedupe_key=f"visits:week:{userid}:{week}")


def check_arrivals(now: datetime | None = None) -> int:
    """Sweep step: act once on every must-attend ticket past its arrival deadline; return how many."""
    rt = runtime.get()
    url = rt.config.DATABASE_URL
    now = now or utcnow()
    open_states = [s for s, kind in states.STATE_TYPES.items() if kind == "open"]
    with session_scope(url) as s:
        due = list(s.scalars(select(Ticket.id).where(Ticket.arrive_by <= now, Ticket.arrived_at.is_(None),
                                                     Ticket.status.in_(open_states)).order_by(Ticket.id)))
    for ticket_id in due:
        with session_scope(url) as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None or ticket.arrived_at is not None or not attend.is_must_attend(ticket):
                continue
            rows = _remind(s, ticket, now)
        enqueue_rows(rows)
    return len(due)


def _remind(session: Session, ticket: Ticket, now: datetime) -> list:
    fields = {"number": ticket.number, "category": ticket.service_name, "by": fmt_local(ticket.arrive_by),
              "place": tickets.place_of(ticket, session)}
    rows = []
    if ticket.assignee_userid and escalation.record(session, ticket, "arrive:worker", ticket.arrive_by, now):
        rows += outbox.queue_text(session, ticket.assignee_userid, texts.t("visits.remind_arrive", **fields),
                                  dedupe_key=f"arrive:{ticket.id}:worker")
    if escalation.record(session, ticket, "arrive:cadre", ticket.arrive_by, now):
        assignee = session.scalar(select(Person).where(Person.userid == ticket.assignee_userid)) \
            if ticket.assignee_userid else None
        text = texts.t("visits.alert_arrive_overdue", assignee=assignee.name if assignee else texts.t("visits.nobody"),
                       **fields)
        pushes = alerts.raise_alerts(session, escalation.village_cadres(session, ticket), "arrive_overdue", text,
                                     f"arrive:{ticket.id}", ticket_id=ticket.id, urgent=True, now=now)
        rows += alerts.queue(session, pushes)
    return rows
