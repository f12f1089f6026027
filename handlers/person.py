"""转人工: a resident asks for a person rather than the bot.

The next message goes to one: a report to the grid worker of its patch (the complaint intake), anything
else to the village or community committee as a consultation ticket. Asked for twice, the request itself
is forwarded, so that someone calls back: never a loop of "please say what it is about".
"""
from __future__ import annotations

from datetime import timedelta

from bot.tickets.words import plain, words
from handlers.base import Handler, Message

WANTED = "person.wanted"
STATE_TTL = timedelta(minutes=30)
# What may stand around the words of ``ask_person`` in a message that asks for nothing else:
# 我要找真人, 可唔可以同工作人员讲呀 (but not 工作人员几点上班, which asks something).
FILLERS = set("我要想请帮麻烦可以能不唔该你您好吗呀啊啦转找跟同和讲说话一下个的嘅有冇没在喺度呢哋俾给")


def asks_for_person(text: str) -> bool:
    p = plain(text)
    if p == "人工":    # alone it is the agent; in a sentence it is a wage (冇人工)
        return True
    for word in words().ask_person:
        if word in p:
            return all(ch in FILLERS for ch in p.replace(word, "", 1))
    return False


class AskForPerson(Handler):
    """转人工 / 人工客服 / 我要找工作人员."""

    name = "ask_person"
    states = (WANTED,)

    def check(self, msg: Message, ctx) -> bool:
        return msg.is_text and asks_for_person(msg.text)

    def handle(self, msg: Message, ctx) -> None:
        ctx.state.set(WANTED, {}, ttl=STATE_TTL, expiry_text=None)
        ctx.reply(ctx.t("common.person_ask"))

    def continue_conversation(self, msg: Message, ctx) -> None:
        from handlers import route
        from handlers.certificate import file_request
        from handlers.complaint import looks_like_complaint

        ctx.state.clear()
        text = msg.text.strip() if msg.is_text else ""
        if text and (asks_for_person(text) or not looks_like_complaint(text)):
            file_request(ctx, text)   # a consultation ticket: the committee answers, or calls back
            return
        route(msg, ctx)               # a report (or a photo, a location): the intake files it for the worker
