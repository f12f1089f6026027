"""Who may see and do what in the workbench. ``may`` is the one rule every view asks.

The roster decides: a cadre sees their jurisdiction (a village, or the town containing it), a grid
worker their own patch (and what is assigned to them); residents, building heads and department
liaisons get nothing here. The ticket rules are the chat's own: ``bot.stats.covers`` for a cadre's
area, ``bot.tickets.service.can_view`` / ``may_change`` for the assignee, so a page never allows
what a chat command would refuse.
"""
from __future__ import annotations

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from bot import stats
from bot.models import Patch, Person, Ticket
from bot.tickets import service
from bot.workbench import AREAS

CADRE_ACTIONS = ("dispatch", "nudge")   # 派单, 催办: cadres of the ticket's area, as in chat


def may_use(person: Person | None) -> bool:
    """Whether ``person`` may sign in at all: a cadre with a jurisdiction or a grid worker with a patch."""
    if person is None:
        return False
    if person.role == "cadre":
        return bool(person.jurisdiction)
    return person.role == "grid_worker" and bool(person.patch)


def sees(session: Session, person: Person, ticket: Ticket) -> bool:
    """Whether the ticket is in ``person``'s part of the roster."""
    if person.role == "cadre":
        return stats.covers(person.jurisdiction, ticket) or service.can_view(session, ticket, person.userid, person)
    return ticket.patch_code == person.patch or service.can_view(session, ticket, person.userid, person)


def may(session: Session, person: Person | None, action: str, ticket: Ticket | None = None) -> bool:
    """The rule: may ``person`` do ``action`` (an area name, or a ticket action: view, photo,
    dispatch, nudge, whistle) — on ``ticket`` when given."""
    if not may_use(person):
        return False
    if ticket is None:
        return any(a.name == action and person.role in a.roles for a in AREAS)
    if not sees(session, person, ticket):
        return False
    if action in ("view", "photo", "export"):
        return True
    if action in CADRE_ACTIONS:
        return person.role == "cadre" and stats.covers(person.jurisdiction, ticket)
    if action == "whistle":
        return service.may_change(ticket, person)
    return False


def scope_tickets(query, person: Person, unplaced: bool = False):
    """Limit a ticket query to what ``person`` sees (the list, the map, the exports). With ``unplaced``,
    a cadre also sees the tickets nobody could place, which every cadre may dispatch (``stats.covers``);
    the 三率 leave them out of every area's rates."""
    if person.role == "cadre":
        area = or_(Ticket.village == person.jurisdiction, Ticket.town == person.jurisdiction)
        if unplaced:
            area = or_(area, and_(Ticket.village.is_(None), Ticket.town.is_(None)))
        return query.where(area)
    return query.where(or_(Ticket.patch_code == person.patch, Ticket.assignee_userid == person.userid))


def patches_for(session: Session, person: Person) -> list[Patch]:
    """The patches in ``person``'s view: a cadre's village or town, a grid worker's own."""
    if person.role == "cadre":
        return stats.patches_in(session, person.jurisdiction)
    return list(session.scalars(select(Patch).where(Patch.code == person.patch)))
