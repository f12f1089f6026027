"""A grid worker's field ledger by chat: 走访 (四必访), 转工单, 到场 #n or a location (三必到),
a cadre's 专项 #n, and a building head's 代报 for a neighbour without a phone.

``走访 陈阿姨 身体还好，反映楼道灯不亮`` logs a visit to a household on the worker's own patch (a
menu when namesakes match); a photo or location sent next is added to it; ``转工单`` files the
concern as a ticket. A grid worker's location while they hold an open must-attend ticket is their
arrival (a menu when they hold several). ``代报 2栋302陈伯 楼道灯坏了`` runs the normal complaint
intake with the neighbour recorded on the draft.
"""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import select

from bot import stats
from bot.models import Person
from bot.tickets import service as tickets
from bot.tickets.words import after_word, fold
from bot.timeutil import fmt_local
from bot.visits import attend, service
from bot.visits.models import Household, Visit
from bot.visits.service import VisitError
from handlers import complaint
from handlers.base import Handler, Message
from handlers.tickets import send_notices

WORDS = ("走访记录", "转工单", "走访", "到场", "专项", "代报")   # longest first where one starts another
STAFF_ROLES = {"grid_worker", "building_head", "cadre", "department"}
BEHALF_ROLES = {"building_head", "grid_worker"}
ATTACH_TTL = timedelta(minutes=15)
PICK_TTL = timedelta(minutes=15)
NUMBER = re.compile(r"^[\s:：,，]*#?\s*(\d{1,9})(?=\s|$|\D)")


def parse(text: str) -> tuple[str, str] | None:
    """(command word, the rest as written) for a visits command, else None."""
    stripped = text.strip()
    squeezed = re.sub(r"\s+", "", fold(stripped))
    for word in WORDS:
        if squeezed.startswith(word):
            rest = stripped[len(word):] if stripped.startswith(word) else after_word(fold(stripped), word)
            return word, rest.strip()
    return None


def _number(rest: str) -> int | None:
    m = NUMBER.match(fold(rest))
    return int(m.group(1)) if m else None


def _reroute(msg: Message, ctx) -> None:
    """The user moved on: end the visits step and let the registry place the message."""
    ctx.state.clear()
    from handlers import route

    route(msg, ctx)


class VisitCommands(Handler):
    """走访, 转工单, 到场 (or a location), 专项 and 代报."""

    name = "visits"
    states = ("visit_pick", "visit_attach", "arrive_pick")

    def check(self, msg: Message, ctx) -> bool:
        state = ctx.state.get()
        if msg.msg_type in ("image", "location"):
            if state is not None:
                return state.name == "visit_attach"
            return (msg.msg_type == "location" and ctx.role == "grid_worker"
                    and bool(attend.held_unarrived(ctx.session, ctx.user_id)))
        if not msg.is_text:
            return False
        cmd = parse(msg.text)
        if cmd is None:
            return False
        return cmd[0] == "代报" or ctx.role in STAFF_ROLES   # a resident's 走访… is just words

    def handle(self, msg: Message, ctx) -> None:
        state = ctx.state.get()
        if msg.msg_type in ("image", "location") and state is not None and state.name == "visit_attach":
            self._attach(msg, ctx, state.data)
            return
        if msg.msg_type == "location":
            self._arrive_here(msg, ctx)
            return
        word, rest = parse(msg.text)
        {"走访": self._visit, "走访记录": self._record, "转工单": self._to_ticket, "到场": self._arrive, "专项": self._special,
         "代报": self._behalf}[word](msg, ctx, rest)

    def continue_conversation(self, msg: Message, ctx) -> None:
        state = ctx.state.get()
        data = dict(state.data or {})
        m = re.fullmatch(r"\s*#?\s*(\d{1,3})\s*", fold(msg.text)) if msg.is_text else None
        if state.name == "visit_attach" or m is None:
            _reroute(msg, ctx)
            return
        choice = int(m.group(1))
        options = data.get("ids") or data.get("numbers") or []
        if not 1 <= choice <= len(options):
            ctx.reply(ctx.t("visits.pick_again", count=len(options)))
            return
        ctx.state.clear()
        if state.name == "visit_pick":
            household = ctx.session.get(Household, options[choice - 1])
            self._log(ctx, household, data.get("note", ""), data.get("inbound_id"))
        else:
            ticket = tickets.find(ctx.session, options[choice - 1])
            self._record_arrival(ctx, ticket, data.get("lat"), data.get("lng"))

    # --- 走访 ----------------------------------------------------------------------------------
    def _visit(self, msg: Message, ctx, rest: str) -> None:
        person = ctx.person
        if ctx.role != "grid_worker":
            ctx.reply(ctx.t("visits.only_grid_workers"))
            return
        if not person.patch:
            ctx.reply(ctx.t("visits.no_patch"))
            return
        if not rest:
            ctx.reply(ctx.t("visits.visit_usage"))
            return
        found = service.find(ctx.session, person.patch, rest)
        if not found.matches:
            key = "visits.household_elsewhere" if found.elsewhere else "visits.household_unknown"
            ctx.reply(ctx.t(key, name=found.name))
            return
        if len(found.matches) > 1:
            lines = "\n".join(ctx.t("visits.pick_line", index=i, household=service.label(h))
                              for i, h in enumerate(found.matches, start=1))
            ctx.state.set("visit_pick", {"ids": [h.id for h in found.matches], "note": found.note,
                                         "inbound_id": msg.inbound_id}, ttl=PICK_TTL, expiry_text=None)
            ctx.reply(ctx.t("visits.pick_household", name=found.name, list=lines))
            return
        self._log(ctx, found.matches[0], found.note, msg.inbound_id)

    def _log(self, ctx, household: Household, note: str, inbound_id: int | None) -> None:
        try:
            visit = service.log_visit(ctx.session, ctx.person, household, note, now=ctx.now, inbound_id=inbound_id)
        except VisitError as exc:
            ctx.reply(exc.message)
            return
        ctx.state.set("visit_attach", {"visit_id": visit.id}, ttl=ATTACH_TTL, expiry_text=None)
        ctx.reply(ctx.t("visits.logged", household=service.label(household), kind=service.kind_name(household),
                        note=note or ctx.t("visits.no_note")))

    def _attach(self, msg: Message, ctx, data: dict) -> None:
        visit = ctx.session.get(Visit, data.get("visit_id"))
        if visit is None:
            ctx.state.clear()
            return
        if msg.msg_type == "location":
            service.attach(visit, lat=msg.lat, lng=msg.lng)
            ctx.reply(ctx.t("visits.location_added"))
        else:
            service.attach(visit, media_id=msg.media_id, pic_url=msg.pic_url)
            ctx.reply(ctx.t("visits.photo_added"))

    def _to_ticket(self, msg: Message, ctx, rest: str) -> None:
        if ctx.role != "grid_worker":
            ctx.reply(ctx.t("visits.only_grid_workers"))
            return
        state = ctx.state.get()
        visit = (ctx.session.get(Visit, state.data.get("visit_id"))
                 if state is not None and state.name == "visit_attach" else None)
        visit = visit or service.latest_visit(ctx.session, ctx.person, ctx.now)
        if visit is None:
            ctx.reply(ctx.t("visits.no_visit_to_ticket"))
            return
        try:
            ticket, notices = service.to_ticket(ctx.session, ctx.person, visit, rest, now=ctx.now,
                                                inbound_id=msg.inbound_id)
        except VisitError as exc:
            ctx.reply(exc.message)
            return
        ctx.state.clear()
        send_notices(ctx, notices)
        household = ctx.session.get(Household, visit.household_id)
        ctx.reply(ctx.t("visits.ticket_filed", number=ticket.number, category=ticket.service_name,
                        name=household.name, expected=tickets.expected_text(ticket)))

    def _record(self, msg: Message, ctx, rest: str) -> None:
        """走访记录 [网格员]: a grid worker's own latest visits; a cadre's, in their jurisdiction."""
        person = ctx.person
        if ctx.role == "grid_worker":
            codes, worker, title = [person.patch], person.userid, person.name
        elif ctx.role == "cadre" and person.jurisdiction:
            codes = [p.code for p in stats.patches_in(ctx.session, person.jurisdiction)]
            worker, title = None, person.jurisdiction
            if rest:
                named = ctx.session.scalar(select(Person).where(Person.role == "grid_worker", Person.name == rest.split()[0]))
                if named is None or named.patch not in codes:
                    ctx.reply(ctx.t("visits.record_outside", name=rest.split()[0], jurisdiction=person.jurisdiction))
                    return
                worker, title = named.userid, named.name
        else:
            ctx.reply(ctx.t("visits.record_not_allowed"))
            return
        found = service.recent_visits(ctx.session, codes, worker)
        if not found:
            ctx.reply(ctx.t("visits.record_none", who=title))
            return
        lines = [ctx.t("visits.record_header", who=title, count=len(found))]
        lines += [service.visit_line(ctx.session, person, v, h) for v, h in found]
        ctx.reply("\n".join(lines))

    # --- 三必到 ---------------------------------------------------------------------------------
    def _arrive(self, msg: Message, ctx, rest: str) -> None:
        if ctx.role != "grid_worker":
            ctx.reply(ctx.t("visits.only_grid_workers_arrive"))
            return
        number = _number(rest)
        if number is None:
            self._arrive_held(ctx, None, None)
            return
        ticket = tickets.find(ctx.session, number)
        if ticket is None:
            ctx.reply(ctx.t("tickets.not_found", number=number))
            return
        self._record_arrival(ctx, ticket, None, None)

    def _arrive_here(self, msg: Message, ctx) -> None:
        self._arrive_held(ctx, msg.lat, msg.lng)

    def _arrive_held(self, ctx, lat: float | None, lng: float | None) -> None:
        held = attend.held_unarrived(ctx.session, ctx.user_id)
        if not held:
            ctx.reply(ctx.t("visits.arrive_none"))
            return
        if len(held) == 1:
            self._record_arrival(ctx, held[0], lat, lng)
            return
        lines = "\n".join(ctx.t("visits.arrive_pick_line", index=i, number=tk.number, category=tk.service_name,
                                place=tickets.place_of(tk, ctx.session, assigned=True))
                          for i, tk in enumerate(held[:9], start=1))
        ctx.state.set("arrive_pick", {"numbers": [tk.number for tk in held[:9]], "lat": lat, "lng": lng},
                      ttl=PICK_TTL, expiry_text=None)
        ctx.reply(ctx.t("visits.arrive_pick", list=lines))

    def _record_arrival(self, ctx, ticket, lat: float | None, lng: float | None) -> None:
        try:
            notices = service.arrive(ctx.session, ticket, ctx.person, lat, lng, now=ctx.now)
        except VisitError as exc:
            ctx.reply(exc.message)
            return
        send_notices(ctx, notices)
        ctx.reply(ctx.t("visits.arrived", number=ticket.number,
                        distance=attend.distance_text(ticket.arrival_distance_m),
                        minutes=attend.fmt_minutes(attend.minutes_to_arrive(ticket))))

    def _special(self, msg: Message, ctx, rest: str) -> None:
        if ctx.role != "cadre":
            ctx.reply(ctx.t("visits.only_cadres_special"))
            return
        number = _number(rest)
        ticket = tickets.find(ctx.session, number) if number is not None else None
        if ticket is None:
            ctx.reply(ctx.t("visits.special_usage") if number is None else ctx.t("tickets.not_found", number=number))
            return
        try:
            notices = service.mark_special(ctx.session, ticket, ctx.person, now=ctx.now)
        except VisitError as exc:
            ctx.reply(exc.message)
            return
        send_notices(ctx, notices)
        worker = ctx.session.scalar(select(Person).where(Person.userid == ticket.assignee_userid)) \
            if ticket.assignee_userid else None
        ctx.reply(ctx.t("visits.special_done", number=ticket.number,
                        worker=worker.name if worker else ctx.t("visits.nobody"),
                        by=fmt_local(ticket.arrive_by) if ticket.arrive_by else ctx.t("visits.asap")))

    # --- 代报 ----------------------------------------------------------------------------------
    def _behalf(self, msg: Message, ctx, rest: str) -> None:
        if ctx.role not in BEHALF_ROLES:
            ctx.reply(ctx.t("visits.behalf_not_allowed"))
            return
        parts = re.split(r"[\s,，:：;；]+", rest.strip(), maxsplit=1)
        if len(parts) < 2 or not parts[0] or not parts[1].strip():
            ctx.reply(ctx.t("visits.behalf_usage"))
            return
        neighbour, problem = parts[0], parts[1].strip()
        ctx.reply(ctx.t("visits.behalf_start", neighbour=neighbour))
        complaint.start(_INTAKE, msg, ctx, problem, {"on_behalf_of": neighbour})


_INTAKE = complaint.ComplaintIntake()
