"""Deadlines and escalation: remind the grid worker, then the village cadre, then the town cadre.

``check_deadlines`` is a sweep step. Each breach is recorded as a ``TicketEscalation`` row, unique
per (ticket, kind) where the kind names the clock and its round (restarted on reopen or dispatch), in the same transaction as the pushes it
makes, so a breach is pushed once however often the sweep runs and whatever restarts between.
"""
from __future__ import annotations

import logging
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import alerts, outbox, runtime, sla, texts
from bot.db import add_unique, session_scope
from bot.delivery import enqueue_rows
from bot.models import Outbox, Person, Ticket, TicketEscalation, TicketEvent, Whistle
from bot.tickets import routing, states
from bot.timeutil import fmt_local, utcnow

log = logging.getLogger(__name__)

UNACKNOWLEDGED = ("open", "reopened")
KIND_OF_TEMPLATE = {"push_unrouted": "unrouted", "push_returned": "returned", "push_reopened": "unsatisfied"}


def t(key: str, **fields) -> str:
    """A cadre text."""
    return texts.t(f"cadre.{key}", **fields)


def village_cadres(session: Session, ticket: Ticket) -> list[str]:
    """The cadres of the ticket's village (else its town, else every cadre)."""
    return [p.userid for p in routing.cadres_for(session, ticket.village, ticket.town)]


def town_cadres(session: Session, ticket: Ticket) -> list[str]:
    """The cadres of the ticket's town (else its village, else every cadre)."""
    return [p.userid for p in routing.cadres_for(session, ticket.town, ticket.village)]


def record(session: Session, ticket: Ticket, kind: str, deadline: datetime | None, now: datetime) -> bool:
    """Record a breach; False when it was recorded before (nothing more to do)."""
    if session.scalar(select(TicketEscalation.id).where(TicketEscalation.ticket_id == ticket.id,
                                                        TicketEscalation.kind == kind)) is not None:
        return False
    return add_unique(session, TicketEscalation(ticket_id=ticket.id, kind=kind, deadline=deadline, created_at=now))


def _round(session: Session, ticket: Ticket, actions: tuple[str, ...]) -> int:
    """How often a clock was restarted (reopened, or dispatched again): one breach per round."""
    return session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action.in_(actions))) or 0


def _fields(session: Session, ticket: Ticket) -> dict:
    from bot.tickets import service

    assignee = session.scalar(select(Person).where(Person.userid == ticket.assignee_userid)) \
        if ticket.assignee_userid else None
    return {"number": ticket.number, "category": ticket.service_name, "place": service.place_of(ticket, session),
            "description": service.description_for(ticket, limit=80), "status": service.status_name(ticket.status),
            "assignee": (assignee.name if assignee else ticket.assignee_userid) or t("nobody"),
            "requested": fmt_local(ticket.requested_at), "acknowledge_by": fmt_local(ticket.acknowledge_by),
            "resolve_by": fmt_local(ticket.resolve_by)}


def _check_ticket(session: Session, ticket: Ticket, now: datetime) -> tuple[list[alerts.Push], list[Outbox]]:
    pushes: list[alerts.Push] = []
    rows: list[Outbox] = []
    whistled = session.scalar(select(Whistle.id).where(Whistle.ticket_id == ticket.id,
                                                       Whistle.status != "resolved").limit(1)) is not None
    ack_round = _round(session, ticket, ("reopen", "assign"))
    if ticket.status in UNACKNOWLEDGED and ticket.acknowledge_by is not None and not whistled:
        remind_at = ticket.acknowledge_by - sla.limits_for(ticket).remind
        if now >= ticket.acknowledge_by:
            if record(session, ticket, f"ack:{ack_round}", ticket.acknowledge_by, now):
                pushes += alerts.raise_alerts(
                    session, village_cadres(session, ticket), "ack_overdue",
                    t("alert_ack_overdue", **_fields(session, ticket)),
                    f"ack:{ticket.id}:{ack_round}", ticket_id=ticket.id, now=now)
        elif (now >= remind_at and ticket.assignee_userid
              and record(session, ticket, f"remind:{ack_round}", ticket.acknowledge_by, now)):
            rows += outbox.queue_text(session, ticket.assignee_userid, t("remind_worker", **_fields(session, ticket)),
                                      dedupe_key=f"remind:{ticket.id}:{ack_round}")
    if ticket.resolve_by is not None and now >= ticket.resolve_by:
        resolve_round = _round(session, ticket, ("reopen",))
        if record(session, ticket, f"resolve:{resolve_round}", ticket.resolve_by, now):
            pushes += alerts.raise_alerts(
                session, town_cadres(session, ticket), "resolve_overdue",
                t("alert_resolve_overdue", **_fields(session, ticket)),
                f"resolve:{ticket.id}:{resolve_round}", ticket_id=ticket.id, now=now)
    return pushes, rows


def _check_whistle(session: Session, whistle: Whistle, now: datetime) -> list[alerts.Push]:
    ticket = session.get(Ticket, whistle.ticket_id)
    if ticket is None or not record(session, ticket, f"whistle:{whistle.id}", whistle.report_by, now):
        return []
    return alerts.raise_alerts(
        session, town_cadres(session, ticket), "whistle_overdue",
        t("alert_whistle_overdue", department=whistle.department, blown=fmt_local(whistle.blown_at),
          **_fields(session, ticket)),
        f"whistle:{whistle.id}", ticket_id=ticket.id, now=now)


URGENT = ("high", "emergency")


def check_deadlines(now: datetime | None = None) -> int:
    """Sweep step: act on every passed deadline once; return how many tickets were looked at."""
    rt = runtime.get()
    url = rt.config.DATABASE_URL
    now = now or utcnow()
    horizon = now + max([lim.remind for lim in [sla.load().default, *sla.load().categories.values(),
                                                *sla.load().urgency.values()]])
    open_states = [s for s, kind in states.STATE_TYPES.items() if kind == "open" and s != "waiting"]
    with session_scope(url) as s:
        due = list(s.scalars(select(Ticket.id).where(
            Ticket.status.in_(open_states),
            ((Ticket.status.in_(UNACKNOWLEDGED) & (Ticket.acknowledge_by <= horizon))
             | (Ticket.resolve_by <= now))).order_by(Ticket.id)))
        whistles = list(s.scalars(select(Whistle.id).where(Whistle.status == "blown", Whistle.report_by <= now)))
    for ticket_id in due:
        with session_scope(url) as s:
            ticket = s.get(Ticket, ticket_id)
            if ticket is None or ticket.status not in open_states:
                continue
            pushes, rows = _check_ticket(s, ticket, now)
            rows += alerts.queue(s, pushes)
        enqueue_rows(rows)
    for whistle_id in whistles:
        with session_scope(url) as s:
            whistle = s.get(Whistle, whistle_id)
            if whistle is None or whistle.status != "blown":
                continue
            rows = alerts.queue(s, _check_whistle(s, whistle, now))
        enqueue_rows(rows)
    return len(due)


# --- hooks called from the ticket service -----------------------------------------------------

def cadre_push(session: Session, ticket, event, template: str, text: str) -> list:
    """The ticket service's cadre pushes (unrouted, returned, unsatisfied) as batched alerts."""
    kind = KIND_OF_TEMPLATE.get(template, template)
    pushes = alerts.raise_alerts(session, village_cadres(session, ticket), kind, text,
                                 f"ticket:{ticket.id}:ev{event.id}", ticket_id=ticket.id,
                                 urgent=ticket.urgency in URGENT, now=event.at)
    return alerts.as_notices(pushes)


def on_filed(session: Session, ticket, event) -> list:
    """A new urgent ticket: its village cadres hear at once (an unrouted one already did)."""
    if ticket.urgency not in URGENT:
        return []
    from bot.tickets import service

    text = t("alert_urgent", **_fields(session, ticket), reporter=service._reporter_fields(session, ticket)["reporter"])
    pushes = alerts.raise_alerts(session, village_cadres(session, ticket), "urgent", text,
                                 f"urgent:{ticket.id}", ticket_id=ticket.id, urgent=True, now=event.at)
    return alerts.as_notices(pushes)
