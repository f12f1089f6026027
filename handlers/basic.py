"""Handlers every conversation needs: unreadable types, 取消, an active conversation, help, fallback."""
from __future__ import annotations

import re

from handlers.base import Handler, Message

CANCEL_WORDS = {"取消", "算了", "唔要了", "不用了", "退出", "cancel"}
HELP_WORDS = {"帮助", "幫助", "help", "菜单", "菜單", "功能", "你好", "您好", "hi", "hello", "在吗", "在嗎",
              "喂", "哈喽", "在不在", "有人吗", "有人在吗", "有冇人", "有冇人呀", "喺唔喺度", "早晨", "早上好", "晚上好", "下午好", "你系边个", "你是谁", "?", "？"}
# Thanks and "ok" after a reply (多谢, 收到, 好的, 👍): nothing to do, and nothing to pass to a person.
THANKS_WORDS = ("谢谢", "多谢", "感谢", "唔该", "辛苦", "thanks", "thankyou", "thx", "🙏")
ACK_WORDS = (*THANKS_WORDS, "好的", "好嘅", "好咧", "好", "收到", "知道了", "知道", "明白了", "明白", "了解",
             "确认", "ok", "okay", "嗯嗯", "嗯", "哦", "噢", "喔", "👌", "👍")
ACK_FILLERS = set("你您们哋啊呀哈啦喔哦嗯了的晒咗嘅先")
TYPE_TEXT_KEYS = {"voice": "common.kind_voice", "video": "common.kind_video", "file": "common.kind_file",
                  "link": "common.kind_link"}
# Event types that need no reply (the 微信客服 and ticket modules register their own handlers first).
SILENT_EVENTS = {"subscribe", "unsubscribe", "view", "location", "batch_job_result", "change_contact",
                 "open_approval_change", "taskcard_click", "template_card_event", "template_card_menu_event",
                 "kf_msg_or_event", "kf_account_auth_change", "change_external_contact"}


def _plain(text: str) -> str:
    return re.sub(r"[\s，。！？、,.!?~～]+", "", text).lower()


class Unsupported(Handler):
    """Voice, video, files and links: say politely what we can read. Unknown events: stay silent."""

    name = "unsupported"
    READABLE = {"text", "image", "location"}

    def check(self, msg: Message, ctx) -> bool:
        return msg.msg_type not in self.READABLE

    def handle(self, msg: Message, ctx) -> None:
        if msg.msg_type == "event":
            if msg.event == "enter_agent":
                ctx.reply(Help.menu(ctx))
            return  # other events need no answer
        kind = ctx.t(TYPE_TEXT_KEYS.get(msg.msg_type, "common.kind_other"))
        ctx.reply(ctx.t("common.unsupported_type", kind=kind))


class InvalidInput(Handler):
    """A location off the globe or a photo whose id cannot be real: say so plainly, keep any draft."""

    name = "invalid_input"

    def check(self, msg: Message, ctx) -> bool:
        return bool(msg.problem)

    def handle(self, msg: Message, ctx) -> None:
        ctx.reply(ctx.t(f"common.invalid_{msg.problem}"))


class Cancel(Handler):
    """取消: end whatever conversation is going on."""

    name = "cancel"

    def check(self, msg: Message, ctx) -> bool:
        return msg.is_text and _plain(msg.text) in CANCEL_WORDS

    def handle(self, msg: Message, ctx) -> None:
        from handlers.followup import ANSWERED

        state = ctx.state.get()
        remembered = state is not None and state.name == ANSWERED   # an answer remembered, not an operation
        cleared = ctx.state.clear()
        ctx.reply(ctx.t("common.cancelled" if cleared and not remembered else "common.nothing_to_cancel"))


class ActiveConversation(Handler):
    """While a conversation is going on, its owner gets the user's messages."""

    name = "conversation"

    def check(self, msg: Message, ctx) -> bool:
        state = ctx.state.get()
        if state is None:
            return False
        from handlers import owner_of

        return owner_of(state.name) is not None

    def handle(self, msg: Message, ctx) -> None:
        from handlers import owner_of

        owner_of(ctx.state.get().name).continue_conversation(msg, ctx)


class Help(Handler):
    """A greeting, 帮助 or an empty message: the short menu."""

    name = "help"

    def check(self, msg: Message, ctx) -> bool:
        return msg.is_text and (not msg.text.strip() or _plain(msg.text) in HELP_WORDS)

    def handle(self, msg: Message, ctx) -> None:
        ctx.reply(self.menu(ctx))

    @staticmethod
    def menu(ctx) -> str:
        """The help menu, naming the sender's village when we know it."""
        village = ""
        person = ctx.person
        if person is not None:
            village = person.village or ""
            if not village and person.patch:
                from sqlalchemy import select

                from bot.models import Patch

                village = ctx.session.scalar(select(Patch.village).where(Patch.code == person.patch)) or ""
        return ctx.t("common.help", village=village or ctx.t("common.default_village"))


# WeCom's own emoji arrive as their names in brackets: [强] [OK] [抱拳] [微笑]
WECOM_EMOJI = re.compile(r"\[[^\[\]\s]{1,4}\]")


def is_acknowledgement(text: str) -> bool:
    """Only thanks or "ok": 谢谢, 好的谢谢你, 唔该晒, 收到👍, 谢谢[抱拳], [强] (not 谢谢你们帮我修好路灯,
    which says more)."""
    plain = _plain(text)
    rest = WECOM_EMOJI.sub("", plain)
    if not rest:
        return bool(plain)   # emoji alone: a thumbs-up
    found = False
    for word in sorted(ACK_WORDS, key=len, reverse=True):
        if word in rest:
            rest, found = rest.replace(word, ""), True
    return found and all(ch in ACK_FILLERS for ch in rest)


class Acknowledgement(Handler):
    """Thanks or "ok" with no conversation going on: a short reply, never "not understood" and never an
    offer to forward "谢谢" to the committee as a question."""

    name = "acknowledgement"

    def check(self, msg: Message, ctx) -> bool:
        return msg.is_text and is_acknowledgement(msg.text)

    def handle(self, msg: Message, ctx) -> None:
        thanks = any(w in _plain(msg.text) for w in THANKS_WORDS)
        ctx.reply(ctx.t("common.thanks_reply" if thanks else "common.ack_reply"))


class Fallback(Handler):
    """Nothing else took it: say so and show how to ask."""

    name = "fallback"

    def check(self, msg: Message, ctx) -> bool:
        return True

    def handle(self, msg: Message, ctx) -> None:
        if msg.msg_type != "text":
            ctx.reply(ctx.t("common.unsupported_type", kind=ctx.t("common.kind_other")))
            return
        from handlers.certificate import offer_person

        offer_person(ctx, msg.text, key="common.fallback")   # never a dead end: a person can answer it
