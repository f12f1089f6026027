"""三必到: the tickets a grid worker must attend in person, and their arrival.

A ticket is must-attend when its urgency is ``emergency`` or ``high``, its category says
``must_attend: true`` (disputes), or a village cadre marked it special (``专项 #n``). Its arrival
deadline (``arrive_by``) comes from the ``arrive`` duration in ``knowledge/sla.yaml``: the
category's entry, else its urgency's (an emergency or a special task falls back to ``high``'s),
else ``default``'s. The assigned grid worker confirms arrival with ``到场 #n`` or by sending their
location; the distance is measured from the ticket's location, else its patch centre.

This module only reads tickets (the ticket service calls it for deadlines and pushes); the
actions, 到场 and 专项, are in ``bot.visits.service``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import sla, texts
from bot.models import Patch, Person, Ticket
from bot.tickets import categories, routing, states
from bot.timeutil import fmt_local

URGENT = ("emergency", "high")


def is_must_attend(ticket: Ticket) -> bool:
    """Emergency or high urgency, a must-attend category (disputes), or marked special."""
    return (ticket.urgency in URGENT or categories.get(ticket.service_code).must_attend
            or ticket.special_by is not None)


def arrive_limit(ticket: Ticket) -> timedelta | None:
    """How long the grid worker has to arrive, from the SLA file (None: no deadline)."""
    table = sla.load()
    for entry in (table.categories.get(ticket.service_code), table.urgency.get(ticket.urgency),
                  table.urgency.get("high"), table.default):
        if entry is not None and entry.arrive is not None:
            if entry is table.urgency.get("high") and ticket.urgency not in URGENT and ticket.special_by is None:
                continue  # a dispute without its own entry does not borrow the urgent deadline
            return entry.arrive
    return None


def start(ticket: Ticket, now: datetime) -> None:
    """Set a must-attend ticket's arrival deadline from ``now`` (a new ticket, or one just marked special)."""
    if is_must_attend(ticket) and ticket.arrived_at is None:
        limit = arrive_limit(ticket)
        ticket.arrive_by = now + limit if limit else None


def worker_lines(ticket: Ticket, session: Session) -> str:
    """The lines a must-attend or 代报 ticket adds to the grid worker's push (empty otherwise)."""
    lines = []
    if ticket.on_behalf_of:
        reporter = session.scalar(select(Person).where(Person.userid == ticket.reporter_userid))
        role = texts.t(f"visits.role_{reporter.role}") if reporter and texts.has(f"visits.role_{reporter.role}") else ""
        lines.append(texts.t("visits.on_behalf_line", role=role, name=reporter.name if reporter else "",
                             neighbour=ticket.on_behalf_of))
    if is_must_attend(ticket):
        lines.append(texts.t("visits.must_attend_line", number=ticket.number,
                             by=fmt_local(ticket.arrive_by) if ticket.arrive_by else texts.t("visits.asap")))
    return "\n".join(lines)


def held_unarrived(session: Session, userid: str) -> list[Ticket]:
    """The open must-attend tickets assigned to ``userid`` that still wait for their arrival."""
    open_states = [s for s, kind in states.STATE_TYPES.items() if kind == "open"]
    held = session.scalars(select(Ticket).where(Ticket.assignee_userid == userid, Ticket.status.in_(open_states),
                                                Ticket.arrived_at.is_(None)).order_by(Ticket.number))
    return [tk for tk in held if is_must_attend(tk)]


def distance_from(session: Session, ticket: Ticket, lat: float | None, lng: float | None) -> float | None:
    """Metres from the ticket's location, else from its patch centre; None without a location."""
    if lat is None or lng is None:
        return None
    if ticket.lat is not None and ticket.long is not None:
        return routing.distance_m(lat, lng, ticket.lat, ticket.long)
    patch = session.scalar(select(Patch).where(Patch.code == ticket.patch_code)) if ticket.patch_code else None
    if patch is not None and patch.lat is not None and patch.lng is not None:
        return routing.distance_m(lat, lng, patch.lat, patch.lng)
    return None


def minutes_to_arrive(ticket: Ticket) -> int | None:
    """Minutes from filing to arrival."""
    if ticket.arrived_at is None or ticket.requested_at is None:
        return None
    return max(round((ticket.arrived_at - ticket.requested_at).total_seconds() / 60), 0)


def distance_text(metres: float | None) -> str:
    """120 → 约120米; 2345 → 约2.3公里; None → 未发送位置."""
    if metres is None:
        return texts.t("visits.distance_unknown")
    if metres >= 1000:
        return texts.t("visits.distance_km", km=f"{metres / 1000:.1f}")
    return texts.t("visits.distance_m", m=round(metres))


@dataclass
class ArrivalCounts:
    """三必到 over a set of tickets: how many had to be attended, how many were, and how fast."""

    required: int = 0
    arrived: int = 0
    minutes: list[int] | None = None

    @property
    def mean_minutes(self) -> float | None:
        return sum(self.minutes) / len(self.minutes) if self.minutes else None


def tally(tickets: Iterable[Ticket]) -> ArrivalCounts:
    """The arrival counts and the mean minutes from filing to arrival."""
    c = ArrivalCounts(minutes=[])
    for tk in tickets:
        if tk.arrived_at is not None or is_must_attend(tk):
            c.required += 1
        minutes = minutes_to_arrive(tk)
        if minutes is not None:
            c.arrived += 1
            c.minutes.append(minutes)
    return c


def fmt_minutes(value: float | None) -> str:
    """35.4 → "35分钟"; None → "—"."""
    return "—" if value is None else texts.t("visits.minutes", minutes=round(value))
