"""Visits (四必访) and arrivals (三必到): one function per action, returning the notices to send.

Like ``bot.tickets.service``: each function checks who may act, records what happened and returns
``Notice``s; it never sends anything itself, so a visit and its pushes commit together. Who may
see a household's kind: the patch's grid worker and the cadres of the patch's village (``may_see``);
everyone else (a town's digest, another patch's worker) gets counts, never names or kinds.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import alerts, escalation, limits, stats, texts
from bot.models import Patch, Person, Ticket
from bot.tickets import categories, routing, service, states
from bot.tickets.service import Notice
from bot.timeutil import fmt_local, to_local
from bot.visits import attend, rules
from bot.visits.models import Household, Visit

ATTACH_WINDOW = timedelta(hours=24)   # 转工单 without a number takes the worker's latest visit this recent
SEPARATORS = " \t,，:：;；、。"


class VisitError(Exception):
    """A refused visit, arrival or 专项 mark; ``message`` is the user-facing text."""

    def __init__(self, key: str, **fields):
        super().__init__(key)
        self.key, self.fields = key, fields

    @property
    def message(self) -> str:
        return texts.t(f"visits.{self.key}", **self.fields)


def t(key: str, **fields) -> str:
    """A visits text."""
    return texts.t(f"visits.{key}", **fields)


# --- who may see what -------------------------------------------------------------------------

def patch_of(session: Session, code: str | None) -> Patch | None:
    """The patch with ``code``."""
    return session.scalar(select(Patch).where(Patch.code == code)) if code else None


def is_patch_worker(person: Person | None, patch_code: str) -> bool:
    """Whether ``person`` is a grid worker of the patch."""
    return person is not None and person.role == "grid_worker" and person.patch == patch_code


def may_see(session: Session, person: Person | None, household: Household) -> bool:
    """The patch's grid worker and the cadres of its village may see a household's kind."""
    if is_patch_worker(person, household.patch_code):
        return True
    patch = patch_of(session, household.patch_code)
    return (person is not None and person.role == "cadre" and patch is not None
            and person.jurisdiction == patch.village)


def kind_name(household: Household) -> str:
    """党员家庭, 村（居）民代表, 特殊家庭, 重点人员 (only for readers ``may_see`` allows)."""
    kind = rules.load().kinds.get(household.kind)
    return kind.name if kind else household.kind


def label(household: Household) -> str:
    """陈阿姨（幸福花园2栋302）: the name and, to tell namesakes apart, the address."""
    return t("household_label", name=household.name, address=household.address) if household.address \
        else household.name


# --- finding a household by name ----------------------------------------------------------------

@dataclass
class Found:
    """The households a 走访 message names on the worker's patch, and the rest of the message."""

    matches: list[Household] = field(default_factory=list)
    note: str = ""
    name: str = ""
    elsewhere: bool = False   # no household of that name here, but on another patch


def find(session: Session, patch_code: str, text: str) -> Found:
    """Households named at the start of ``text`` (``陈阿姨 身体还好`` or ``陈阿姨身体还好``); namesakes all match."""
    text = text.strip(SEPARATORS)
    households = list(session.scalars(select(Household).where(Household.patch_code == patch_code)
                                      .order_by(Household.id)))
    starting = [h for h in households if h.name and text.startswith(h.name)]
    if starting:
        longest = max(len(h.name) for h in starting)
        name = text[:longest]
        return Found([h for h in starting if h.name == name], text[longest:].strip(SEPARATORS), name)
    parts = re.split(r"[\s,，:：;；、]+", text, maxsplit=1)
    token, rest = parts[0], parts[1] if len(parts) > 1 else ""
    matches = [h for h in households if token and token in h.name]
    found = Found(matches, rest.strip(SEPARATORS), token)
    if not matches and token:
        found.elsewhere = session.scalar(select(Household.id).where(
            Household.patch_code != patch_code, Household.name == token).limit(1)) is not None
    return found


# --- visits ---------------------------------------------------------------------------------------

def log_visit(session: Session, worker: Person, household: Household, note: str, *, now: datetime,
              inbound_id: int | None = None) -> Visit:
    """Record a visit; only the patch's grid worker may visit its households."""
    if not is_patch_worker(worker, household.patch_code):
        raise VisitError("not_your_household")
    if inbound_id is not None:
        existing = session.scalar(select(Visit).where(Visit.inbound_id == inbound_id))
        if existing is not None:
            return existing
    visit = Visit(inbound_id=inbound_id, household_id=household.id, worker_userid=worker.userid, visited_at=now,
                  note=limits.fit(note, 2000) or "")
    session.add(visit)
    session.flush()
    return visit


def attach(visit: Visit, *, lat: float | None = None, lng: float | None = None,
           media_id: str | None = None, pic_url: str | None = None) -> None:
    """Add the location or photo sent after a visit."""
    if lat is not None and lng is not None:
        visit.lat, visit.lng = lat, lng
    if media_id or pic_url:
        visit.photo_media_id, visit.photo_url = media_id or None, pic_url or None


def latest_visit(session: Session, worker: Person, now: datetime) -> Visit | None:
    """The worker's latest visit of the last day that has not become a ticket."""
    return session.scalar(select(Visit).where(Visit.worker_userid == worker.userid, Visit.ticket_number.is_(None),
                                              Visit.visited_at >= now - ATTACH_WINDOW)
                          .order_by(Visit.visited_at.desc(), Visit.id.desc()).limit(1))


def to_ticket(session: Session, worker: Person, visit: Visit, text: str, *, now: datetime,
              inbound_id: int | None = None) -> tuple[Ticket, list[Notice]]:
    """转工单: the concern raised in a visit becomes a ticket on the household's patch, filed by the
    grid worker on the household's behalf (the ticket shows both, never the household's kind)."""
    if visit.worker_userid != worker.userid:
        raise VisitError("not_your_visit")
    if visit.ticket_number is not None:
        raise VisitError("already_ticket", number=visit.ticket_number)
    household = session.get(Household, visit.household_id)
    description = (text or visit.note).strip()
    if not description:
        raise VisitError("ticket_needs_text", name=household.name)
    category = categories.categorize(description) or categories.get(categories.FALLBACK_ID)
    patch = patch_of(session, household.patch_code)
    route = routing.Route(patch, patch.village if patch else None, patch.town if patch else None, "registered")
    photos = [(visit.photo_media_id or "", visit.photo_url or "")] if (visit.photo_media_id or visit.photo_url) else []
    ticket, notices = service.create_ticket(
        session, reporter=worker.userid, category=category, description=description, route=route,
        address=household.address or None, lat=visit.lat, lng=visit.lng, photos=photos, inbound_id=inbound_id,
        now=now, on_behalf_of=f"{household.address}{household.name}")
    visit.ticket_number = ticket.number
    visit.followup = t("followup_ticket", number=ticket.number)
    return ticket, notices


# --- due and coverage -------------------------------------------------------------------------

@dataclass
class Coverage:
    """走访率 for a set of households: visited within their interval, of all of them."""

    households: int = 0
    covered: int = 0
    due_week: int = 0
    overdue: int = 0

    @property
    def rate(self) -> float | None:
        return self.covered / self.households if self.households else None

    def add(self, other: Coverage) -> None:
        self.households += other.households
        self.covered += other.covered
        self.due_week += other.due_week
        self.overdue += other.overdue


def week_bounds(now: datetime) -> tuple:
    """(this week's Monday as a China date, its start, next Monday's start) as naive UTC."""
    local = to_local(now).date()
    monday = local - timedelta(days=local.weekday())
    return monday, stats.day_bounds(monday)[0], stats.day_bounds(monday + timedelta(days=7))[0]


def schedule(session: Session, households: list[Household], now: datetime) -> list[tuple[Household, datetime | None, datetime | None]]:
    """(household, last visit, next due) for each; next due is None for a household never visited."""
    if not households:
        return []
    last = dict(session.execute(select(Visit.household_id, func.max(Visit.visited_at)).where(
        Visit.household_id.in_([h.id for h in households]), Visit.visited_at <= now).group_by(Visit.household_id)).all())
    towns = dict(session.execute(select(Patch.code, Patch.town)).all())
    table = rules.load()
    out = []
    for h in households:
        seen = last.get(h.id)
        due = seen + timedelta(days=table.interval(h.kind, towns.get(h.patch_code))) if seen else None
        out.append((h, seen, due))
    return out


def coverage(session: Session, patch_codes: list[str], now: datetime) -> dict[str, Coverage]:
    """走访率 per patch as of ``now``."""
    _, _, week_end = week_bounds(now)
    households = list(session.scalars(select(Household).where(Household.patch_code.in_(patch_codes))))
    out = {code: Coverage() for code in patch_codes}
    for h, _seen, due in schedule(session, households, now):
        c = out[h.patch_code]
        c.households += 1
        c.covered += due is not None and due > now
        c.overdue += due is None or due <= now
        c.due_week += due is None or due < week_end
    return out


def due_for(session: Session, worker: Person, now: datetime) -> list[tuple[Household, datetime | None, bool]]:
    """The worker's households due this week: (household, next due or None, overdue now), most overdue first."""
    _, _, week_end = week_bounds(now)
    households = list(session.scalars(select(Household).where(Household.patch_code == worker.patch)
                                      .order_by(Household.id)))
    due = [(h, d, d is None or d <= now) for h, _s, d in schedule(session, households, now) if d is None or d < week_end]
    return sorted(due, key=lambda x: (x[1] is not None, x[1] or now, x[0].id))


def coverage_lines(session: Session, jurisdiction: str | None, now: datetime, style: str = "stats") -> str:
    """走访率 and 三必到 for a cadre's 今日 (``style="stats"``) or digest (``"digest"``): per grid worker
    and patch, counts and rates only, never a household's name or kind."""
    patches = stats.patches_in(session, jurisdiction)
    if not patches:
        return ""
    by_patch = coverage(session, [p.code for p in patches], now)
    total = Coverage()
    lines = []
    for p in patches:
        c = by_patch[p.code]
        if not c.households:
            continue
        total.add(c)
        worker = routing.grid_worker_for(session, p.code)
        lines.append(t(f"{style}_coverage_line", patch=p.name, worker=worker.name if worker else t("nobody"),
                       covered=c.covered, households=c.households, rate=stats.fmt_rate(c.rate), overdue=c.overdue))
    window = stats.filed_between(session, now - timedelta(days=30), now, jurisdiction)
    arrivals = attend.tally(window)
    head = t(f"{style}_coverage", covered=total.covered, households=total.households,
             rate=stats.fmt_rate(total.rate), overdue=total.overdue, due=total.due_week,
             required=arrivals.required, arrived=arrivals.arrived, minutes=attend.fmt_minutes(arrivals.mean_minutes))
    return "\n".join([head, *lines[:12]])


# --- reading visits back -------------------------------------------------------------------------

RECORD_MAX = 10


def recent_visits(session: Session, patch_codes: list[str], worker_userid: str | None = None,
                  limit: int = RECORD_MAX) -> list[tuple[Visit, Household]]:
    """The latest visits on these patches (optionally by one grid worker), newest first."""
    query = (select(Visit, Household).join(Household, Household.id == Visit.household_id)
             .where(Household.patch_code.in_(patch_codes)))
    if worker_userid:
        query = query.where(Visit.worker_userid == worker_userid)
    return list(session.execute(query.order_by(Visit.visited_at.desc(), Visit.id.desc()).limit(limit)).all())


def visit_line(session: Session, viewer: Person, visit: Visit, household: Household) -> str:
    """One visit as ``viewer`` may read it: a sensitive household's name, kind and words only for
    the patch's grid worker and the village's cadres."""
    when = fmt_local(visit.visited_at)
    followup = f"｜{visit.followup}" if visit.followup else ""
    if rules.load().is_sensitive(household.kind) and not may_see(session, viewer, household):
        return t("record_masked_line", when=when, followup=followup)
    return t("record_line", when=when, household=label(household), kind=kind_name(household),
             note=(visit.note or t("no_note"))[:40], followup=followup)


# --- 三必到 ----------------------------------------------------------------------------------------

def arrive(session: Session, ticket: Ticket, worker: Person, lat: float | None = None, lng: float | None = None,
           *, now: datetime) -> list[Notice]:
    """到场: the assigned grid worker is on the spot; the village cadres hear (as batched alerts)."""
    if ticket.assignee_userid != worker.userid:
        raise VisitError("arrive_not_yours", number=ticket.number)
    if not states.is_open(ticket.status):
        raise VisitError("arrive_closed", number=ticket.number)
    if ticket.arrived_at is not None:
        raise VisitError("arrive_already", number=ticket.number, when=fmt_local(ticket.arrived_at))
    if not attend.is_must_attend(ticket):
        raise VisitError("arrive_not_required", number=ticket.number)
    ticket.arrived_at = now
    ticket.arrival_distance_m = attend.distance_from(session, ticket, lat, lng)
    event = service.add_event(session, ticket, worker, "arrive", attend.distance_text(ticket.arrival_distance_m),
                              now=now)
    text = t("alert_arrived", number=ticket.number, category=ticket.service_name, name=worker.name or worker.userid,
             minutes=attend.fmt_minutes(attend.minutes_to_arrive(ticket)),
             distance=attend.distance_text(ticket.arrival_distance_m))
    pushes = alerts.raise_alerts(session, escalation.village_cadres(session, ticket), "arrived", text,
                                 f"ticket:{ticket.id}:ev{event.id}", ticket_id=ticket.id, now=now)
    return alerts.as_notices(pushes)


def mark_special(session: Session, ticket: Ticket, cadre: Person, *, now: datetime) -> list[Notice]:
    """专项 #n: a cadre of the ticket's village marks it a special task: its grid worker must attend."""
    if cadre.role != "cadre" or not cadre.jurisdiction or cadre.jurisdiction != ticket.village:
        raise VisitError("special_not_allowed", number=ticket.number)
    if not states.is_open(ticket.status):
        raise VisitError("arrive_closed", number=ticket.number)
    if ticket.special_by is not None:
        raise VisitError("special_already", number=ticket.number)
    ticket.special_by = cadre.userid
    attend.start(ticket, now)
    event = service.add_event(session, ticket, cadre, "special", now=now)
    if not ticket.assignee_userid:
        return []
    return [Notice(ticket.assignee_userid,
                   t("push_special", number=ticket.number, category=ticket.service_name,
                     place=service.place_of(ticket, session, assigned=True), who=cadre.name or cadre.userid,
                     by=fmt_local(ticket.arrive_by) if ticket.arrive_by else t("asap")),
                   f"ticket:{ticket.id}:ev{event.id}:{ticket.assignee_userid}")]
