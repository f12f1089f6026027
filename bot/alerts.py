"""Cadre alerts, batched: at most one push a minute to each cadre, never the same alert twice.

Alerts are written in the caller's transaction (the ticket change, the deadline check). A cadre
whose last push was a minute ago or more gets the alert at once; otherwise it waits for the
periodic ``flush_due`` (a sweep step), which folds every waiting alert into one markdown push.
Urgent alerts go at once regardless, and still count as the cadre's push for that minute.
The alert rows are marked sent in the same transaction as the outbox row that carries them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox, runtime, texts
from bot.db import add_unique, session_scope
from bot.delivery import enqueue_rows
from bot.models import CadreAlert, CadrePushState, Outbox
from bot.outbox import WECOM_TEXT_LIMIT
from bot.timeutil import utcnow

log = logging.getLogger(__name__)

MIN_INTERVAL = timedelta(seconds=60)


@dataclass
class Push:
    """One composed markdown push for a cadre."""

    to_user: str
    content: str
    dedupe_key: str


def add(session: Session, cadre_userid: str, kind: str, text: str, key: str, *, ticket_id: int | None = None,
        urgent: bool = False, now: datetime | None = None) -> CadreAlert | None:
    """Record an alert for a cadre; a second call with the same ``key`` adds nothing (returns None)."""
    dedupe_key = f"{key}:{cadre_userid}"
    if session.scalar(select(CadreAlert.id).where(CadreAlert.dedupe_key == dedupe_key)) is not None:
        return None
    alert = CadreAlert(dedupe_key=dedupe_key, cadre_userid=cadre_userid, ticket_id=ticket_id, kind=kind,
                       text=text, urgent=urgent, created_at=now or utcnow())
    return alert if add_unique(session, alert) else None


def _state(session: Session, userid: str) -> CadrePushState:
    """The cadre's push state row, created if missing, locked for this transaction."""
    query = select(CadrePushState).where(CadrePushState.cadre_userid == userid).with_for_update()
    row = session.scalar(query)
    if row is None:
        add_unique(session, CadrePushState(cadre_userid=userid))  # or a concurrent job added it
        row = session.scalar(query)
    return row


def _compose(alerts: list[CadreAlert]) -> tuple[str, list[CadreAlert]]:
    """One markdown text from as many alerts as fit in one WeCom message (urgent first)."""
    ordered = sorted(alerts, key=lambda a: (not a.urgent, a.id))
    taken: list[CadreAlert] = []
    parts: list[str] = []
    for alert in ordered:
        candidate = parts + [alert.text]
        header = texts.t("cadre.alerts_header", count=len(candidate)) if len(candidate) > 1 else ""
        body = "\n\n".join(([header] if header else []) + candidate)
        if taken and len(body.encode("utf-8")) > WECOM_TEXT_LIMIT - 100:
            break
        parts, taken = candidate, taken + [alert]
    header = texts.t("cadre.alerts_header", count=len(parts)) if len(parts) > 1 else ""
    content = "\n\n".join(([header] if header else []) + parts)
    if len(content.encode("utf-8")) > WECOM_TEXT_LIMIT:
        content = content.encode("utf-8")[:WECOM_TEXT_LIMIT - 3].decode("utf-8", "ignore") + "…"
    return content, taken


def flush_cadre(session: Session, userid: str, now: datetime | None = None, force: bool = False) -> Push | None:
    """Compose the cadre's waiting alerts into one push if their minute is up (or ``force``)."""
    now = now or utcnow()
    state = _state(session, userid)
    pending = list(session.scalars(select(CadreAlert).where(
        CadreAlert.cadre_userid == userid, CadreAlert.sent_at.is_(None)).order_by(CadreAlert.id)))
    if not pending:
        return None
    urgent = any(a.urgent for a in pending)
    if not (force or urgent) and state.last_push_at is not None and now - state.last_push_at < MIN_INTERVAL:
        return None
    content, taken = _compose(pending)
    key = f"cadre-push:{userid}:{taken[0].id}"
    for alert in taken:
        alert.sent_at = now
        alert.push_key = key
    state.last_push_at = now
    session.flush()
    return Push(userid, content, key)


def raise_alerts(session: Session, userids: list[str], kind: str, text: str, key: str, *,
                 ticket_id: int | None = None, urgent: bool = False, now: datetime | None = None) -> list[Push]:
    """Alert each cadre and return the pushes that may go now (queue them in the same transaction)."""
    pushes = []
    for userid in dict.fromkeys(userids):
        if add(session, userid, kind, text, key, ticket_id=ticket_id, urgent=urgent, now=now) is None:
            continue
        push = flush_cadre(session, userid, now)
        if push is not None:
            pushes.append(push)
    return pushes


def queue(session: Session, pushes: list[Push]) -> list[Outbox]:
    """Write the pushes to the outbox (outside a handler: sweeps and jobs)."""
    rows: list[Outbox] = []
    for push in pushes:
        rows += outbox.queue_markdown(session, push.to_user, push.content, dedupe_key=push.dedupe_key)
    return rows


def as_notices(pushes: list[Push]) -> list:
    """The pushes as ticket ``Notice``s, for code that returns notices to a handler."""
    from bot.tickets.service import Notice

    return [Notice(p.to_user, dedupe_key=p.dedupe_key, msgtype="markdown", body={"content": p.content})
            for p in pushes]


def mark_pushed(session: Session, userid: str, now: datetime | None = None) -> None:
    """Count another push (the digest) towards the cadre's minute."""
    _state(session, userid).last_push_at = now or utcnow()


def flush_due(now: datetime | None = None) -> int:
    """Sweep step: send every cadre whose minute is up their waiting alerts; return the pushes made."""
    rt = runtime.get()
    url = rt.config.DATABASE_URL
    now = now or utcnow()
    with session_scope(url) as s:
        userids = list(s.scalars(select(CadreAlert.cadre_userid).where(CadreAlert.sent_at.is_(None)).distinct()))
    made = 0
    for userid in userids:
        with session_scope(url) as s:
            push = flush_cadre(s, userid, now)
            rows = queue(s, [push]) if push else []
        enqueue_rows(rows)
        made += bool(rows)
    return made
