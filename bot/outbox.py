"""Queue outbound messages. Every message Qingche sends is an ``Outbox`` row first.

Rows are written in the caller's transaction, so a ticket and the push about it commit
together; delivery (``bot.delivery``) happens after the commit, from the queue.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db import add_unique
from bot.models import Outbox

WECOM_TEXT_LIMIT = 2048  # bytes, UTF-8, for text and markdown content


def split_text(text: str, limit: int = WECOM_TEXT_LIMIT) -> list[str]:
    """Split ``text`` into parts of at most ``limit`` UTF-8 bytes, never inside a character.

    Prefers to break at a newline, then after Chinese or Western sentence punctuation.
    """
    parts: list[str] = []
    rest = text
    while len(rest.encode("utf-8")) > limit:
        # longest prefix that fits
        cut = 0
        size = 0
        for i, ch in enumerate(rest):
            size += len(ch.encode("utf-8"))
            if size > limit:
                break
            cut = i + 1
        window = rest[:cut]
        best = max(window.rfind("\n"), *(window.rfind(p) for p in "。！？；.!?;"))
        if best >= cut // 2:
            cut = best + 1
        parts.append(rest[:cut].rstrip("\n"))
        rest = rest[cut:].lstrip("\n")
    if rest or not parts:
        parts.append(rest)
    return parts


def queue_message(session: Session, to_user: str, msgtype: str, body: dict, *, channel: str = "app",
                  dedupe_key: str | None = None, open_kfid: str | None = None) -> Outbox:
    """Record one outbound message; with ``dedupe_key``, a second call returns the first row."""
    if dedupe_key:
        existing = session.scalar(select(Outbox).where(Outbox.dedupe_key == dedupe_key))
        if existing is not None:
            return existing
    row = Outbox(channel=channel, to_user=to_user, msgtype=msgtype, body=body,
                 dedupe_key=dedupe_key, open_kfid=open_kfid)
    if dedupe_key:
        if not add_unique(session, row):
            return session.scalar(select(Outbox).where(Outbox.dedupe_key == dedupe_key))
    else:
        session.add(row)
        session.flush()
    return row


def queue_text(session: Session, to_user: str, text: str, *, channel: str = "app",
               dedupe_key: str | None = None, open_kfid: str | None = None) -> list[Outbox]:
    """Record a text message, split at WeCom's 2048-byte limit."""
    rows = []
    for n, part in enumerate(split_text(text)):
        key = f"{dedupe_key}:{n}" if dedupe_key else None
        rows.append(queue_message(session, to_user, "text", {"content": part}, channel=channel,
                                  dedupe_key=key, open_kfid=open_kfid))
    return rows


def queue_markdown(session: Session, to_user: str, content: str, *, dedupe_key: str | None = None) -> list[Outbox]:
    """Record a WeCom markdown message (app channel only), split like text."""
    rows = []
    for n, part in enumerate(split_text(content)):
        key = f"{dedupe_key}:{n}" if dedupe_key else None
        rows.append(queue_message(session, to_user, "markdown", {"content": part}, dedupe_key=key))
    return rows
