"""Record an accepted callback message exactly once and hand it to the queue."""
from __future__ import annotations

import functools
import logging

from sqlalchemy.exc import DBAPIError, IntegrityError

from bot import runtime
from bot.db import get_engine, is_unique_violation
from bot.errors import RejectedCallback
from bot.models import InboundMessage

log = logging.getLogger(__name__)

# Column sizes of ``inbound_message``: anything longer is not a WeCom message (userids are at
# most 64 characters, MsgId is a 64-bit number), and PostgreSQL would refuse it with a 500.
MAX_USER_ID = 100
MAX_MSG_TYPE = 30
MAX_MSG_ID = 64


def dedupe_key(msg: dict) -> tuple[str, str, str]:
    """(dedupe key, channel, user id) for a decrypted message, as WeCom identifies repeats.

    Messages repeat with the same MsgId; events with the same FromUserName + CreateTime + Event.
    The 微信客服 notification carries no sender: it is keyed by its Token.
    """
    msg_type = msg.get("MsgType") or ""
    if not isinstance(msg_type, str) or len(msg_type) > MAX_MSG_TYPE:
        raise RejectedCallback(400, "MsgType is not a short string")
    sender = msg.get("FromUserName")
    event = str(msg.get("Event") or "")
    if msg_type == "event" and event == "kf_msg_or_event":
        token = str(msg.get("Token") or msg.get("CreateTime") or "")
        open_kfid = str(msg.get("OpenKfId") or "")
        if len(open_kfid) > MAX_USER_ID - len("kf-event:"):
            raise RejectedCallback(400, "OpenKfId too long")
        return f"kfevt:{open_kfid}:{token}"[:200], "app", f"kf-event:{open_kfid}"
    if not isinstance(sender, str) or not sender:
        raise RejectedCallback(400, "message has no FromUserName")
    if len(sender) > MAX_USER_ID:
        raise RejectedCallback(400, "FromUserName too long")
    if msg_type != "event" and msg.get("MsgId"):
        msg_id = msg["MsgId"]
        if not isinstance(msg_id, str) or len(msg_id) > MAX_MSG_ID:
            raise RejectedCallback(400, "MsgId is not a short string")
        return f"msg:{msg_id}", "app", sender
    key = f"evt:{sender}:{msg.get('CreateTime', '')}:{event}"
    if msg.get("EventKey"):
        key += f":{msg['EventKey']}"
    if msg.get("TaskId"):
        key += f":{msg['TaskId']}"
    return key[:200], "app", sender


def record(msg: dict) -> int | None:
    """Store the message; return its id, or None if it is a repeat already recorded.

    One INSERT ... ON CONFLICT DO NOTHING RETURNING id in its own transaction: no ORM unit of
    work on the hot path, and a repeat costs no error. A connection found dead (the database
    restarted) is retried once on a fresh one.
    """
    rt = runtime.get()
    key, channel, user_id = dedupe_key(msg)
    engine = get_engine(rt.config.DATABASE_URL)
    values = {"dedupe_key": key, "channel": channel, "user_id": user_id,
              "msg_type": msg.get("MsgType") or "", "payload": msg}
    for attempt in (1, 2):
        try:
            with engine.begin() as conn:
                inbound_id = conn.execute(_insert_statement(engine.dialect.name), values).scalar()
            break
        except DBAPIError as exc:
            if isinstance(exc, IntegrityError) and is_unique_violation(exc):
                inbound_id = None
                break
            if attempt == 2 or not exc.connection_invalidated:
                raise
    if inbound_id is None:
        log.info("callback: repeat of %s ignored", key.split(":")[0])
    return inbound_id


@functools.cache
def _insert_statement(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return (insert(InboundMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(InboundMessage.id))


def hand_to_queue(inbound_id: int, msg: dict | None = None) -> bool:
    """Enqueue processing; if the queue is down, the sweeper picks the message up later."""
    args: tuple = (inbound_id,)
    if msg is not None:  # the job then needs no look-up to know whose messages to process
        _, channel, user_id = dedupe_key(msg)
        args = (inbound_id, channel, user_id)
    try:
        runtime.get().queue.enqueue("bot.dispatch.process_inbound", *args)
        return True
    except Exception as exc:
        log.warning("callback: inbound %s recorded but not enqueued (%s); the sweeper will retry",
                    inbound_id, type(exc).__name__)
        return False
