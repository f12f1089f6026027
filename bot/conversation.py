"""Conversation state as data: one row per (channel, user), with an expiry. Never in process memory."""
from __future__ import annotations

import copy
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from bot.models import ConversationState
from bot.timeutil import utcnow

DEFAULT_TTL = timedelta(minutes=30)


class ConversationStore:
    """Get, set and clear the state of one user's conversation."""

    def __init__(self, session: Session, channel: str, user_id: str):
        self.session = session
        self.channel = channel
        self.user_id = user_id
        self._cached: ConversationState | None = None
        self._loaded = False

    def _row(self) -> ConversationState | None:
        # read once per message: several handlers ask; set() and clear() keep the copy current
        if not self._loaded:
            self._cached = self.session.scalar(
                select(ConversationState).where(
                    ConversationState.channel == self.channel, ConversationState.user_id == self.user_id
                )
            )
            self._loaded = True
        return self._cached

    def get(self) -> ConversationState | None:
        """The live state, or None (an expired state counts as none)."""
        row = self._row()
        if row is None or row.expires_at <= utcnow():
            return None
        return row

    def set(self, name: str, data: dict | None = None, ttl: timedelta = DEFAULT_TTL,
            expiry_text: str | None = "common.expired") -> ConversationState:
        """Enter state ``name`` with ``data``; ``expiry_text`` is sent if the user walks away."""
        row = self._row()
        if row is None:
            row = ConversationState(channel=self.channel, user_id=self.user_id)
            self.session.add(row)
            self._cached = row
        row.name = name
        # A deep copy, marked as changed: handlers edit lists inside the data they read (a draft's
        # photos), and an in-place change compares equal to itself, so it would never be written.
        row.data = copy.deepcopy(dict(data or {}))
        flag_modified(row, "data")
        row.expires_at = utcnow() + ttl
        row.expiry_text = expiry_text
        self.session.flush()
        return row

    def clear(self) -> bool:
        """End the conversation; return whether there was one."""
        row = self._row()
        if row is None:
            return False
        live = row.expires_at > utcnow()
        self.session.delete(row)
        self.session.flush()
        self._cached = None
        return live
