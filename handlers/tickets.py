"""Ticket commands: grid workers and cadres act by replying (接单 #n, 办结 #n 说明, 退单 #n 原因,
the card's buttons); everyone asks 我的工单 / 查询 #n; residents rate a resolved ticket."""
from __future__ import annotations

import re
from datetime import timedelta

from bot import privacy
from bot.delivery import CARD_UPDATE
from bot.tickets import routing, service
from bot.tickets.service import Notice, TicketError
from bot.tickets.words import Command, fold, parse_command, parse_rating
from bot.timeutil import fmt_local
from handlers.base import Handler, Message

STAFF_ROLES = {"grid_worker", "cadre", "department", "building_head"}
CHANGE_ACTIONS = ("acknowledge", "resolve", "return")
EVIDENCE_TTL = timedelta(minutes=15)
PICK_TTL = timedelta(minutes=15)
CARD_EVENTS = {"template_card_event", "taskcard_click"}
REOPEN_NOTE = "ticket_reopen_note"
REOPEN_NOTE_TTL = timedelta(minutes=30)



def send_notices(ctx, notices: list[Notice]) -> None:
    """Queue the service's notices in the handler's transaction."""
    for n in notices:
        if n.msgtype == "text":
            if n.to_user == ctx.user_id and (n.channel or ctx.channel) == ctx.channel:
                ctx.reply(n.text, dedupe_key=n.dedupe_key)
            else:
                ctx.send(n.to_user, n.text, channel=n.channel, dedupe_key=n.dedupe_key)
        else:
            ctx.send_message(n.to_user, n.msgtype, n.body, dedupe_key=n.dedupe_key)


def _card_command(msg: Message) -> Command | None:
    m = re.fullmatch(r"ticket:(acknowledge|resolve):(\d+)", msg.event_key or "")
    return Command(m.group(1), int(m.group(2)), "") if m else None


def _update_card(ctx, number: int, card: tuple[str, str] | None) -> None:
    """Make the clicked ticket card (``card`` = response code, task id) show where ticket #number stands."""
    ticket = service.find(ctx.session, number) if card else None
    if ticket is not None:
        update = service.card_update(ctx.session, ticket, ctx.user_id, *card)
        if update:
            _queue_card_update(ctx, update)


def _queue_card_update(ctx, update: dict) -> None:
    # Through the outbox, after the replies: in order, retried, once per response code.
    ctx.send_message(ctx.user_id, CARD_UPDATE, update, dedupe_key=f"card:{update['response_code']}"[:200])


def _reroute(msg: Message, ctx) -> None:
    """The user moved on: end the ticket step and let the registry place the message."""
    ctx.state.clear()
    from handlers import route

    route(msg, ctx)



def changeable_ticket(ctx, number: int, refusal: str = "tickets.not_allowed"):
    """Ticket ``#number`` if the sender may change it; otherwise say why and return None."""
    ticket = service.find(ctx.session, number)
    if ticket is None:
        ctx.reply(ctx.t("tickets.not_found", number=number))
        return None
    if not service.may_change(ticket, ctx.person):
        ctx.reply(ctx.t(refusal, number=ticket.number))
        return None
    return ticket

class TicketCommands(Handler):
    """接单 / 办结 / 退单 by text or card button, 我的工单, 查询 #n."""

    name = "ticket_commands"
    states = ("ticket_pick", "ticket_note", "ticket_evidence")

    def check(self, msg: Message, ctx) -> bool:
        if not msg.is_text:
            return False
        cmd = parse_command(msg.text)
        if cmd is None:
            return False
        if cmd.action in CHANGE_ACTIONS:
            return ctx.role in STAFF_ROLES or cmd.number is not None
        return True

    def handle(self, msg: Message, ctx) -> None:
        if msg.msg_type == "event":
            cmd = _card_command(msg)
            card = (msg.response_code, msg.task_id) if msg.response_code else None
            if cmd.action == "resolve":
                ticket = service.find(ctx.session, cmd.number)
                update = card and ticket and service.card_update(ctx.session, ticket, ctx.user_id, *card)
                if update and "button" in update:  # nothing left to do on this card: say so on it
                    _queue_card_update(ctx, update)
                    card = None
                self._ask_note(ctx, cmd.number, card)
            else:
                self._change(ctx, cmd)
                _update_card(ctx, cmd.number, card)
            return
        cmd = parse_command(msg.text)
        if cmd.action == "mine":
            self._mine(ctx)
        elif cmd.action == "query":
            self._query(ctx, cmd.number)
        else:
            self._change(ctx, cmd)

    # --- changes -----------------------------------------------------------------------------
    def _change(self, ctx, cmd: Command) -> None:
        if cmd.number is None:
            person = ctx.person
            held = service.open_tickets_for(ctx.session, person) if person else []
            if cmd.action == "acknowledge":
                held = [tk for tk in held if tk.status in ("open", "reopened")]
            if not held:
                ctx.reply(ctx.t("tickets.no_open"))
                return
            if len(held) > 1:
                lines = "\n".join(ctx.t("tickets.which_line", number=tk.number, category=tk.service_name,
                                        description=service.description_for(tk, limit=30),
                                        place=service.place_of(tk, ctx.session))
                                  for tk in held[:10])
                ctx.state.set("ticket_pick", {"action": cmd.action, "note": cmd.note}, ttl=PICK_TTL,
                              expiry_text=None)
                ctx.reply(ctx.t("tickets.which_ticket", list=lines))
                return
            cmd = Command(cmd.action, held[0].number, cmd.note)
        ticket = changeable_ticket(ctx, cmd.number)
        if ticket is None:
            return
        if cmd.action == "resolve" and not cmd.note:
            self._ask_note(ctx, ticket.number)
            return
        if cmd.action == "return" and not cmd.note:
            ctx.reply(ctx.t("tickets.need_reason", number=ticket.number))
            return
        try:
            if cmd.action == "acknowledge":
                notices = service.acknowledge(ctx.session, ticket, ctx.person, cmd.note, ctx.now)
                done = ctx.t("tickets.ack_done", number=ticket.number)
            elif cmd.action == "resolve":
                notices = service.resolve(ctx.session, ticket, ctx.person, cmd.note, ctx.now)
                done = ctx.t("tickets.resolve_done", number=ticket.number)
            else:
                notices = service.return_ticket(ctx.session, ticket, ctx.person, cmd.note, ctx.now)
                done = ctx.t("tickets.return_done", number=ticket.number)
        except TicketError as exc:
            ctx.reply(exc.message)
            return
        send_notices(ctx, notices)
        ctx.reply(done)
        if cmd.action == "resolve":
            ctx.state.set("ticket_evidence", {"number": ticket.number}, ttl=EVIDENCE_TTL, expiry_text=None)
        elif ctx.state.get() is not None and ctx.state.get().name in self.states:
            ctx.state.clear()

    def _ask_note(self, ctx, number: int, card: tuple[str, str] | None = None) -> None:
        ticket = changeable_ticket(ctx, number)
        if ticket is None:
            return
        data = {"number": number}
        if card:  # the clicked card is updated once the note has resolved the ticket
            data["card"] = list(card)
        ctx.state.set("ticket_note", data, ttl=PICK_TTL, expiry_text=None)
        ctx.reply(ctx.t("tickets.ask_resolve_note", number=number))

    def continue_conversation(self, msg: Message, ctx) -> None:
        state = ctx.state.get()
        data = dict(state.data or {})
        if state.name == "ticket_evidence":
            if msg.msg_type != "image":
                _reroute(msg, ctx)
                return
            ticket = service.find(ctx.session, data["number"])
            if ticket is not None:
                service.add_media(ctx.session, ticket, "evidence", msg.media_id, msg.pic_url, ctx.user_id, ctx.now)
                service.add_event(ctx.session, ticket, ctx.person or ctx.user_id, "evidence", msg.media_id or msg.pic_url,
                                  now=ctx.now)
                ctx.reply(ctx.t("tickets.evidence_saved", number=ticket.number))
            return
        if not msg.is_text:
            _reroute(msg, ctx)
            return
        if state.name == "ticket_pick":
            m = re.fullmatch(r"\s*#?\s*(\d{1,9})\s*", fold(msg.text))
            if not m:
                _reroute(msg, ctx)
                return
            ctx.state.clear()
            self._change(ctx, Command(data["action"], int(m.group(1)), data.get("note", "")))
            return
        if state.name == "ticket_note":
            ctx.state.clear()
            self._change(ctx, Command("resolve", data["number"], msg.text.strip()))
            if data.get("card"):
                _update_card(ctx, data["number"], tuple(data["card"]))

    # --- reading -----------------------------------------------------------------------------
    def _mine(self, ctx) -> None:
        person = ctx.person
        if person is not None and person.role in STAFF_ROLES:
            tickets = service.open_tickets_for(ctx.session, person)
            if not tickets:
                ctx.reply(ctx.t("tickets.no_open"))
                return
        else:
            tickets = service.tickets_of_resident(ctx.session, ctx.user_id)
            if not tickets:
                ctx.reply(ctx.t("tickets.mine_none"))
                return
        lines = [ctx.t("tickets.mine_header")]
        lines += [ctx.t("tickets.mine_line", number=tk.number, category=tk.service_name,
                        description=service.description_for(tk, limit=30), status=service.status_name(tk.status),
                        when=fmt_local(tk.requested_at)) for tk in tickets]
        ctx.reply("\n".join(lines))

    def _query(self, ctx, number: int) -> None:
        ticket = service.find(ctx.session, number)
        if ticket is None:
            ctx.reply(ctx.t("tickets.not_found", number=number))
            return
        if not service.can_view(ctx.session, ticket, ctx.user_id, ctx.person):
            ctx.reply(ctx.t("tickets.not_yours", number=number))
            return
        notes = (ctx.t("tickets.detail_notes", note=privacy.mask(ticket.status_notes))
                 if ticket.status_notes else "")
        if ticket.reporter_userid != ctx.user_id and not service.may_change(ticket, ctx.person):
            # a follower: where it stands and the public outcome, never another resident's words
            ctx.reply(ctx.t("tickets.detail_follower", number=ticket.number, category=ticket.service_name,
                            status=service.status_name(ticket.status),
                            place=service.public_place(ticket, ctx.session),
                            requested=fmt_local(ticket.requested_at), expected=service.expected_text(ticket),
                            notes=notes))
            return
        assigned = ticket.assignee_userid == ctx.user_id
        ctx.reply(ctx.t("tickets.detail", number=ticket.number, category=ticket.service_name,
                        status=service.status_name(ticket.status),
                        place=service.place_of(ticket, ctx.session, assigned),
                        description=service.description_for(ticket, assigned),
                        requested=fmt_local(ticket.requested_at), expected=service.expected_text(ticket),
                        notes=notes))


class TicketCardClick(Handler):
    """A click on a ticket card's 接单 / 办结 button (before unreadable events are dropped)."""

    name = "ticket_card"

    def check(self, msg: Message, ctx) -> bool:
        return msg.msg_type == "event" and msg.event in CARD_EVENTS and _card_command(msg) is not None

    def handle(self, msg: Message, ctx) -> None:
        _COMMANDS.handle(msg, ctx)


class RatingReply(Handler):
    """A resident's 1–5 / 满意 / 基本满意 / 不满意 after a ticket was resolved; after 不满意, their next
    words or photo are added to the reopened ticket."""

    name = "ticket_rating"
    states = (REOPEN_NOTE,)

    def check(self, msg: Message, ctx) -> bool:
        if not msg.is_text or ctx.state.get() is not None:
            return False
        parsed = parse_rating(msg.text)
        return parsed is not None and service.awaiting_rating(ctx.session, ctx.user_id, parsed[1]) is not None

    def handle(self, msg: Message, ctx) -> None:
        score, number = parse_rating(msg.text)
        ticket = service.awaiting_rating(ctx.session, ctx.user_id, number)
        try:
            notices = service.rate(ctx.session, ticket, ctx.user_id, score, msg.text.strip(), ctx.now)
        except TicketError as exc:
            ctx.reply(exc.message)
            return
        send_notices(ctx, notices)
        key = "rate_reopened" if score <= service.UNSATISFIED_MAX else "rate_thanks"
        ctx.reply(ctx.t(f"tickets.{key}", number=ticket.number, score=score))
        if score <= service.UNSATISFIED_MAX:
            # what they say next ("垃圾还在，只是挪到旁边") belongs to this ticket, not to a new report
            ctx.state.set(REOPEN_NOTE, {"number": ticket.number}, ttl=REOPEN_NOTE_TTL, expiry_text=None)

    def continue_conversation(self, msg: Message, ctx) -> None:
        """The resident's next words after 不满意 go to the reopened ticket's handlers."""
        number = (ctx.state.get().data or {}).get("number")
        ctx.state.clear()
        ticket = service.find(ctx.session, number) if number else None
        if ticket is None or msg.msg_type not in ("text", "image") or ticket.status != "reopened":
            from handlers import route

            route(msg, ctx)
            return
        if msg.msg_type == "image":
            service.add_media(ctx.session, ticket, "photo", msg.media_id, msg.pic_url, ctx.user_id, ctx.now)
            note = ctx.t("tickets.photo_word")
        else:
            note = msg.text
        service.add_event(ctx.session, ticket, ctx.user_id, "resident_note", note, now=ctx.now)
        targets = [ticket.assignee_userid] if ticket.assignee_userid else []
        targets += [c.userid for c in routing.cadres_for(ctx.session, ticket.village, ticket.town)]
        for userid in dict.fromkeys(targets):
            text = privacy.for_viewer(note, userid == ticket.assignee_userid)
            ctx.send(userid, ctx.t("tickets.push_resident_note", number=ticket.number, text=text),
                     dedupe_key=f"reopen-note:{ticket.id}:{msg.inbound_id}:{userid}")
            if msg.msg_type == "image" and msg.media_id:
                ctx.send_message(userid, "image", {"media_id": msg.media_id},
                                 dedupe_key=f"reopen-note:{ticket.id}:{msg.inbound_id}:{userid}:image")
        ctx.reply(ctx.t("tickets.resident_note_added", number=ticket.number))


_COMMANDS = TicketCommands()
