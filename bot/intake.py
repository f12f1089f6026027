"""Record an accepted callback message exactly once and hand it to the queue."""
from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from bot import runtime
from bot.db import is_unique_violation, session_scope
from bot.errors import RejectedCallback
from bot.models import InboundMessage

log = logging.getLogger(__name__)


def dedupe_key(msg: dict) -> tuple[str, str, str]:
    """(dedupe key, channel, user id) for a decrypted message, as WeCom identifies repeats.

    Messages repeat with the same MsgId; events with the same FromUserName + CreateTime + Event.
    The 微信客服 notification carries no sender: it is keyed by its Token.
    """
    msg_type = str(msg.get("MsgType") or "")
    sender = msg.get("FromUserName")
    event = str(msg.get("Event") or "")
    if msg_type == "event" and event == "kf_msg_or_event":
        token = str(msg.get("Token") or msg.get("CreateTime") or "")
        open_kfid = str(msg.get("OpenKfId") or "")
        return f"kfevt:{open_kfid}:{token}", "app", f"kf-event:{open_kfid}"
    if not isinstance(sender, str) or not sender:
        raise RejectedCallback(400, "message has no FromUserName")
    if msg_type != "event" and msg.get("MsgId"):
        return f"msg:{msg['MsgId']}", "app", sender
    key = f"evt:{sender}:{msg.get('CreateTime', '')}:{event}"
    if msg.get("EventKey"):
        key += f":{msg['EventKey']}"
    if msg.get("TaskId"):
        key += f":{msg['TaskId']}"
    return key[:200], "app", sender


def record(msg: dict) -> int | None:
    """Store the message; return its id, or None if it is a repeat already recorded."""
    rt = runtime.get()
    key, channel, user_id = dedupe_key(msg)
    try:
        with session_scope(rt.config.DATABASE_URL) as s:
            row = InboundMessage(dedupe_key=key, channel=channel, user_id=user_id,
                                 msg_type=str(msg.get("MsgType") or ""), payload=msg)
            s.add(row)
            s.flush()
            inbound_id = row.id
    except IntegrityError as exc:
        if is_unique_violation(exc):
            log.info("callback: repeat of %s ignored", key.split(":")[0])
            return None
        raise
    return inbound_id


def hand_to_queue(inbound_id: int) -> bool:
    """Enqueue processing; if the queue is down, the sweeper picks the message up later."""
    try:
        runtime.get().queue.enqueue("bot.dispatch.process_inbound", inbound_id)
        return True
    except Exception as exc:
        log.warning("callback: inbound %s recorded but not enqueued (%s); the sweeper will retry",
                    inbound_id, type(exc).__name__)
        return False
