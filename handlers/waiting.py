"""待补充 #n 问题: the grid worker asks the resident (the clocks pause); the resident's next message
answers it, goes to the grid worker, and the clocks resume."""
from __future__ import annotations

from sqlalchemy import select

from bot import cadre_words, privacy, sla
from bot.models import Ticket
from bot.tickets import routing, service, states
from bot.tickets.service import SYSTEM, TicketError
from handlers.base import Handler, Message
from handlers.tickets import changeable_ticket, send_notices

ANSWER_TYPES = ("text", "image")


class AskResident(Handler):
    """待补充 #n 问题 from the grid worker (or a cadre of the area)."""

    name = "ask_resident"

    def check(self, msg: Message, ctx) -> bool:
        if not msg.is_text:
            return False
        cmd = cadre_words.parse(msg.text)
        return cmd is not None and cmd.action == "wait"

    def handle(self, msg: Message, ctx) -> None:
        cmd = cadre_words.parse(msg.text)
        ticket = changeable_ticket(ctx, cmd.number, refusal="cadre.wait_not_allowed")
        if ticket is None:
            return
        if not cmd.rest:
            ctx.reply(ctx.t("cadre.wait_need_question", number=ticket.number))
            return
        notices = []
        try:
            if states.allowed(ticket.status, "acknowledge"):
                notices += service.acknowledge(ctx.session, ticket, ctx.person, "", ctx.now)
            notices += service.wait_for_resident(ctx.session, ticket, ctx.person, cmd.rest, ctx.now)
        except TicketError:
            ctx.reply(ctx.t("cadre.wait_illegal", number=ticket.number, status=service.status_name(ticket.status)))
            return
        sla.pause(ticket, ctx.now)
        send_notices(ctx, notices)
        ctx.send(ticket.reporter_userid, ctx.t("cadre.wait_ask_resident", number=ticket.number,
                                               category=ticket.service_name, name=ctx.person.name,
                                               question=cmd.rest),
                 channel=ticket.reporter_channel, dedupe_key=f"wait:{ticket.id}:{msg.inbound_id}")
        ctx.reply(ctx.t("cadre.wait_done", number=ticket.number))


def waiting_ticket(session, userid: str) -> Ticket | None:
    """The resident's ticket that is waiting for their answer (the latest)."""
    return session.scalar(select(Ticket).where(Ticket.reporter_userid == userid, Ticket.status == "waiting")
                          .order_by(Ticket.updated_at.desc(), Ticket.id.desc()).limit(1))


class ResidentAnswer(Handler):
    """The resident's reply while their ticket waits for them."""

    name = "resident_answer"

    def check(self, msg: Message, ctx) -> bool:
        if msg.msg_type not in ANSWER_TYPES or ctx.state.get() is not None:
            return False
        return waiting_ticket(ctx.session, ctx.user_id) is not None

    def handle(self, msg: Message, ctx) -> None:
        ticket = waiting_ticket(ctx.session, ctx.user_id)
        answer = msg.text if msg.is_text else (msg.pic_url or msg.media_id)
        service.resume(ctx.session, ticket, SYSTEM, answer, ctx.now)
        sla.resume(ticket, ctx.now)
        staff = ticket.assignee_userid
        targets = [staff] if staff else [c.userid for c in routing.cadres_for(ctx.session, ticket.village, ticket.town)]
        key = f"answer:{ticket.id}:{msg.inbound_id}"
        for userid in targets:
            if msg.is_text:
                text = privacy.for_viewer(msg.text, userid == ticket.assignee_userid)
                ctx.send(userid, ctx.t("cadre.wait_answer_push", number=ticket.number, text=text),
                         dedupe_key=f"{key}:{userid}")
            else:
                service.add_media(ctx.session, ticket, "photo", msg.media_id, msg.pic_url, ctx.user_id, ctx.now)
                ctx.send(userid, ctx.t("cadre.wait_answer_photo", number=ticket.number), dedupe_key=f"{key}:{userid}")
                if msg.media_id:
                    ctx.send_message(userid, "image", {"media_id": msg.media_id}, dedupe_key=f"{key}:{userid}:image")
        ctx.reply(ctx.t("cadre.wait_answer_thanks", number=ticket.number))
