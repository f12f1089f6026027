"""Deadline escalations, cadre alerts and their batching, whistles (吹哨报到) and daily digests."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base
from bot.timeutil import utcnow


class TicketEscalation(Base):
    """One deadline breach acted on; the unique (ticket, kind) makes every escalation happen once."""

    __tablename__ = "ticket_escalation"
    __table_args__ = (UniqueConstraint("ticket_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))   # remind:<round>, ack:<round>, resolve:<round>, whistle:<id>
    deadline: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class CadreAlert(Base):
    """One thing a cadre must hear about; unsent alerts are batched into one push a minute."""

    __tablename__ = "cadre_alert"
    __table_args__ = (Index("ix_cadre_alert_unsent", "cadre_userid", "sent_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)
    cadre_userid: Mapped[str] = mapped_column(String(100))
    ticket_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)
    kind: Mapped[str] = mapped_column(String(40))   # urgent, unrouted, returned, unsatisfied, ack_overdue, ...
    text: Mapped[str] = mapped_column(Text)
    urgent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    push_key: Mapped[str | None] = mapped_column(String(200), nullable=True)  # the outbox dedupe_key it went in


class CadrePushState(Base):
    """When a cadre was last pushed; the row is locked while composing their next push."""

    __tablename__ = "cadre_push_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cadre_userid: Mapped[str] = mapped_column(String(100), unique=True)
    last_push_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Whistle(Base):
    """吹哨报到: a town or village calls a city department in; its liaison must report (报到) in time."""

    __tablename__ = "whistle"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    department: Mapped[str] = mapped_column(String(100))
    liaison_userid: Mapped[str] = mapped_column(String(100), index=True)
    blown_by: Mapped[str] = mapped_column(String(100))
    note: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(20), default="blown", index=True)  # blown, reported, resolved
    blown_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    report_by: Mapped[datetime] = mapped_column(DateTime)
    reported_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reported_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolve_note: Mapped[str | None] = mapped_column(Text, nullable=True)


class DigestSent(Base):
    """A cadre's daily digest for one China-time day, recorded with its outbox row (sent once)."""

    __tablename__ = "digest_sent"
    __table_args__ = (UniqueConstraint("cadre_userid", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    cadre_userid: Mapped[str] = mapped_column(String(100))
    day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
