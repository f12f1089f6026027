"""Deliver outbox rows to WeCom, per recipient, in order, paced, retried — never lost.

One job per recipient (``deliver_to``) sends that recipient's due rows oldest first under a
lock, so several workers never reorder or double-send one person's messages. WeCom drops more
than 30 messages a minute to one member silently, so we stop at ``PER_MINUTE`` and come back.
WeCom's ``enable_duplicate_check`` silently drops a message identical to one sent to the same
person within the interval, so a first send never carries it: a resident who asks the same
question twice gets the same answer twice. Only a row whose last attempt has no known outcome
(the worker died between WeCom's answer and our commit: ``in_flight_since`` is still set) is
resent with the check, so that WeCom drops it if the first attempt did arrive.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

from sqlalchemy import select

from bot import runtime
from bot.db import session_scope
from bot.errors import WeComError
from bot.models import Outbox
from bot.timeutil import utcnow

log = logging.getLogger(__name__)

PER_MINUTE = 28          # WeCom's limit is 30 a minute to one member; keep a margin
MAX_ATTEMPTS = 12
DUPLICATE_CHECK_SECONDS = 1800  # a resend after a crash: WeCom's maximum look-back (its default)


CARD_UPDATE = "card_update"   # an outbox row that updates a clicked card instead of sending a message


def retry_delay(attempts: int) -> float:
    """Seconds before the next try after ``attempts`` failures: 5 s doubling to 30 min."""
    return float(min(5 * 2 ** max(attempts - 1, 0), 1800))


def send_app(rt, row: Outbox) -> str:
    """Send one app message through ``message/send``; return WeCom's msgid."""
    if row.msgtype == CARD_UPDATE:
        return update_card(rt, row)
    body = row.body
    if row.msgtype == "file" and "media_id" not in body:  # a stored document: uploaded now, at send time
        body = file_source(next(k for k in FILE_SOURCES if k in body))(rt, row)
    payload = {
        "touser": row.to_user,
        "msgtype": row.msgtype,
        "agentid": int(rt.config.WECOM_AGENT_ID or 0),
        row.msgtype: body,
    }
    if row.duplicate_check:  # a resend whose first attempt may have arrived
        payload["enable_duplicate_check"] = 1
        payload["duplicate_check_interval"] = DUPLICATE_CHECK_SECONDS
    data = rt.wecom.call("message/send", payload)
    if data.get("invaliduser"):
        raise WeComError(81013, f"invalid user {data.get('invaliduser')}")
    return str(data.get("msgid", ""))


def update_card(rt, row: Outbox) -> str:
    """Update a clicked template card through ``message/update_template_card`` (its body holds the
    click's single-use ``response_code`` and either ``button.replace_name`` or a new ``template_card``)."""
    payload = {"userids": [row.to_user], "agentid": int(rt.config.WECOM_AGENT_ID or 0), **row.body}
    data = rt.wecom.call("message/update_template_card", payload)
    if data.get("invaliduser"):
        raise WeComError(81013, f"invalid user {data.get('invaliduser')}")
    return ""


# channel -> sender (a dotted path is imported on first use: the 微信客服 sender imports this module)
SENDERS: dict[str, Callable | str] = {"app": send_app, "kf": "bot.kf.send.send_kf"}


# A file row's body names what to upload: {"application": 12} -> the function that uploads it and
# returns the file message body ({"media_id": ...}); WeCom's temporary media last 3 days, so the
# upload happens at each attempt, in the delivery job.
FILE_SOURCES: dict[str, Callable | str] = {"application": "bot.applications.documents.upload"}


def file_source(kind: str) -> Callable:
    source = FILE_SOURCES[kind]
    if isinstance(source, str):
        from bot.queue import resolve

        source = FILE_SOURCES[kind] = resolve(source)
    return source


def sender_for(channel: str) -> Callable | None:
    """The send function for a channel, or None."""
    sender = SENDERS.get(channel)
    if isinstance(sender, str):
        from bot.queue import resolve

        sender = SENDERS[channel] = resolve(sender)
    return sender


def deliver_to(channel: str, to_user: str) -> None:
    """Job: send every due outbox row for one recipient, oldest first."""
    rt = runtime.get()
    url = rt.config.DATABASE_URL
    with rt.lock(f"deliver:{channel}:{to_user}", timeout=60, wait=5) as got:
        if not got:
            rt.queue.enqueue("bot.delivery.deliver_to", channel, to_user, delay=5)
            return
        with session_scope(url) as s:
            now = utcnow()
            rows = s.scalars(
                select(Outbox).where(Outbox.channel == channel, Outbox.to_user == to_user,
                                     Outbox.status == "pending", Outbox.next_attempt_at <= now)
                .order_by(Outbox.id).limit(PER_MINUTE).with_for_update()).all()
            if not rows:
                return
            window = now - timedelta(seconds=60)
            recent = list(s.scalars(select(Outbox.sent_at).where(
                Outbox.to_user == to_user, Outbox.status == "sent", Outbox.sent_at > window)
                .order_by(Outbox.sent_at)))
            for row in rows:
                if row.status != "pending":  # merged into an earlier send
                    continue
                if len(recent) >= PER_MINUTE:
                    wait = max((recent[-PER_MINUTE] + timedelta(seconds=61) - utcnow()).total_seconds(), 1)
                    rt.queue.enqueue("bot.delivery.deliver_to", channel, to_user, delay=wait)
                    return
                done = _send_row(rt, s, row)
                s.commit()  # record each send at once: a crash after this never resends it
                if not done:
                    # this row waits; later rows for the same person wait behind it to keep order
                    rt.queue.enqueue("bot.delivery.deliver_to", channel, to_user,
                                     delay=max((row.next_attempt_at - utcnow()).total_seconds(), 1))
                    return
                if row.status == "sent":
                    recent.append(row.sent_at)
            if len(rows) == PER_MINUTE:  # there may be more
                rt.queue.enqueue("bot.delivery.deliver_to", channel, to_user)


def _send_row(rt, session, row: Outbox) -> bool:
    """Try one row; update its state; return whether it is done (sent or given up)."""
    sender = sender_for(row.channel)
    row.duplicate_check = row.in_flight_since is not None
    row.attempts += 1
    if not row.duplicate_check:
        # Committed before the call: if we die before recording the outcome, the next attempt knows
        # this one may have arrived (and asks WeCom to drop it if so).
        row.in_flight_since = utcnow()
        session.commit()
    try:
        if sender is None:
            raise WeComError(0, f"no sender for channel {row.channel!r}")
        result = sender(rt, row)
    except WeComError as exc:
        if not exc.unknown_outcome:
            row.in_flight_since = None  # WeCom answered: this attempt did not arrive
        row.last_error = str(exc)[:500]
        if exc.transient and row.attempts < MAX_ATTEMPTS:
            row.next_attempt_at = utcnow() + timedelta(seconds=retry_delay(row.attempts))
            log.warning("outbox %s to %s: transient error %s, retry #%s", row.id, row.channel,
                        exc.errcode, row.attempts)
            return False
        row.status = "failed"
        log.error("outbox %s: giving up after %s attempts: errcode %s", row.id, row.attempts, exc.errcode)
        return True
    row.in_flight_since = None
    if result is HELD:
        row.status = "held"
        return True
    row.status = "sent"
    row.sent_at = utcnow()
    row.wecom_msgid = result or None
    return True


class _Held:
    """Returned by a sender that cannot send now and keeps the row for later (KF's 48-hour window)."""


HELD = _Held()


def enqueue_rows(rows) -> None:
    """After commit: ask the queue to deliver these rows (one job per recipient)."""
    rt = runtime.get()
    seen = set()
    for row in rows:
        key = (row.channel, row.to_user)
        if key in seen:
            continue
        seen.add(key)
        try:
            rt.queue.enqueue("bot.delivery.deliver_to", row.channel, row.to_user)
        except Exception as exc:  # Redis down: the sweeper sends it later
            log.warning("could not enqueue delivery to %s (%s); the sweeper will", row.channel, type(exc).__name__)
