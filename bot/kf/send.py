"""Deliver outbox rows on channel ``kf`` with ``kf/send_msg`` (the delivery module's sender for "kf").

- Every send carries a ``msgid`` derived from the outbox row, so a resend after a crash is
  dropped by KF instead of reaching the resident twice.
- Consecutive due texts to one resident are merged into one message when they fit in 2048
  bytes: a question's answer and a ticket update then cost one of the 5 messages, not two.
- A row that may not go now (48 hours passed, or no slot left) is returned as ``HELD``; the
  sync releases it when the resident next writes. A reply (a row queued with ``open_kfid``, in
  answer to the resident's own message) may take the last slot; a push may not.
- A welcome row (``body["welcome_code"]``) goes through ``kf/send_msg_on_event``, outside the
  5-message window; the code is valid for 20 seconds and once, so it is never held.
"""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import object_session

from bot.delivery import HELD
from bot.errors import WeComError
from bot.kf import api, window
from bot.models import Outbox
from bot.outbox import WECOM_TEXT_LIMIT
from bot.timeutil import utcnow

log = logging.getLogger(__name__)

JOINER = "\n\n"


def msgid_for(row: Outbox) -> str:
    """The KF ``msgid`` for a row: stable across resends, new after WeChat refused it."""
    tries = int((row.body or {}).get("kf_try", 0))
    return f"qc{row.id}" + (f"t{tries}" if tries else "")


def send_kf(rt, row: Outbox):
    """Send one kf row (with the due texts after it merged in); return the msgid, or ``HELD``."""
    session = object_session(row)
    body = row.body or {}
    if row.msgtype != "text":
        raise WeComError(0, f"kf: cannot send {row.msgtype!r} messages")
    if body.get("welcome_code"):
        return api.send_on_event(rt.wecom_kf, body["welcome_code"], msgid_for(row), body.get("content", ""))
    state = window.customer(session, row.to_user)
    merged = mergeable(session, row)
    is_reply = bool(row.open_kfid) or any(r.open_kfid for r in merged)
    if not window.may_send(state, is_reply):
        return HELD
    content = JOINER.join([body.get("content", "")] + [r.body["content"] for r in merged])
    try:
        msgid = api.send_text(rt.wecom_kf, row.to_user, row.open_kfid or state.open_kfid, msgid_for(row),
                              content)
    except WeComError as exc:
        if exc.errcode not in api.HOLD_ERRCODES:
            raise
        window.close_window(session, row.to_user)
        row.body = {**body, "kf_try": int(body.get("kf_try", 0)) + 1}
        row.last_error = str(exc)[:500]
        log.info("kf: %s refused by WeChat (%s); held until the resident writes", row.id, exc.errcode)
        return HELD
    window.count_send(session, state)
    now = utcnow()
    for other in merged:
        other.status = "sent"
        other.sent_at = now
        other.wecom_msgid = msgid
        other.attempts += 1
    return msgid


def mergeable(session, row: Outbox) -> list[Outbox]:
    """The due texts queued right after ``row`` for the same resident that fit in one message with it."""
    size = len((row.body or {}).get("content", "").encode("utf-8"))
    later = session.scalars(select(Outbox).where(
        Outbox.channel == "kf", Outbox.to_user == row.to_user, Outbox.status == "pending",
        Outbox.id > row.id, Outbox.next_attempt_at <= utcnow()).order_by(Outbox.id).limit(10)).all()
    out = []
    for other in later:
        body = other.body or {}
        if other.msgtype != "text" or body.get("welcome_code"):
            break
        size += len(JOINER.encode()) + len(body.get("content", "").encode("utf-8"))
        if size > WECOM_TEXT_LIMIT:
            break
        out.append(other)
    return out
