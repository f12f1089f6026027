"""Households a grid worker must visit (四必访), their visits, and the weekly reminders sent.

Arrivals (三必到) are columns on the ticket (``arrive_by``, ``arrived_at``, ``arrival_distance_m``):
a must-attend ticket has one arrival, by its assigned grid worker, and every reader of arrivals
(the digest, the report, the reminder sweep) reads it with the ticket, without a join.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, Float, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base
from bot.timeutil import utcnow


class Household(Base):
    """One household on a patch that its grid worker must visit: its kind sets how often.

    The kind of a 特殊家庭 or 重点人员 household is sensitive: only the patch's grid worker and
    the village's cadres may see it (``bot.visits.service.may_see``)."""

    __tablename__ = "household"
    __table_args__ = (UniqueConstraint("patch_code", "name", "address"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    patch_code: Mapped[str] = mapped_column(String(40), index=True)
    name: Mapped[str] = mapped_column(String(100))
    address: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[str] = mapped_column(String(20))   # a kind id from knowledge/visits.yaml
    phone: Mapped[str | None] = mapped_column(String(30), nullable=True)
    note: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class Visit(Base):
    """One visit, logged by the grid worker in one message (走访 陈阿姨 身体还好)."""

    __tablename__ = "visit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    inbound_id: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)  # the message that logged it
    household_id: Mapped[int] = mapped_column(ForeignKey("household.id", ondelete="CASCADE"), index=True)
    worker_userid: Mapped[str] = mapped_column(String(100), index=True)
    visited_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    note: Mapped[str] = mapped_column(Text, default="")           # what was said (走访情况)
    followup: Mapped[str] = mapped_column(Text, default="")       # what was done about it (跟进)
    ticket_number: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 转工单
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lng: Mapped[float | None] = mapped_column(Float, nullable=True)
    photo_media_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    photo_url: Mapped[str | None] = mapped_column(Text, nullable=True)


class VisitReminderSent(Base):
    """A grid worker's Monday list of households due, for one week (sent once)."""

    __tablename__ = "visit_reminder_sent"
    __table_args__ = (UniqueConstraint("worker_userid", "week"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    worker_userid: Mapped[str] = mapped_column(String(100))
    week: Mapped[date] = mapped_column(Date)   # the week's Monday (China time)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
