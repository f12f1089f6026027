"""Inbound messages, the outbox, and conversation state."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base
from bot.timeutil import utcnow


class InboundMessage(Base):
    """Every accepted callback message, recorded before WeCom gets its 200."""

    __tablename__ = "inbound_message"
    __table_args__ = (Index("ix_inbound_pending", "status", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    channel: Mapped[str] = mapped_column(String(10), default="app")
    user_id: Mapped[str] = mapped_column(String(100), index=True)
    msg_type: Mapped[str] = mapped_column(String(30))
    payload: Mapped[dict] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, done, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    received_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Outbox(Base):
    """Every message Qingche sends, with its delivery state."""

    __tablename__ = "outbox"
    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"), Index("ix_outbox_user", "to_user", "sent_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str | None] = mapped_column(String(200), unique=True, nullable=True)
    channel: Mapped[str] = mapped_column(String(10), default="app")   # app, kf
    to_user: Mapped[str] = mapped_column(String(100))
    open_kfid: Mapped[str | None] = mapped_column(String(100), nullable=True)
    msgtype: Mapped[str] = mapped_column(String(30), default="text")  # text, markdown, image, template_card
    body: Mapped[dict] = mapped_column(JSON)  # the msgtype's part of the send payload
    status: Mapped[str] = mapped_column(String(10), default="pending")  # pending, sent, held, failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text, nullable=True)
    wecom_msgid: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Set (and committed) just before a send; cleared once WeCom's answer is known. Still set on a
    # pending row means the last attempt may have arrived: the resend asks WeCom to drop a duplicate.
    in_flight_since: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # Not a column: delivery sets it for the attempt in hand when the previous one may have arrived.
    duplicate_check = False


class ConversationState(Base):
    """Where a user is in a multi-step conversation; keyed by (channel, user)."""

    __tablename__ = "conversation_state"
    __table_args__ = (UniqueConstraint("channel", "user_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(10))
    user_id: Mapped[str] = mapped_column(String(100))
    name: Mapped[str] = mapped_column(String(60))
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    expires_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    expiry_text: Mapped[str | None] = mapped_column(String(100), nullable=True)  # texts key sent on expiry
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
