"""Turn recorded inbound messages into handler calls, one user at a time, in arrival order."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import InterfaceError, OperationalError

from bot import limits, runtime
from bot.context import Context
from bot.db import session_scope
from bot.delivery import deliver_to, enqueue_rows
from bot.models import InboundMessage
from bot.timeutil import utcnow
from handlers.base import Message

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
LOCK_SECONDS = 120   # a worker killed mid-job holds a user's lock this long at most
LOCK_WAIT = 5
TRANSIENT = (OperationalError, InterfaceError, ConnectionError, TimeoutError)


def to_message(row: InboundMessage) -> Message:
    """Build the handler-facing ``Message`` from a recorded payload; values WeCom could never mean
    (a coordinate off the globe, an over-long media id) are dropped and named in ``problem``."""
    p = row.payload or {}
    msg_type = (p.get("MsgType") or row.msg_type or "").lower()

    def _str(key):
        value = p.get(key)
        return value.strip() if isinstance(value, str) else ""

    msg = Message(
        inbound_id=row.id, channel=row.channel, user_id=row.user_id, msg_type=msg_type,
        text=_str("Content"), event=_str("Event").lower(), event_key=_str("EventKey"),
        media_id=_str("MediaId"), pic_url=_str("PicUrl"),
        label=_str("Label"), task_id=_str("TaskId"), response_code=_str("ResponseCode"), open_kfid=_str("OpenKfId"),
        raw=p,
    )
    if msg_type == "location":
        msg.lat, msg.lng = limits.coordinate(p.get("Location_X"), 90), limits.coordinate(p.get("Location_Y"), 180)
        if msg.lat is None or msg.lng is None:
            msg.lat = msg.lng = None
            msg.problem = "location"
        msg.label = limits.fit(msg.label, limits.ADDRESS)
    if msg.media_id and len(msg.media_id) > limits.MEDIA_ID:
        msg.media_id, msg.problem = "", "media"
    if msg.pic_url and len(msg.pic_url) > limits.URL:
        msg.pic_url = ""   # a link we could not keep; the media id is what we use
    return msg


def enqueue_jobs(jobs: list[tuple[str, tuple]]) -> None:
    """After commit: enqueue the jobs a handler asked for; if the queue is down, the sweeper catches up."""
    rt = runtime.get()
    for path, args in jobs:
        try:
            rt.queue.enqueue(path, *args)
        except Exception as exc:
            log.warning("could not enqueue %s%r (%s); the sweeper will", path, args, type(exc).__name__)


def process_inbound(inbound_id: int, channel: str | None = None, user_id: str | None = None) -> None:
    """Job: process the pending messages of this message's sender, oldest first."""
    if channel is None or user_id is None:
        rt = runtime.get()
        with session_scope(rt.config.DATABASE_URL) as s:
            row = s.get(InboundMessage, inbound_id)
            if row is None or row.status != "pending":
                return
            channel, user_id = row.channel, row.user_id
    process_user(channel, user_id)


def process_user(channel: str, user_id: str) -> None:
    """Process one user's pending messages in order, each exactly once, under a per-user lock;
    then deliver this user's own replies in the same job (other recipients get delivery jobs)."""
    rt = runtime.get()
    answered = False
    with rt.lock(f"user:{channel}:{user_id}", timeout=LOCK_SECONDS, wait=LOCK_WAIT) as got:
        if not got:  # another worker is on this user; come back rather than block a worker
            rt.queue.enqueue("bot.dispatch.process_user", channel, user_id, delay=LOCK_WAIT)
            return
        while True:
            outcome = _process_next(rt, channel, user_id)
            if outcome is None:
                break
            answered = answered or outcome
    if answered:
        try:
            deliver_to(channel, user_id)
        except Exception as exc:  # the delivery job (or the sweeper) sends them instead
            log.warning("inline delivery to %s failed (%s); queued instead", channel, type(exc).__name__)
            rt.queue.enqueue("bot.delivery.deliver_to", channel, user_id)


def _process_next(rt, channel: str, user_id: str) -> bool | None:
    """Process the user's oldest pending message; None when there is none (or it must wait),
    else whether it queued anything for the user themself."""
    url = rt.config.DATABASE_URL
    queued = []
    jobs: list[tuple[str, tuple]] = []
    retry_id = None
    with session_scope(url) as s:
        row = s.scalar(select(InboundMessage).where(
            InboundMessage.channel == channel, InboundMessage.user_id == user_id,
            InboundMessage.status == "pending").order_by(InboundMessage.id).limit(1).with_for_update())
        if row is None:
            return None
        msg = to_message(row)
        ctx = Context(s, rt.config, channel, user_id, open_kfid=msg.open_kfid)
        try:
            with s.begin_nested():
                from handlers import route

                route(msg, ctx)
        except TRANSIENT:
            raise  # the whole transaction rolls back; the job (or the sweeper) runs it again
        except Exception as exc:
            log.exception("inbound %s: handler failed", row.id)
            row.attempts += 1
            row.error = f"{type(exc).__name__}: {exc}"[:1000]
            ctx.queued = []
            ctx.after_commit = []
            if row.attempts < MAX_ATTEMPTS:
                retry_id = row.id  # keep it pending; later messages wait behind it
            else:
                if not user_id.startswith("kf-event:"):  # a 微信客服 notification has nobody to tell
                    ctx.reply(ctx.t("common.error"), dedupe_key=f"error:{row.id}")
                row.status = "failed"
                row.processed_at = utcnow()
                queued = ctx.queued
        else:
            row.status = "done"
            row.processed_at = utcnow()
            queued = ctx.queued
            jobs = ctx.after_commit
    own = [r for r in queued if (r.channel, r.to_user) == (channel, user_id)]
    enqueue_rows([r for r in queued if (r.channel, r.to_user) != (channel, user_id)])
    enqueue_jobs(jobs)
    if retry_id is not None:
        rt.queue.enqueue("bot.dispatch.process_inbound", retry_id, delay=3)
        return None
    return bool(own)
