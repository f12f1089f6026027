"""Retention: processed inbound messages are deleted after ``QINGCHE_INBOUND_DAYS``; closed certificate
applications lose their ID-card numbers, answers, documents and photos after ``QINGCHE_APPLICATION_DAYS``.

The table holds residents' raw words, which tickets and the catalogue-miss log no longer need once
a message is processed; its unique dedupe key is on the callback's hot path, so an ever-growing
table would slow every acknowledgement. Repeats come within seconds (WeCom) or days (微信客服), so
keys older than the retention period dedupe nothing.

A sweep step, at most once an hour per process: walks the table from its oldest row in batches and
deletes rows that are done or failed and older than the cutoff. Pending rows are never touched, and
the newest row is always kept (SQLite would otherwise hand its id out again).
"""
from __future__ import annotations

import logging
import time
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from bot import runtime
from bot.db import session_scope
from bot.models import InboundMessage
from bot.timeutil import utcnow

log = logging.getLogger(__name__)

EVERY = 3600.0      # seconds between runs in one process
BATCH = 1000
MAX_BATCHES = 50    # at most 50,000 rows a run; the next run continues

_last_run: float | None = None


def prune_due() -> int:
    """Sweep step: prune if this process has not done so in the last hour."""
    global _last_run
    if _last_run is not None and time.monotonic() - _last_run < EVERY:
        return 0
    _last_run = time.monotonic()
    return prune() + erase_applications()


def erase_applications(now: datetime | None = None) -> int:
    """Erase what closed applications hold of residents' documents after ``QINGCHE_APPLICATION_DAYS``: ID-card
    numbers, answers, the filled document and photo references (the register's columns stay)."""
    from bot.applications.service import erase_closed

    rt = runtime.get()
    now = now or utcnow()
    with session_scope(rt.config.DATABASE_URL) as s:
        erased = erase_closed(s, now - timedelta(days=rt.config.QINGCHE_APPLICATION_DAYS), now)
    if erased:
        log.info("retention: erased %s closed applications older than %s days", erased,
                 rt.config.QINGCHE_APPLICATION_DAYS)
    return erased


def prune(now: datetime | None = None) -> int:
    """Delete processed inbound messages older than the retention period; return how many."""
    rt = runtime.get()
    cutoff = (now or utcnow()) - timedelta(days=rt.config.QINGCHE_INBOUND_DAYS)
    deleted = 0
    with session_scope(rt.config.DATABASE_URL) as s:
        newest = s.scalar(select(func.max(InboundMessage.id)))
    if newest is None:
        return 0
    for _ in range(MAX_BATCHES):
        with session_scope(rt.config.DATABASE_URL) as s:
            # The oldest rows by id (ids grow with time): cheap through the primary key.
            rows = s.execute(select(InboundMessage.id, InboundMessage.received_at, InboundMessage.status)
                             .where(InboundMessage.id < newest).order_by(InboundMessage.id).limit(BATCH)).all()
            old = [i for i, received_at, status in rows if received_at < cutoff and status != "pending"]
            if old:
                s.execute(delete(InboundMessage).where(InboundMessage.id.in_(old)))
        deleted += len(old)
        if len(old) < BATCH:
            break
    if deleted:
        log.info("retention: deleted %s processed inbound messages older than %s days", deleted,
                 rt.config.QINGCHE_INBOUND_DAYS)
    return deleted
