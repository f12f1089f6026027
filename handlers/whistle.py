"""吹哨 #n 部门 说明 (grid worker or cadre), 报到 #n and 办结 #n 说明 (the department's liaison)."""
from __future__ import annotations

from bot import cadre_words, whistles
from bot.tickets import service
from bot.tickets.words import parse_command
from bot.timeutil import fmt_local
from handlers.base import Handler, Message
from handlers.tickets import send_notices


class WhistleCommands(Handler):
    """Calls a department in on a ticket, and the liaison's answers."""

    name = "whistle"

    def check(self, msg: Message, ctx) -> bool:
        if not msg.is_text:
            return False
        cmd = cadre_words.parse(msg.text)
        if cmd is not None and cmd.action in ("whistle", "report"):
            return True
        return ctx.role == "department" and self._liaison_resolve(msg, ctx) is not None

    def _liaison_resolve(self, msg: Message, ctx):
        """The liaison's ``办结 #n 说明`` for a ticket whistled to their department, else None."""
        cmd = parse_command(msg.text)
        if cmd is None or cmd.action != "resolve" or cmd.number is None:
            return None
        ticket = service.find(ctx.session, cmd.number)
        if ticket is None or not whistles.active_for(ctx.session, ticket, ctx.person.department):
            return None
        return ticket, cmd.note

    def handle(self, msg: Message, ctx) -> None:
        cmd = cadre_words.parse(msg.text)
        if cmd is None:
            ticket, note = self._liaison_resolve(msg, ctx)
            self._resolve(ctx, ticket, note)
            return
        ticket = service.find(ctx.session, cmd.number)
        if ticket is None:
            ctx.reply(ctx.t("tickets.not_found", number=cmd.number))
            return
        try:
            if cmd.action == "whistle":
                if ctx.person is None:
                    raise whistles.WhistleError("whistle_not_allowed", number=ticket.number)
                whistle, notices = whistles.blow(ctx.session, ticket, ctx.person, cmd.rest, ctx.now)
                done = ctx.t("cadre.whistle_done", department=whistle.department, number=ticket.number,
                             report_by=fmt_local(whistle.report_by))
            else:
                if ctx.person is None:
                    raise whistles.WhistleError("report_no_whistle", number=ticket.number)
                whistle, notices = whistles.report(ctx.session, ticket, ctx.person, ctx.now)
                done = ctx.t("cadre.report_done", number=ticket.number, department=whistle.department)
        except whistles.WhistleError as exc:
            ctx.reply(exc.message)
            return
        send_notices(ctx, notices)
        ctx.reply(done)

    def _resolve(self, ctx, ticket, note: str) -> None:
        if not note:
            ctx.reply(ctx.t("cadre.liaison_need_note", number=ticket.number))
            return
        whistle, notices = whistles.resolve(ctx.session, ticket, ctx.person, note, ctx.now)
        send_notices(ctx, notices)
        ctx.reply(ctx.t("cadre.liaison_resolve_done", number=ticket.number, department=whistle.department))
