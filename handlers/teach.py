"""教 #12 居住证明: a cadre tells Qingche what an unanswered question meant; 撤销教 #12 takes it back."""
from __future__ import annotations

import logging
import re

from bot import limits
from bot.models import CatalogueMiss
from bot.teaching import service
from bot.tickets.words import fold
from handlers.base import Handler, Message

log = logging.getLogger(__name__)
TEACH = re.compile(r"^\s*教\s*#?\s*(\d{1,10})\s*[：:，,]?\s*(.+?)\s*$")
RETIRE = re.compile(r"^\s*(?:撤销|取消|忘记)\s*教?\s*#?\s*(\d{1,10})\s*$")


class TeachCommands(Handler):
    """Cadres teach phrasings for their jurisdiction (and take them back)."""

    name = "teach"

    def check(self, msg: Message, ctx) -> bool:
        if not msg.is_text:
            return False
        text = fold(msg.text)
        return bool(TEACH.match(text) or RETIRE.match(text))

    def handle(self, msg: Message, ctx) -> None:
        person = ctx.person
        if ctx.role != "cadre" or not person.jurisdiction:
            ctx.reply(ctx.t("teach.only_cadres"))
            return
        text = fold(msg.text)
        retire = RETIRE.match(text)
        number = limits.whole_number((retire or TEACH.match(text)).group(1))
        miss = ctx.session.get(CatalogueMiss, number) if number else None
        if miss is None:
            ctx.reply(ctx.t("teach.no_miss", number=number or text))
            return
        if retire:
            row = service.retire(ctx.session, miss.id, person, ctx.now)
            ctx.reply(ctx.t("teach.retired" if row else "teach.nothing_to_retire", number=miss.id,
                            jurisdiction=person.jurisdiction))
            return
        name = TEACH.match(msg.text.strip()) or TEACH.match(text)
        item = service.resolve_entry(name.group(2))
        if item is None:
            ctx.reply(ctx.t("teach.no_entry", name=name.group(2)))
            return
        service.teach(ctx.session, miss, item, person, ctx.now)
        log.info("taught question %s as %s for %s by %s", miss.id, item.id, person.jurisdiction, person.userid)
        ctx.reply(ctx.t("teach.done", number=miss.id, text=miss.text[:60], name=item.name,
                        jurisdiction=person.jurisdiction))
