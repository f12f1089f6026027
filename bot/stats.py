"""The 三率 and the counts behind them, shared by the daily digest, 今日/统计 and the monthly report.

Definitions (docs/SANLV.md), over a set of tickets (those filed in a period):
- 响应率: of the tickets whose first acknowledge deadline has passed or that got a response, the
  share whose first response (接单, else 办结, else closing) came by that deadline.
- 解决率: of the tickets not closed as duplicates or out of scope, the share now 办结 (resolved or
  closed after a resolution; a reopened ticket counts again only once resolved again).
- 满意率: of the rated tickets, the share rated 3 (基本满意) or better.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Patch, Ticket
from bot.tickets import states
from bot.timeutil import CHINA, to_local

SATISFIED_MIN = 3   # 基本满意 and better; 2 and below reopen the ticket
UNACKNOWLEDGED = ("open", "reopened")


@dataclass
class Counts:
    """Counts for one set of tickets; the rates are None when nothing can be judged yet."""

    filed: int = 0
    resolved: int = 0
    open: int = 0
    overdue: int = 0
    late: int = 0
    response_due: int = 0
    responded_on_time: int = 0
    resolvable: int = 0
    rated: int = 0
    satisfied: int = 0
    unsatisfied: int = 0

    @property
    def response_rate(self) -> float | None:
        """响应率."""
        return self.responded_on_time / self.response_due if self.response_due else None

    @property
    def resolve_rate(self) -> float | None:
        """解决率."""
        return self.resolved / self.resolvable if self.resolvable else None

    @property
    def satisfaction_rate(self) -> float | None:
        """满意率."""
        return self.satisfied / self.rated if self.rated else None


def first_response(ticket: Ticket) -> datetime | None:
    """When someone first acted for the resident: 接单, else 办结, else closing."""
    times = [t for t in (ticket.acknowledged_at, ticket.resolved_at, ticket.closed_at) if t is not None]
    return min(times) if times else None


def is_open(ticket: Ticket) -> bool:
    """Someone still has to act."""
    return states.is_open(ticket.status)


def is_overdue(ticket: Ticket, now: datetime) -> bool:
    """Open, not waiting for the resident, and past its acknowledge (if unacknowledged) or resolve deadline."""
    if not is_open(ticket) or ticket.status == "waiting":
        return False
    if ticket.status in UNACKNOWLEDGED and ticket.acknowledge_by is not None and now > ticket.acknowledge_by:
        return True
    return ticket.resolve_by is not None and now > ticket.resolve_by


def missed_deadline(ticket: Ticket, now: datetime) -> bool:
    """Responded late, resolved late, or overdue now (for the monthly review)."""
    response = first_response(ticket)
    respond_by = ticket.respond_by or ticket.acknowledge_by
    if response is not None and respond_by is not None and response > respond_by:
        return True
    if ticket.resolved_at is not None and ticket.resolve_by is not None and ticket.resolved_at > ticket.resolve_by:
        return True
    return is_overdue(ticket, now)


def tally(tickets: Iterable[Ticket], now: datetime) -> Counts:
    """The counts and rates for ``tickets`` as of ``now``."""
    c = Counts()
    for tk in tickets:
        c.filed += 1
        response = first_response(tk)
        respond_by = tk.respond_by or tk.acknowledge_by
        if response is not None or (respond_by is not None and respond_by <= now):
            c.response_due += 1
            if response is not None and (respond_by is None or response <= respond_by):
                c.responded_on_time += 1
        closed_unresolved = tk.status == "closed" and tk.resolved_at is None
        if not closed_unresolved:
            c.resolvable += 1
            if tk.resolved_at is not None and states.state_type(tk.status) in ("resolved", "closed"):
                c.resolved += 1
        if is_open(tk):
            c.open += 1
        c.overdue += is_overdue(tk, now)
        c.late += missed_deadline(tk, now)
        if tk.rating is not None:
            c.rated += 1
            c.satisfied += tk.rating >= SATISFIED_MIN
            c.unsatisfied += tk.rating < SATISFIED_MIN
    return c


def fmt_rate(rate: float | None) -> str:
    """0.875 → "87.5%"; None → "—"."""
    return "—" if rate is None else f"{rate * 100:.1f}%"


# --- periods and scopes -----------------------------------------------------------------------

def day_bounds(day: date) -> tuple[datetime, datetime]:
    """A China-time day as a naive-UTC [start, end) range."""
    start = datetime.combine(day, time(0)) - CHINA.utcoffset(None)
    return start, start + timedelta(days=1)


def local_today(now: datetime) -> date:
    """The China-time date of a naive-UTC instant."""
    return to_local(now).date()


def scope(query, jurisdiction: str | None):
    """Limit a ticket query to a village, or to a town (all its villages); None means everywhere."""
    if jurisdiction:
        query = query.where((Ticket.village == jurisdiction) | (Ticket.town == jurisdiction))
    return query


def covers(jurisdiction: str | None, ticket: Ticket) -> bool:
    """Whether a cadre's jurisdiction (a village, or the town containing it) covers the ticket. A ticket
    nobody could place (no village, no town) was pushed to every cadre to dispatch by hand: every cadre
    covers it until 派单 gives it the worker's patch."""
    if not jurisdiction:
        return False
    places = {v for v in (ticket.village, ticket.town) if v}
    return not places or jurisdiction in places


def filed_between(session: Session, start: datetime, end: datetime, jurisdiction: str | None = None) -> list[Ticket]:
    """Tickets filed in [start, end), in scope."""
    return list(session.scalars(scope(select(Ticket), jurisdiction).where(
        Ticket.requested_at >= start, Ticket.requested_at < end).order_by(Ticket.number)))


def resolved_between(session: Session, start: datetime, end: datetime, jurisdiction: str | None = None) -> int:
    """How many tickets were 办结 in [start, end), in scope."""
    return len(list(session.scalars(scope(select(Ticket.id), jurisdiction).where(
        Ticket.resolved_at >= start, Ticket.resolved_at < end))))


def open_tickets(session: Session, jurisdiction: str | None = None) -> list[Ticket]:
    """Every open ticket in scope."""
    open_states = [s for s, kind in states.STATE_TYPES.items() if kind == "open"]
    return list(session.scalars(scope(select(Ticket), jurisdiction).where(Ticket.status.in_(open_states))
                                .order_by(Ticket.number)))


def overdue_tickets(session: Session, now: datetime, jurisdiction: str | None = None) -> list[Ticket]:
    """Open tickets past a deadline, in scope."""
    return [tk for tk in open_tickets(session, jurisdiction) if is_overdue(tk, now)]


def group_by(tickets: Iterable[Ticket], key) -> dict:
    """Tickets grouped by ``key(ticket)``, keys in first-seen order."""
    out: dict = {}
    for tk in tickets:
        out.setdefault(key(tk), []).append(tk)
    return out


def patches_in(session: Session, jurisdiction: str | None) -> list[Patch]:
    """The patches of a village or town (every patch for None)."""
    query = select(Patch).order_by(Patch.code)
    if jurisdiction:
        query = query.where((Patch.village == jurisdiction) | (Patch.town == jurisdiction))
    return list(session.scalars(query))
