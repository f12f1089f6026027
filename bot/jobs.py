"""Periodic work: the sweeper. Nothing recorded is ever lost.

``sweep()`` re-enqueues inbound messages and outbox rows that were recorded but not processed
(Redis was down when they arrived, a worker died), closes abandoned conversations politely, and
runs the periodic checks other modules register in ``SWEEPS``. Every step is idempotent.
"""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select

from bot import outbox, runtime
from bot.db import session_scope
from bot.delivery import enqueue_rows
from bot.models import ConversationState, InboundMessage, Outbox
from bot.queue import resolve
from bot.timeutil import utcnow

log = logging.getLogger(__name__)

GRACE = timedelta(seconds=15)   # leave fresh rows to the job that was enqueued for them
# Dotted paths of further periodic checks (deadlines, digests); each takes no arguments.
SWEEPS: list[str] = ["bot.escalation.check_deadlines", "bot.alerts.flush_due", "bot.digest.send_due",
                     "bot.retention.prune_due",
                     "bot.visits.jobs.send_weekly", "bot.visits.jobs.check_arrivals",   # 四必访, 三必到
                     "bot.applications.deadlines.check_deadlines",                      # 一次办成
                     "bot.evidence.sweep_unstored"]                                     # photos kept past 3 days


def sweep(grace: timedelta = GRACE) -> dict:
    """Run every sweep step once; return counts of what it re-enqueued or did."""
    rt = runtime.get()
    url = rt.config.DATABASE_URL
    now = utcnow()
    counts = {"inbound": 0, "outbox": 0, "expired": 0}
    with session_scope(url) as s:
        users = s.execute(select(InboundMessage.channel, InboundMessage.user_id, InboundMessage.id)
                          .where(InboundMessage.status == "pending", InboundMessage.received_at <= now - grace)
                          .order_by(InboundMessage.id)).all()
        due = s.execute(select(Outbox.channel, Outbox.to_user).where(
            Outbox.status == "pending", Outbox.next_attempt_at <= now,
            Outbox.created_at <= now - grace).distinct()).all()
    seen = set()
    for channel, user_id, inbound_id in users:
        if (channel, user_id) in seen:
            continue
        seen.add((channel, user_id))
        rt.queue.enqueue("bot.dispatch.process_inbound", inbound_id, channel, user_id)
        counts["inbound"] += 1
    for channel, to_user in due:
        rt.queue.enqueue("bot.delivery.deliver_to", channel, to_user)
        counts["outbox"] += 1
    counts["expired"] = close_expired_conversations()
    for path in SWEEPS:
        try:
            resolve(path)()
        except Exception:
            log.exception("sweep step %s failed", path)
    if counts["inbound"] or counts["outbox"]:
        log.info("sweeper re-enqueued %(inbound)s inbound users and %(outbox)s recipients", counts)
    return counts


def close_expired_conversations() -> int:
    """Tell users whose conversation expired that it ended, and drop the state."""
    rt = runtime.get()
    queued = []
    n = 0
    with session_scope(rt.config.DATABASE_URL) as s:
        rows = s.scalars(select(ConversationState).where(ConversationState.expires_at <= utcnow())
                         .limit(200).with_for_update(skip_locked=True)).all()
        for row in rows:
            if row.expiry_text:
                from bot import texts

                queued += outbox.queue_text(s, row.user_id, texts.t(row.expiry_text), channel=row.channel,
                                            dedupe_key=f"expired:{row.channel}:{row.user_id}:{row.id}:"
                                                       f"{row.expires_at.isoformat()}")
            s.delete(row)
            n += 1
    enqueue_rows(queued)
    return n
