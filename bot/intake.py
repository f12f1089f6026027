"""Record each accepted callback message exactly once and hand it to the queue."""
from __future__ import annotations

import functools
import json
import logging
from collections.abc import Sequence
from typing import NamedTuple

from sqlalchemy.exc import DBAPIError

from bot import runtime
from bot.db import get_autocommit_engine, get_engine
from bot.errors import RejectedCallback
from bot.groupcommit import GroupCommit
from bot.models import InboundMessage
from bot.timeutil import utcnow

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


class Entry(NamedTuple):
    """An accepted message, ready to record: its dedupe key, channel, sender and row values."""
    key: str
    channel: str
    user_id: str
    values: dict


def entry(msg: dict) -> Entry:
    """Check ``msg`` and build its row (raises ``RejectedCallback`` for what WeCom never sends)."""
    key, channel, user_id = dedupe_key(msg)
    return Entry(key, channel, user_id, {"dedupe_key": key, "channel": channel, "user_id": user_id,
                                         "msg_type": msg.get("MsgType") or "", "payload": msg})


def accept(msg: dict) -> int | None:
    """Record ``msg`` durably and hand it to the queue; its id, or None for a repeat.

    Callbacks arriving together in one web process (gunicorn threads) are recorded by one INSERT
    and enqueued in one Redis round trip (``bot.groupcommit``); each still returns only once its
    own row is committed, so nothing is acknowledged before it is stored.
    """
    return _group.submit(entry(msg))


def record_many(entries: Sequence[Entry]) -> list[int | None]:
    """Store the messages; for each, its new id, or None if it is a repeat already recorded (or
    repeated earlier in ``entries``).

    One INSERT ... ON CONFLICT DO NOTHING RETURNING for the lot: no ORM unit of work on the hot
    path, and a repeat costs no error. On PostgreSQL it runs in autocommit mode, so the statement
    commits itself (durably: synchronous_commit stays on) in one round trip instead of BEGIN,
    INSERT, COMMIT. A connection found dead (the database restarted) is retried once on a fresh one.
    """
    url = runtime.get().config.DATABASE_URL
    engine = get_engine(url)
    statement = _insert_statement(engine.dialect.name)
    rows = [e.values for e in entries]
    for attempt in (1, 2):
        try:
            if engine.dialect.name == "postgresql":
                with get_autocommit_engine(url).connect() as conn:
                    stored = conn.exec_driver_sql(_pg_insert_sql(len(rows)), _pg_params(rows)).all()
            else:  # SQLite takes its write lock in BEGIN IMMEDIATE (bot.db); keep the transaction
                with engine.begin() as conn:
                    stored = conn.execute(statement, rows).all()
            break
        except DBAPIError as exc:
            if attempt == 2 or not exc.connection_invalidated:
                raise
    ids = {key: inbound_id for inbound_id, key in stored}
    out = [ids.pop(e.key, None) for e in entries]
    for e, inbound_id in zip(entries, out, strict=True):
        if inbound_id is None:
            log.info("callback: repeat of %s ignored", e.key.split(":")[0])
    return out


# PostgreSQL, the production path: the multi-row INSERT written out, so the hot path skips
# SQLAlchemy's statement compilation and executemany batching (+8 % acknowledgements under load,
# docs/PERFORMANCE.md). Same columns and defaults as the model, the payload serialised as the
# model's JSON column does; every PostgreSQL test exercises it.
_PG_COLUMNS = "dedupe_key, channel, user_id, msg_type, payload, status, attempts, received_at"
_PG_ROW = "(%s, %s, %s, %s, %s, 'pending', 0, %s)"


@functools.cache
def _pg_insert_sql(n: int) -> str:
    return (f"INSERT INTO inbound_message ({_PG_COLUMNS}) VALUES {', '.join([_PG_ROW] * n)}"
            " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id, dedupe_key")


def _pg_params(rows: list[dict]) -> tuple:
    now = utcnow()
    return tuple(value for r in rows for value in (r["dedupe_key"], r["channel"], r["user_id"], r["msg_type"],
                                                   json.dumps(r["payload"]), now))


@functools.cache
def _insert_statement(dialect: str):
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    return (insert(InboundMessage).on_conflict_do_nothing(index_elements=["dedupe_key"])
            .returning(InboundMessage.id, InboundMessage.dedupe_key))


def hand_to_queue(jobs: Sequence[tuple[int, Entry]]) -> bool:
    """Enqueue processing of each (id, entry); if the queue is down, the sweeper picks them up later."""
    if not jobs:
        return True
    try:
        # The job is told whose messages to process, so it needs no look-up.
        runtime.get().queue.enqueue_many("bot.dispatch.process_inbound",
                                         [(inbound_id, e.channel, e.user_id) for inbound_id, e in jobs])
        return True
    except Exception as exc:
        log.warning("callback: %s inbound recorded but not enqueued (%s); the sweeper will retry",
                    len(jobs), type(exc).__name__)
        return False


def _record_and_enqueue(entries: Sequence[Entry]) -> list[int | None]:
    ids = record_many(entries)
    hand_to_queue([(inbound_id, e) for inbound_id, e in zip(ids, entries, strict=True) if inbound_id is not None])
    return ids


_group = GroupCommit(_record_and_enqueue)
