"""KF's send window: at most 5 messages within 48 hours of the customer's last message.

We count what we send since the customer's last message (``KfCustomer.sent_since``) with
atomic SQL updates, so a sync resetting the window and a delivery counting a send never lose
each other's write. The last slot is kept for an answer to the customer: pushes (ticket
updates queued from someone else's message) may use 4 of the 5; anything that cannot go now
is held and goes out when the customer next writes.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.models import KfCustomer
from bot.timeutil import utcnow

MAX_SENDS = 5
RESERVED_FOR_REPLIES = 1
WINDOW = timedelta(hours=48) - timedelta(minutes=5)   # a margin for clock skew and queueing


def customer(session: Session, external_userid: str) -> KfCustomer | None:
    """The customer's window state (None if they never wrote)."""
    return session.scalar(select(KfCustomer).where(KfCustomer.external_userid == external_userid))


def open_window(session: Session, external_userid: str, open_kfid: str, at: datetime) -> None:
    """The customer wrote at ``at``: a fresh window of 5 messages."""
    row = customer(session, external_userid)
    if row is None:
        session.add(KfCustomer(external_userid=external_userid, open_kfid=open_kfid, last_customer_msg_at=at,
                               sent_since=0))
        session.flush()
        return
    values: dict = {"sent_since": 0}
    if row.last_customer_msg_at is None or at > row.last_customer_msg_at:
        values["last_customer_msg_at"] = at
    if open_kfid:
        values["open_kfid"] = open_kfid
    session.execute(update(KfCustomer).where(KfCustomer.id == row.id).values(**values))


def close_window(session: Session, external_userid: str) -> None:
    """WeChat says the window is used up: send nothing more until the customer writes."""
    session.execute(update(KfCustomer).where(KfCustomer.external_userid == external_userid)
                    .values(sent_since=MAX_SENDS))


def count_send(session: Session, row: KfCustomer) -> None:
    """One more message sent in the current window."""
    session.execute(update(KfCustomer).where(KfCustomer.id == row.id)
                    .values(sent_since=KfCustomer.sent_since + 1))


def may_send(row: KfCustomer | None, is_reply: bool, now: datetime | None = None) -> bool:
    """Whether a message may go now: inside 48 hours, and a slot left (the last one only for a reply)."""
    if row is None or row.last_customer_msg_at is None:
        return False
    if (now or utcnow()) - row.last_customer_msg_at > WINDOW:
        return False
    limit = MAX_SENDS if is_reply else MAX_SENDS - RESERVED_FOR_REPLIES
    return row.sent_since < limit
