"""吹哨报到: a grid worker or cadre calls a city department in on a ticket; its liaison reports in
(报到) within the SLA file's ``whistle.report`` and closes it (办结). Returns notices like the ticket
service; an unanswered whistle is escalated by ``bot.escalation.check_deadlines``."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import sla, texts
from bot.models import Person, Ticket, Whistle
from bot.tickets import service, states
from bot.tickets.service import SYSTEM, Notice
from bot.tickets.words import plain
from bot.timeutil import fmt_local, utcnow

ACTIVE = ("blown", "reported")
DEPARTMENT_SUFFIXES = ("局", "所", "队", "大队", "中心")


class WhistleError(Exception):
    """A refused whistle action; ``message`` is the user-facing text."""

    def __init__(self, key: str, **fields):
        super().__init__(key)
        self.message = texts.t(f"cadre.{key}", **fields)


def departments(session: Session) -> list[str]:
    """Departments that have a liaison on the roster."""
    return sorted({d for d in session.scalars(select(Person.department).where(
        Person.role == "department", Person.department.is_not(None))) if d})


def split_department(session: Session, rest: str) -> tuple[str | None, str]:
    """(department named at the start of ``rest``, the rest); 城管 matches 城管局."""
    text = rest.strip()
    p = plain(text)
    best = None
    for dept in departments(session):
        forms = {plain(dept)} | {plain(dept[: -len(s)]) for s in DEPARTMENT_SUFFIXES
                                 if dept.endswith(s) and len(dept) > len(s) + 1}
        for form in forms:
            if form and p.startswith(form) and (best is None or len(form) > len(best[1])):
                best = (dept, form)
    if best is None:
        return None, text
    # drop the department's characters from the front of the original text
    taken, i = 0, 0
    while i < len(text) and taken < len(best[1]):
        if plain(text[i]):
            taken += 1
        i += 1
    return best[0], text[i:].strip(" \t:：,，。")


def liaison_for(session: Session, department: str) -> Person | None:
    """The department's liaison."""
    return session.scalar(select(Person).where(Person.role == "department", Person.department == department)
                          .order_by(Person.id).limit(1))


def active_for(session: Session, ticket: Ticket, department: str | None = None) -> list[Whistle]:
    """The ticket's whistles that are not yet closed (one department's, if given)."""
    query = select(Whistle).where(Whistle.ticket_id == ticket.id, Whistle.status.in_(ACTIVE))
    if department:
        query = query.where(Whistle.department == department)
    return list(session.scalars(query.order_by(Whistle.id)))


def _fields(session: Session, ticket: Ticket) -> dict:
    return {"number": ticket.number, "category": ticket.service_name, "place": service.place_of(ticket, session),
            "description": service.description_for(ticket)}


def blow(session: Session, ticket: Ticket, actor: Person, rest: str, now: datetime | None = None
         ) -> tuple[Whistle, list[Notice]]:
    """吹哨: record the whistle and push the department's liaison."""
    now = now or utcnow()
    if not service.may_change(ticket, actor):
        raise WhistleError("whistle_not_allowed", number=ticket.number)
    if not states.is_open(ticket.status):
        raise WhistleError("whistle_closed", number=ticket.number, status=service.status_name(ticket.status))
    department, note = split_department(session, rest)
    department = department or ticket.agency_responsible or ""
    liaison = liaison_for(session, department) if department else None
    if liaison is None:
        raise WhistleError("whistle_no_department", department=department or "—",
                           departments="、".join(departments(session)), number=ticket.number)
    if active_for(session, ticket, department):
        raise WhistleError("whistle_already", number=ticket.number, department=department)
    whistle = Whistle(ticket_id=ticket.id, department=department, liaison_userid=liaison.userid,
                      blown_by=actor.userid, note=note, status="blown", blown_at=now,
                      report_by=now + sla.load().whistle_report)
    session.add(whistle)
    session.flush()
    service.add_event(session, ticket, actor, "whistle", f"{department}：{note}".rstrip("："), now=now)
    text = texts.t("cadre.whistle_push", department=department, who=actor.name or actor.userid,
                   note=note or texts.t("cadre.no_note"), report_by=fmt_local(whistle.report_by),
                   **_fields(session, ticket))
    return whistle, [Notice(liaison.userid, text, f"whistle:{whistle.id}:push")]


def _whistle_for(session: Session, ticket: Ticket, liaison: Person) -> Whistle:
    found = active_for(session, ticket, liaison.department)
    if liaison.role != "department" or not found:
        raise WhistleError("report_no_whistle", number=ticket.number)
    return found[0]


def _to_staff(session: Session, ticket: Ticket, whistle: Whistle, key: str, text: str) -> list[Notice]:
    """The same news to whoever blew the whistle and the ticket's grid worker."""
    people = dict.fromkeys(u for u in (whistle.blown_by, ticket.assignee_userid) if u)
    return [Notice(u, text, f"whistle:{whistle.id}:{key}:{u}") for u in people]


def report(session: Session, ticket: Ticket, liaison: Person, now: datetime | None = None
           ) -> tuple[Whistle, list[Notice]]:
    """报到: the liaison takes it on; the resident hears that the department is handling it."""
    now = now or utcnow()
    whistle = _whistle_for(session, ticket, liaison)
    if whistle.status == "reported":
        raise WhistleError("report_already", number=ticket.number)
    whistle.status = "reported"
    whistle.reported_at = now
    whistle.reported_by = liaison.userid
    event = service.add_event(session, ticket, liaison, "report", whistle.department, now=now)
    notices = service._to_residents(session, ticket, event, texts.t(
        "cadre.whistle_resident", number=ticket.number, category=ticket.service_name, department=whistle.department))
    return whistle, notices + _to_staff(session, ticket, whistle, "reported", texts.t(
        "cadre.whistle_reported_staff", number=ticket.number, department=whistle.department,
        name=liaison.name or liaison.userid))


def resolve(session: Session, ticket: Ticket, liaison: Person, note: str, now: datetime | None = None
            ) -> tuple[Whistle, list[Notice]]:
    """办结 by the liaison: the whistle closes and, if still open, so does the ticket (the resident rates)."""
    now = now or utcnow()
    whistle = _whistle_for(session, ticket, liaison)
    whistle.reported_at = whistle.reported_at or now
    whistle.reported_by = whistle.reported_by or liaison.userid
    whistle.status = "resolved"
    whistle.resolved_at = now
    whistle.resolve_note = note
    service.add_event(session, ticket, liaison, "whistle_resolve", f"{whistle.department}：{note}", now=now)
    notices: list[Notice] = []
    if states.allowed(ticket.status, "resolve"):
        notices = service.resolve(session, ticket, SYSTEM, f"{whistle.department}：{note}", now)
    return whistle, notices + _to_staff(session, ticket, whistle, "resolved", texts.t(
        "cadre.whistle_resolved_staff", number=ticket.number, department=whistle.department, note=note))
