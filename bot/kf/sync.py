"""Pull 微信客服 messages with ``kf/sync_msg`` and record each one once, as its own inbound message.

A ``kf_msg_or_event`` callback only says "there is something new" (with a short-lived token).
The sync runs in the dispatcher's transaction, under its per-user lock on ``kf-event:<open_kfid>``,
so two syncs for one account never interleave and the cursor is safe. Each customer message
becomes an ``InboundMessage`` on channel ``kf`` (deduplicated by its ``msgid``), with a payload
shaped like an app callback's, and is processed by the same handlers after the commit.
"""
from __future__ import annotations

import logging
from datetime import UTC, datetime

from sqlalchemy import select

from bot import runtime
from bot.context import Context
from bot.db import add_unique
from bot.errors import WeComError
from bot.kf import api
from bot.kf.window import WINDOW, close_window, open_window
from bot.models import InboundMessage, KfCursor, Outbox, Person
from bot.timeutil import utcnow

log = logging.getLogger(__name__)

MAX_PAGES = 50              # 50 000 messages per callback at most; the next callback carries on
INVALID_TOKEN_ERRCODE = 95007


def sync(ctx: Context, open_kfid: str, token: str = "") -> list[int]:
    """Pull everything new for ``open_kfid``; return the ids of newly recorded customer messages."""
    client = runtime.get().wecom_kf
    s = ctx.session
    cursor = s.scalar(select(KfCursor).where(KfCursor.open_kfid == open_kfid))
    if cursor is None:
        cursor = KfCursor(open_kfid=open_kfid, cursor="")
        s.add(cursor)
        s.flush()
    new_ids: list[int] = []
    for _ in range(MAX_PAGES):
        try:
            data = api.sync_msg(client, open_kfid, token=token, cursor=cursor.cursor)
        except WeComError as exc:
            if exc.errcode == INVALID_TOKEN_ERRCODE and token:
                log.info("kf sync %s: callback token refused, pulling without it", open_kfid)
                token = ""
                continue
            raise
        for item in data.get("msg_list") or []:
            inbound_id = take(ctx, item)
            if inbound_id is not None:
                new_ids.append(inbound_id)
        cursor.cursor = str(data.get("next_cursor") or cursor.cursor)
        if not data.get("has_more"):
            break
    for inbound_id in new_ids:
        ctx.after_commit.append(("bot.dispatch.process_inbound", (inbound_id,)))
    if new_ids:
        log.info("kf sync %s: %s new messages", open_kfid, len(new_ids))
    return new_ids


def take(ctx: Context, item: dict) -> int | None:
    """Act on one ``msg_list`` entry; return the new inbound id if it is something to process."""
    origin = item.get("origin")
    msgtype = str(item.get("msgtype") or "")
    if msgtype == "event":
        return _event(ctx, item)
    if origin != api.ORIGIN_CUSTOMER:
        log.debug("kf: skipping %s message from origin %s", msgtype, origin)
        return None
    external_userid = str(item.get("external_userid") or "")
    if not external_userid or not item.get("msgid"):
        log.warning("kf: customer message without external_userid or msgid skipped")
        return None
    sent_at = _time(item.get("send_time"))
    stale = utcnow() - sent_at > WINDOW
    inbound_id = _record(ctx, item, normalise(item), done=stale)
    if inbound_id is None:
        return None
    ensure_person(ctx, external_userid)
    if stale:  # an old backlog (the first sync returns 3 days): too late to answer
        return None
    open_window(ctx.session, external_userid, str(item.get("open_kfid") or ""), sent_at)
    release_held(ctx, external_userid)
    return inbound_id


def normalise(item: dict) -> dict:
    """A KF message as an app callback payload: the keys ``bot.dispatch.to_message`` reads."""
    msgtype = str(item.get("msgtype") or "")
    body = item.get(msgtype) if isinstance(item.get(msgtype), dict) else {}
    payload = {"MsgType": msgtype, "MsgId": str(item.get("msgid")), "OpenKfId": str(item.get("open_kfid") or ""),
               "FromUserName": str(item.get("external_userid") or ""), "CreateTime": item.get("send_time")}
    if msgtype == "text":
        payload["Content"] = str(body.get("content") or "")
        if body.get("menu_id"):
            payload["EventKey"] = str(body["menu_id"])
    elif msgtype in ("image", "voice", "video", "file"):
        payload["MediaId"] = str(body.get("media_id") or "")
    elif msgtype == "location":
        payload["Location_X"] = body.get("latitude")
        payload["Location_Y"] = body.get("longitude")
        payload["Label"] = " ".join(str(body.get(k) or "") for k in ("name", "address")).strip()
    elif msgtype == "link":
        payload["Title"] = str(body.get("title") or "")
        payload["Url"] = str(body.get("url") or "")
    return payload


def ensure_person(ctx: Context, external_userid: str) -> Person:
    """The WeChat resident's roster row, created on first contact."""
    person = ctx.session.scalar(select(Person).where(Person.userid == external_userid))
    if person is None:
        person = Person(userid=external_userid, role="resident", channel="kf")
        ctx.session.add(person)
        ctx.session.flush()
        log.info("kf: new WeChat resident %s", external_userid)
    return person


def release_held(ctx: Context, external_userid: str) -> int:
    """The customer wrote: their held messages become due again.

    No delivery job is enqueued here: the answer to the message they just wrote is queued a
    moment later, and its delivery job sends these first, merged with it into one message when
    they fit. Were there no answer, the sweeper sends them.
    """
    rows = ctx.session.scalars(select(Outbox).where(
        Outbox.channel == "kf", Outbox.to_user == external_userid, Outbox.status == "held")
        .order_by(Outbox.id)).all()
    now = utcnow()
    for row in rows:
        row.status = "pending"
        row.next_attempt_at = now
    return len(rows)


def _record(ctx: Context, item: dict, payload: dict, done: bool = False) -> int | None:
    row = InboundMessage(dedupe_key=f"kf:{item['msgid']}"[:200], channel="kf",
                         user_id=str(item.get("external_userid") or ""),
                         msg_type=str(payload.get("MsgType") or ""), payload=payload)
    if done:
        row.status = "done"
        row.processed_at = utcnow()
        row.error = "older than the reply window; not answered"
    return row.id if add_unique(ctx.session, row) else None


def _event(ctx: Context, item: dict) -> int | None:
    event = item.get("event") if isinstance(item.get("event"), dict) else {}
    kind = str(event.get("event_type") or "")
    external_userid = str(event.get("external_userid") or item.get("external_userid") or "")
    open_kfid = str(event.get("open_kfid") or item.get("open_kfid") or "")
    if kind == "enter_session" and external_userid and item.get("msgid"):
        payload = {"MsgType": "event", "Event": "enter_session", "MsgId": str(item["msgid"]),
                   "OpenKfId": open_kfid, "FromUserName": external_userid,
                   "WelcomeCode": str(event.get("welcome_code") or ""), "Scene": str(event.get("scene") or ""),
                   "SceneParam": str(event.get("scene_param") or ""), "CreateTime": item.get("send_time")}
        stale = utcnow() - _time(item.get("send_time")) > WINDOW
        inbound_id = _record(ctx, {**item, "external_userid": external_userid}, payload, done=stale)
        if inbound_id is not None:
            ensure_person(ctx, external_userid)
        return None if stale else inbound_id
    if kind == "msg_send_fail":
        mark_send_failed(ctx, external_userid, str(event.get("fail_msgid") or ""), event.get("fail_type"))
    else:
        log.info("kf event %s for %s on %s: %s", kind or "?", external_userid or "-", open_kfid or "-",
                 {k: v for k, v in event.items() if k not in ("event_type", "open_kfid", "external_userid")})
    return None


# fail_type values of msg_send_fail: 4 the 48 hours passed, 5 the session was closed, 6 over 5 messages
HOLD_FAIL_TYPES = frozenset({4, 5, 6})


def mark_send_failed(ctx: Context, external_userid: str, fail_msgid: str, fail_type) -> int:
    """WeChat could not deliver a message we sent: hold it for the customer's next message, or fail it."""
    try:
        fail_type = int(fail_type)
    except (TypeError, ValueError):
        fail_type = 0
    rows = ctx.session.scalars(select(Outbox).where(
        Outbox.channel == "kf", Outbox.wecom_msgid == fail_msgid, Outbox.status == "sent")).all() if fail_msgid else []
    hold = fail_type in HOLD_FAIL_TYPES
    for row in rows:
        row.status = "held" if hold else "failed"
        row.last_error = f"msg_send_fail fail_type {fail_type}"
        row.body = {**(row.body or {}), "kf_try": int((row.body or {}).get("kf_try", 0)) + 1}  # a new msgid
    if hold and external_userid:
        close_window(ctx.session, external_userid)
    log.warning("kf: message %s to %s was not delivered (fail_type %s); %s outbox rows %s", fail_msgid,
                external_userid or "-", fail_type, len(rows), "held" if hold else "failed")
    return len(rows)


def _time(value) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC).replace(tzinfo=None)
    except (TypeError, ValueError, OverflowError, OSError):
        return utcnow()

