"""微信客服: pull WeChat residents' messages, greet them on entering, and remember where they live."""
from __future__ import annotations

import logging

from sqlalchemy import select

from bot import outbox
from bot.errors import WeComError
from bot.kf import village
from bot.kf.sync import sync
from bot.models import Patch
from handlers.base import Handler, Message
from handlers.basic import Help

log = logging.getLogger(__name__)


class KfSync(Handler):
    """The ``kf_msg_or_event`` callback: pull the new messages; each is then handled like an app message."""

    name = "kf_sync"

    def check(self, msg: Message, ctx) -> bool:
        return msg.msg_type == "event" and msg.event == "kf_msg_or_event"

    def handle(self, msg: Message, ctx) -> None:
        open_kfid = msg.open_kfid
        if not open_kfid:
            log.warning("kf_msg_or_event without OpenKfId ignored")
            return
        try:
            sync(ctx, open_kfid, str(msg.raw.get("Token") or ""))
        except WeComError as exc:
            if exc.transient:
                raise ConnectionError(f"kf/sync_msg: {exc}") from exc  # rolled back and retried by the queue
            log.error("kf sync %s failed: %s; the next callback pulls from the same cursor", open_kfid, exc)


class KfSession(Handler):
    """Events from the KF session: ``enter_session`` gets the greeting and menu; the rest need no answer."""

    name = "kf_session"

    def check(self, msg: Message, ctx) -> bool:
        return msg.channel == "kf" and msg.msg_type == "event"

    def handle(self, msg: Message, ctx) -> None:
        code = str(msg.raw.get("WelcomeCode") or "")
        if msg.event != "enter_session" or not code:
            return
        text = Help.menu(ctx)
        person = ctx.person
        if person is None or not (person.village or person.patch):
            text += "\n" + ctx.t("kf.ask_village")
        ctx.queued.append(outbox.queue_message(
            ctx.session, ctx.user_id, "text", {"content": outbox.split_text(text)[0], "welcome_code": code},
            channel="kf", dedupe_key=f"kf-welcome:{code}"[:200], open_kfid=msg.open_kfid or None))


class TellVillage(Handler):
    """A resident says where they live ("我住在大沙墟社区"): remember it for routing their reports."""

    name = "tell_village"

    def check(self, msg: Message, ctx) -> bool:
        if not msg.is_text or ctx.role != "resident" or ctx.person is None:
            return False
        said = village.said_place(msg.text)
        if said is None:
            return False
        place, certain = said
        return certain or village.match_village(ctx.session, place) is not None

    def handle(self, msg: Message, ctx) -> None:
        place, _ = village.said_place(msg.text)
        found = village.match_village(ctx.session, place)
        if found is None:
            names = ctx.session.scalars(select(Patch.village).distinct().order_by(Patch.village)).all()
            shown = [village.core(n) + ("村" if n.endswith("村委会") else "社区") for n in names]
            ctx.reply(ctx.t("kf.village_unknown", place=place, example=shown[0] if shown else "楼冈社区",
                            villages="、".join(shown)))
            return
        code = village.remember(ctx.session, ctx.person, found)
        if code:
            patch_name = ctx.session.scalar(select(Patch.name).where(Patch.code == code)) or code
            ctx.reply(ctx.t("kf.village_saved_patch", village=found, patch=patch_name))
        else:
            ctx.reply(ctx.t("kf.village_saved", village=found))
