"""Every change to a ticket goes through here: one function per action.

Each function takes ``(session, ticket, actor, note)``, checks who may act and whether the
state allows it (``bot.tickets.states``), records a ``TicketEvent``, and returns the notices
to send. It never sends anything itself: the caller queues the notices in the same
transaction (``handlers.tickets.send_notices``), so a ticket and its pushes commit together.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import escalation, evidence, limits, privacy, sla, texts
from bot.db import add_unique
from bot.models import Patch, Person, Ticket, TicketEvent, TicketFollower, TicketMedia
from bot.tickets import categories, routing, states
from bot.tickets.categories import Category
from bot.tickets.routing import Route
from bot.timeutil import fmt_deadline, utcnow
from bot.visits import attend

Actor = Person | str  # a roster person, or "system"
UNSATISFIED_MAX = 2   # ratings at or below this reopen the ticket
SYSTEM = "system"


@dataclass
class Notice:
    """One message to queue: text, or another WeCom msgtype with ``body``."""

    to_user: str
    text: str = ""
    dedupe_key: str | None = None
    channel: str | None = None
    msgtype: str = "text"
    body: dict = field(default_factory=dict)


class TicketError(Exception):
    """A refused action; ``message`` is the user-facing text."""

    def __init__(self, key: str, **fields):
        self.key = key
        self.fields = fields
        super().__init__(key)

    @property
    def message(self) -> str:
        return texts.t(f"tickets.{self.key}", **self.fields)


class CadreRefused(TicketError):
    """A refused cadre command (派单, 催办); its text is ``cadre.<key>``."""

    @property
    def message(self) -> str:
        return texts.t(f"cadre.{self.key}", **self.fields)


class NotAllowed(TicketError):
    """The actor may not change this ticket."""


class Refused(TicketError):
    """The ticket's state does not allow the action."""


def t(key: str, **fields) -> str:
    """A ticket text."""
    return texts.t(f"tickets.{key}", **fields)


# --- reading ----------------------------------------------------------------------------------

def find(session: Session, number: int) -> Ticket | None:
    """The ticket with short number ``number`` (None for a number no ticket can have)."""
    if not 0 < number <= limits.MAX_INT:
        return None
    return session.scalar(select(Ticket).where(Ticket.number == number))


NEARBY_M = 300  # a ticket this close to a sent location may be the same problem


def open_duplicates(session: Session, patch_code: str | None, service_code: str, limit: int = 3,
                    lat: float | None = None, lng: float | None = None) -> list[Ticket]:
    """Open tickets of the same category nearby, newest first: within ``NEARBY_M`` of a sent
    location, else on the same patch (a patch is a few hundred households)."""
    open_states = [s for s, kind in states.STATE_TYPES.items() if kind == "open"]
    query = select(Ticket).where(Ticket.service_code == service_code, Ticket.status.in_(open_states))
    if lat is not None and lng is not None:
        box = NEARBY_M / 100_000  # degrees: a little more than NEARBY_M at Kaiping's latitude
        near = session.scalars(query.where(Ticket.lat.between(lat - box, lat + box),
                                           Ticket.long.between(lng - box, lng + box)).order_by(Ticket.id.desc()))
        return [tk for tk in near if routing.distance_m(lat, lng, tk.lat, tk.long) <= NEARBY_M][:limit]
    if not patch_code:
        return []
    return list(session.scalars(query.where(Ticket.patch_code == patch_code).order_by(Ticket.id.desc()).limit(limit)))


def open_tickets_for(session: Session, person: Person) -> list[Ticket]:
    """The open tickets a grid worker holds, or a cadre's jurisdiction holds."""
    open_states = [s for s, kind in states.STATE_TYPES.items() if kind == "open"]
    query = select(Ticket).where(Ticket.status.in_(open_states))
    if person.role == "cadre" and person.jurisdiction:
        query = query.where((Ticket.village == person.jurisdiction) | (Ticket.town == person.jurisdiction)
                            | (Ticket.assignee_userid == person.userid))
    else:
        query = query.where(Ticket.assignee_userid == person.userid)
    return list(session.scalars(query.order_by(Ticket.number)))


def tickets_of_resident(session: Session, userid: str, limit: int = 10) -> list[Ticket]:
    """Tickets a resident filed or follows, newest first."""
    followed = select(TicketFollower.ticket_id).where(TicketFollower.userid == userid)
    return list(session.scalars(select(Ticket).where(
        (Ticket.reporter_userid == userid) | Ticket.id.in_(followed)).order_by(Ticket.id.desc()).limit(limit)))


def can_view(session: Session, ticket: Ticket, userid: str, person: Person | None) -> bool:
    """Reporter, followers, the assignee and cadres of the area may see a ticket."""
    if ticket.reporter_userid == userid or may_change(ticket, person):
        return True
    return session.scalar(select(TicketFollower.id).where(
        TicketFollower.ticket_id == ticket.id, TicketFollower.userid == userid)) is not None


def awaiting_rating(session: Session, userid: str, number: int | None = None) -> Ticket | None:
    """The reporter's resolved ticket waiting for a rating (the latest, or ``#number``)."""
    query = select(Ticket).where(Ticket.reporter_userid == userid, Ticket.status == "resolved")
    if number is not None:
        query = query.where(Ticket.number == number)
    return session.scalar(query.order_by(Ticket.resolved_at.desc(), Ticket.id.desc()).limit(1))


def may_change(ticket: Ticket, person: Person | None) -> bool:
    """Whether ``person`` is the assigned grid worker or a cadre of the ticket's village or town."""
    return routing.may_change(ticket.village, ticket.town, ticket.assignee_userid, person)


def status_name(status: str) -> str:
    """The status as residents read it."""
    return t(f"status_{status}")


def place_of(ticket: Ticket, session: Session | None = None, assigned: bool = False) -> str:
    """A readable place: the address (personal numbers masked unless for the assigned grid worker),
    else the patch name."""
    if ticket.address:
        return privacy.for_viewer(ticket.address, assigned)
    if ticket.patch_code and session is not None:
        name = session.scalar(select(Patch.name).where(Patch.code == ticket.patch_code))
        if name:
            return name
    return ticket.village or ticket.town or t("place_unknown")


def public_place(ticket: Ticket, session: Session) -> str:
    """Where a ticket is, without anything its reporter typed: the map label of a location they
    sent, else the patch, else the village (for other residents, e.g. the "same problem?" offer)."""
    if ticket.routed_by == "location" and ticket.address:
        return privacy.mask(ticket.address)
    if ticket.patch_code:
        name = session.scalar(select(Patch.name).where(Patch.code == ticket.patch_code))
        if name:
            return name
    return ticket.village or ticket.town or t("place_unknown")


def description_for(ticket: Ticket, assigned: bool = False, limit: int | None = None) -> str:
    """The resident's words as a reader may see them: ID numbers always masked, phone numbers
    masked unless ``assigned`` (the assigned grid worker's own view)."""
    text = privacy.for_viewer(ticket.description, assigned)
    return text[:limit] if limit else text


def mask_phone(mobile: str | None) -> str:
    """13800001001 → 138****1001."""
    digits = (mobile or "").replace(" ", "").replace("-", "")
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return t("phone_unknown")


def hours_text(hours: int) -> str:
    """24 → "24小时"; 168 → "7天"."""
    return f"{hours // 24}天" if hours >= 48 and hours % 24 == 0 else f"{hours}小时"


def duration_text(span: timedelta) -> str:
    """A deadline span as people say it: 7天, 24小时, 30分钟 (drills: 45秒)."""
    seconds = max(round(span.total_seconds()), 0)
    if seconds >= 3600 and seconds % 3600 == 0:
        return hours_text(seconds // 3600)
    if seconds >= 3600:
        return f"{seconds / 3600:.1f}".rstrip("0").rstrip(".") + "小时"
    if seconds >= 60:
        return f"{seconds // 60}分钟"
    return f"{seconds}秒"


def response_text(ticket: Ticket) -> str:
    """How soon the grid worker must respond, from the ticket's own acknowledge deadline."""
    if ticket.acknowledge_by and ticket.requested_at:
        return duration_text(ticket.acknowledge_by - ticket.requested_at)
    return hours_text(categories.get(ticket.service_code).response_hours)


# --- writing ----------------------------------------------------------------------------------

def _actor_id(actor: Actor) -> tuple[str, str]:
    if isinstance(actor, Person):
        return actor.userid, actor.role
    return str(actor), "system" if actor == SYSTEM else "resident"


def add_event(session: Session, ticket: Ticket, actor: Actor, action: str, note: str | None = None, *,
              from_status: str | None = None, to_status: str | None = None,
              now: datetime | None = None) -> TicketEvent:
    """Record one history entry."""
    userid, role = _actor_id(actor)
    event = TicketEvent(ticket=ticket, actor=userid, actor_role=role, action=action, note=note or None,
                        from_status=from_status, to_status=to_status, at=now or utcnow())
    session.add(event)
    session.flush()
    return event


def _transition(session: Session, ticket: Ticket, actor: Actor, action: str, note: str | None,
                now: datetime | None, check_actor: bool = True) -> TicketEvent:
    """Check permission and state, move the ticket, record the event."""
    if check_actor and actor != SYSTEM and not (isinstance(actor, Person) and may_change(ticket, actor)):
        raise NotAllowed("not_allowed", number=ticket.number)
    try:
        new = states.next_state(ticket.status, action)
    except states.IllegalTransition:
        raise Refused("illegal", number=ticket.number, status=status_name(ticket.status),
                      action=t(f"action_{action}") if texts.has(f"tickets.action_{action}") else action) from None
    now = now or utcnow()
    old = ticket.status
    ticket.status = new
    ticket.updated_at = now
    return add_event(session, ticket, actor, action, note, from_status=old, to_status=new, now=now)


def add_media(session: Session, ticket: Ticket, kind: str, media_id: str | None, pic_url: str | None,
              added_by: str, now: datetime | None = None) -> TicketMedia:
    """Attach a photo (``photo`` from the resident, ``evidence`` from the grid worker)."""
    media = TicketMedia(ticket=ticket, kind=kind, media_id=media_id or None, pic_url=pic_url or None,
                        added_by=added_by, added_at=now or utcnow())
    session.add(media)
    session.flush()
    evidence.note_saved(session, media)   # a durable copy is fetched after the commit
    return media


def follow(session: Session, ticket: Ticket, userid: str, channel: str = "app") -> bool:
    """Let a resident follow a ticket; return False if they already did (or filed it)."""
    if ticket.reporter_userid == userid or session.scalar(select(TicketFollower.id).where(
            TicketFollower.ticket_id == ticket.id, TicketFollower.userid == userid)) is not None:
        return False
    session.add(TicketFollower(ticket_id=ticket.id, userid=userid, channel=channel))
    add_event(session, ticket, userid, "follow")
    return True


def _allocate_number(session: Session, ticket: Ticket) -> None:
    """Insert ``ticket`` with the next short number; retry when a concurrent insert took it."""
    for _ in range(20):
        ticket.number = (session.scalar(select(func.max(Ticket.number))) or 0) + 1
        if add_unique(session, ticket):
            return
    raise RuntimeError("could not allocate a ticket number")


def create_ticket(session: Session, *, reporter: str, category: Category, description: str,
                  route: Route, reporter_channel: str = "app", address: str | None = None,
                  lat: float | None = None, lng: float | None = None,
                  photos: list[tuple[str, str]] | None = None, inbound_id: int | None = None,
                  now: datetime | None = None, urgency: str | None = None,
                  on_behalf_of: str | None = None) -> tuple[Ticket, list[Notice]]:
    """File a ticket, assign the patch's grid worker, and return the pushes (worker or cadres).
    ``urgency`` overrides the category's ("emergency" when the report spoke of immediate danger);
    ``on_behalf_of``: the neighbour a building head (or grid worker) reports for (代报)."""
    if inbound_id is not None:
        existing = session.scalar(select(Ticket).where(Ticket.inbound_id == inbound_id))
        if existing is not None:
            return existing, []
    now = now or utcnow()
    worker = routing.grid_worker_for(session, route.patch.code if route.patch else None)
    ticket = Ticket(inbound_id=inbound_id, service_code=category.id, service_name=category.name,
                    status="open", agency_responsible=category.department, urgency=urgency or category.urgency,
                    description=description, address=limits.fit(address, limits.ADDRESS) or None, lat=lat, long=lng,
                    patch_code=route.patch.code if route.patch else None, village=route.village,
                    town=route.town, routed_by=route.how, reporter_userid=reporter,
                    reporter_channel=reporter_channel, assignee_userid=worker.userid if worker else None,
                    requested_at=now, updated_at=now, expected_at=now + timedelta(hours=category.expected_hours),
                    on_behalf_of=limits.fit(on_behalf_of, 200) or None)
    sla.start(ticket, now)
    attend.start(ticket, now)  # 三必到: the arrival deadline of a must-attend ticket
    _allocate_number(session, ticket)
    for media_id, pic_url in photos or []:
        add_media(session, ticket, "photo", media_id, pic_url, reporter, now)
    event = add_event(session, ticket, reporter, "create", from_status=None, to_status="open", now=now)
    if worker is not None:
        add_event(session, ticket, SYSTEM, "assign", worker.userid, now=now)
        return ticket, push_to_worker(session, ticket, worker.userid, event) + escalation.on_filed(session, ticket, event)
    return ticket, _push_cadres(session, ticket, event, "push_unrouted")


def _reporter_fields(session: Session, ticket: Ticket) -> dict:
    person = session.scalar(select(Person).where(Person.userid == ticket.reporter_userid))
    return {"reporter": (person.name if person and person.name else t("reporter_unknown")),
            "phone": mask_phone(person.mobile if person else None)}


def _ticket_fields(session: Session, ticket: Ticket, assigned: bool = False) -> dict:
    category = categories.get(ticket.service_code)
    return {"number": ticket.number, "category": ticket.service_name or category.name,
            "place": place_of(ticket, session, assigned), "description": description_for(ticket, assigned),
            "agency": ticket.agency_responsible or category.department,
            "response": response_text(ticket), **_reporter_fields(session, ticket)}


def _photos(ticket: Ticket) -> list[TicketMedia]:
    return [m for m in ticket.media if m.kind == "photo"]


def _photo_line(ticket: Ticket) -> str:
    photos = _photos(ticket)
    if not photos:
        return ""
    if any(m.media_id for m in photos):
        return t("push_photo_attached")
    return t("push_photo", url=photos[0].pic_url)


def push_to_worker(session: Session, ticket: Ticket, userid: str, event: TicketEvent,
                   template: str = "push_new") -> list[Notice]:
    """The push for a new ticket: the text with commands, the photo, and a card with buttons."""
    fields = _ticket_fields(session, ticket, assigned=True)
    key = f"ticket:{ticket.id}:ev{event.id}:{userid}"
    text = t(template, photo=_photo_line(ticket), **fields)
    extra = attend.worker_lines(ticket, session)  # 代报 (who reported for whom) and 三必到 (arrive by)
    if extra:
        head, _, rest = text.partition("\n")
        text = f"{head}\n{extra}\n{rest}" if rest else f"{head}\n{extra}"
    notices = [Notice(userid, text, f"{key}:text")]
    for n, media in enumerate(_photos(ticket)):
        if media.media_id:
            notices.append(Notice(userid, dedupe_key=f"{key}:image{n}", msgtype="image",
                                  body={"media_id": media.media_id}))
    notices.append(Notice(userid, dedupe_key=f"{key}:card", msgtype="template_card",
                          body=template_card(ticket, fields, f"ticket-{ticket.id}-{event.id}")))
    return notices


def template_card(ticket: Ticket, fields: dict, task_id: str, accepted: bool = False) -> dict:
    """A WeCom button_interaction card with 接单 and 办结 buttons (keys ``ticket:<action>:<number>``);
    once ``accepted``, the card says so and keeps only 办结."""
    accept = {"text": t("card_accept"), "style": 1, "key": f"ticket:acknowledge:{ticket.number}"}
    resolve_button = {"text": t("card_resolve"), "style": 2 if not accepted else 1,
                      "key": f"ticket:resolve:{ticket.number}"}
    content = [{"keyname": t("card_place"), "value": fields["place"][:60]},
               {"keyname": t("card_reporter"), "value": f"{fields['reporter']} {fields['phone']}"}]
    if accepted:
        content.append({"keyname": t("card_status"), "value": t("card_accepted")})
    return {
        "card_type": "button_interaction",
        "main_title": {"title": t("card_title", number=ticket.number), "desc": fields["category"]},
        "sub_title_text": fields["description"][:100],
        "horizontal_content_list": content,
        "task_id": task_id,
        "button_list": [resolve_button] if accepted else [accept, resolve_button],
    }


def card_update(session: Session, ticket: Ticket, userid: str, response_code: str, task_id: str) -> dict | None:
    """The ``message/update_template_card`` body that makes a clicked ticket card show where the
    ticket stands for ``userid``, or None while its buttons still apply (open, reopened)."""
    if ticket.status in ("resolved", "closed"):
        return {"response_code": response_code, "button": {"replace_name": t("card_resolved")}}
    if ticket.status == "returned":
        return {"response_code": response_code, "button": {"replace_name": t("card_returned")}}
    if ticket.assignee_userid != userid:
        return {"response_code": response_code, "button": {"replace_name": t("card_elsewhere")}}
    if ticket.status in ("acknowledged", "waiting"):
        card = template_card(ticket, _ticket_fields(session, ticket, assigned=True), task_id, accepted=True)
        return {"response_code": response_code, "template_card": card}
    return None


def _push_cadres(session: Session, ticket: Ticket, event: TicketEvent, template: str, **extra) -> list[Notice]:
    fields = {**_ticket_fields(session, ticket), "photo": _photo_line(ticket), **extra}
    notices = escalation.cadre_push(session, ticket, event, template, t(template, **fields))  # batched per cadre
    for cadre in routing.cadres_for(session, ticket.village, ticket.town):
        for n, media in enumerate(_photos(ticket)):
            if media.media_id and template == "push_unrouted":
                notices.append(Notice(cadre.userid, dedupe_key=f"ticket:{ticket.id}:ev{event.id}:{cadre.userid}:image{n}",
                                      msgtype="image", body={"media_id": media.media_id}))
    return notices


def _to_residents(session: Session, ticket: Ticket, event: TicketEvent, text: str,
                  reporter_text: str | None = None) -> list[Notice]:
    """The same news to the reporter (optionally worded differently) and to every follower."""
    key = f"ticket:{ticket.id}:ev{event.id}"
    notices = [Notice(ticket.reporter_userid, reporter_text or text, f"{key}:{ticket.reporter_userid}",
                      channel=ticket.reporter_channel)]
    for f in session.scalars(select(TicketFollower).where(TicketFollower.ticket_id == ticket.id)
                             .order_by(TicketFollower.id)):
        notices.append(Notice(f.userid, text, f"{key}:{f.userid}", channel=f.channel))
    return notices


def _name(session: Session, userid: str | None) -> str:
    person = session.scalar(select(Person).where(Person.userid == userid)) if userid else None
    return person.name if person and person.name else (userid or "")


def acknowledge(session: Session, ticket: Ticket, actor: Actor, note: str = "",
                now: datetime | None = None) -> list[Notice]:
    """接单: the grid worker (or a cadre) takes the ticket; the resident hears who."""
    event = _transition(session, ticket, actor, "acknowledge", note, now)
    ticket.acknowledged_at = ticket.acknowledged_at or event.at
    if isinstance(actor, Person) and ticket.assignee_userid is None:
        ticket.assignee_userid = actor.userid
    name = actor.name if isinstance(actor, Person) else ""
    return _to_residents(session, ticket, event, t("notify_acknowledged", number=ticket.number,
                                                   category=ticket.service_name, name=name))


def resolve(session: Session, ticket: Ticket, actor: Actor, note: str, now: datetime | None = None) -> list[Notice]:
    """办结: record the resolution; the reporter is asked to rate, followers are told."""
    event = _transition(session, ticket, actor, "resolve", note, now)
    ticket.status_notes = note
    ticket.resolved_at = event.at
    ticket.acknowledged_at = ticket.acknowledged_at or event.at
    if isinstance(actor, Person) and ticket.assignee_userid is None:
        ticket.assignee_userid = actor.userid
    text = t("notify_resolved", number=ticket.number, category=ticket.service_name, note=privacy.mask(note))
    return _to_residents(session, ticket, event, text)


def return_ticket(session: Session, ticket: Ticket, actor: Actor, note: str,
                  now: datetime | None = None) -> list[Notice]:
    """退单: wrongly dispatched; back to the village cadre for dispatch by hand."""
    event = _transition(session, ticket, actor, "return", note, now)
    name = actor.name if isinstance(actor, Person) else ""
    ticket.assignee_userid = None
    notices = _push_cadres(session, ticket, event, "push_returned", name=name, note=note)
    return notices + _to_residents(session, ticket, event, t("notify_returned", number=ticket.number))


def assign(session: Session, ticket: Ticket, actor: Actor, assignee: Person, note: str = "",
           now: datetime | None = None) -> list[Notice]:
    """派单: a cadre (or the system) gives the ticket to a grid worker or department liaison."""
    event = _transition(session, ticket, actor, "assign", note or assignee.userid, now)
    ticket.assignee_userid = assignee.userid
    return push_to_worker(session, ticket, assignee.userid, event)


def dispatch(session: Session, ticket: Ticket, cadre: Person, worker: Person,
             now: datetime | None = None) -> list[Notice]:
    """派单 by a cadre (chat or workbench): to a grid worker of a patch in the cadre's village or town;
    the worker gets their own acknowledge clock, and an unrouted ticket takes the worker's patch."""
    now = now or utcnow()
    patch = session.scalar(select(Patch).where(Patch.code == worker.patch)) if worker.patch else None
    if patch is None or cadre.jurisdiction not in (patch.village, patch.town):
        raise CadreRefused("dispatch_outside", name=worker.name, jurisdiction=cadre.jurisdiction)
    notices = assign(session, ticket, cadre, worker, worker.userid, now)
    ticket.acknowledge_by = now + sla.limits_for(ticket).acknowledge   # the new worker's own clock
    if ticket.patch_code is None:
        ticket.patch_code, ticket.village, ticket.town = patch.code, patch.village, patch.town
    return notices


def nudge(session: Session, ticket: Ticket, actor: Person, note: str, liaisons: list[str],
          now: datetime | None = None) -> list[Notice]:
    """催办: push the assignee and the ``liaisons`` of active whistles (the caller names them) again."""
    if not states.is_open(ticket.status):
        raise CadreRefused("nudge_closed", number=ticket.number, status=status_name(ticket.status))
    targets = ([ticket.assignee_userid] if ticket.assignee_userid else []) + list(liaisons)
    if not targets:
        raise CadreRefused("nudge_nobody", number=ticket.number)
    event = add_event(session, ticket, actor, "nudge", note, now=now)
    text = texts.t("cadre.nudge_push", number=ticket.number, category=ticket.service_name,
                   place=place_of(ticket, session), description=description_for(ticket, limit=80),
                   who=actor.name or actor.userid, note=note or texts.t("cadre.nudge_default"),
                   resolve_by=fmt_deadline(ticket.resolve_by))
    return [Notice(userid, text, f"nudge:{ticket.id}:ev{event.id}:{userid}") for userid in dict.fromkeys(targets)]


def reopen(session: Session, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None,
           score: int | None = None) -> list[Notice]:
    """Reopen (the resident was not satisfied): push the village cadres and the grid worker."""
    event = _transition(session, ticket, actor, "reopen", note, now,
                        check_actor=not (isinstance(actor, str) and actor == ticket.reporter_userid))
    extra = {"score": score if score is not None else "", "note": privacy.mask(note),
             "resolution": privacy.mask(ticket.status_notes)}
    sla.start(ticket, event.at)  # the deadlines start again
    notices = _push_cadres(session, ticket, event, "push_reopened", **extra)
    if ticket.assignee_userid and ticket.assignee_userid not in {n.to_user for n in notices}:
        fields = {**_ticket_fields(session, ticket), **extra}
        notices.append(Notice(ticket.assignee_userid, t("push_reopened", **fields),
                              f"ticket:{ticket.id}:ev{event.id}:{ticket.assignee_userid}"))
    return notices


def rate(session: Session, ticket: Ticket, actor: str, score: int, note: str = "",
         now: datetime | None = None) -> list[Notice]:
    """The reporter rates a resolved ticket: satisfied closes it, unsatisfied reopens it."""
    if actor != ticket.reporter_userid:
        raise NotAllowed("not_yours", number=ticket.number)
    if ticket.status != "resolved":
        raise Refused("illegal", number=ticket.number, status=status_name(ticket.status), action=t("action_rate"))
    now = now or utcnow()
    ticket.rating = score
    ticket.rated_at = now
    ticket.rated_assignee = ticket.assignee_userid
    event = add_event(session, ticket, actor, "rate", str(score), from_status=ticket.status,
                      to_status=ticket.status, now=now)
    notices: list[Notice] = []
    if ticket.assignee_userid:
        notices.append(Notice(ticket.assignee_userid, t("push_rating", number=ticket.number, score=score),
                              f"ticket:{ticket.id}:ev{event.id}:{ticket.assignee_userid}"))
    if score <= UNSATISFIED_MAX:
        return notices + reopen(session, ticket, actor, note, now, score=score)
    event = _transition(session, ticket, actor, "rate", note, now, check_actor=False)
    ticket.closed_at = event.at
    return notices


def close(session: Session, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None) -> list[Notice]:
    """Close without a rating (duplicate, out of scope, or no rating in time)."""
    event = _transition(session, ticket, actor, "close", note, now)
    ticket.closed_at = event.at
    return []


def wait_for_resident(session: Session, ticket: Ticket, actor: Actor, note: str = "",
                      now: datetime | None = None) -> list[Notice]:
    """Waiting for the resident (pauses deadline clocks)."""
    _transition(session, ticket, actor, "wait", note, now)
    return []


def resume(session: Session, ticket: Ticket, actor: Actor, note: str = "", now: datetime | None = None) -> list[Notice]:
    """The resident answered: back to the grid worker."""
    _transition(session, ticket, actor, "resume", note, now)
    return []


def expected_text(ticket: Ticket) -> str:
    """When the ticket should be done, as residents read it: the day of its resolve deadline,
    ``12月21日（周一）`` (with the time for a deadline of hours, ``12月21日（周一）15:30``)."""
    return fmt_deadline(ticket.expected_at)
