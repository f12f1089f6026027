"""微信客服 (WeChat Customer Service) state: the sync cursor per account and each customer's send window."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base
from bot.timeutil import utcnow


class KfCursor(Base):
    """Where ``kf/sync_msg`` left off for one customer-service account."""

    __tablename__ = "kf_cursor"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    open_kfid: Mapped[str] = mapped_column(String(100), unique=True)
    cursor: Mapped[str] = mapped_column(String(200), default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class KfCustomer(Base):
    """A WeChat customer's send window: KF allows 5 messages within 48 hours of their last message."""

    __tablename__ = "kf_customer"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    external_userid: Mapped[str] = mapped_column(String(100), unique=True)
    open_kfid: Mapped[str] = mapped_column(String(100))           # the account they last wrote to
    last_customer_msg_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    sent_since: Mapped[int] = mapped_column(Integer, default=0)   # messages we sent since then
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
