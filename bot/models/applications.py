"""Applications for the certificates a committee still issues (一次办成), their photos, history and
deadline escalations.

An application holds the resident's answers to the certificate's fields (``fields``, with the ID-card
number also in ``id_number``) until the retention period after it closes; then those are erased and
only the register's columns remain: the applicant's name, the masked ID number, the certificate, the
dates and the register number.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, DurableCopy
from bot.timeutil import utcnow


class Application(Base):
    """One resident's application for a retained certificate, shown as ``#A<number>``."""

    __tablename__ = "application"
    __table_args__ = (UniqueConstraint("village", "register_year", "register_seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)
    inbound_id: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)  # the 确认 that filed it
    certificate_id: Mapped[str] = mapped_column(String(20), index=True)    # catalogue entry id (R1)
    certificate_name: Mapped[str] = mapped_column(String(100), default="")
    status: Mapped[str] = mapped_column(String(20), default="submitted", index=True)
    status_notes: Mapped[str | None] = mapped_column(Text, nullable=True)  # what is missing, why refused
    applicant_userid: Mapped[str] = mapped_column(String(100), index=True)
    applicant_channel: Mapped[str] = mapped_column(String(10), default="app")
    applicant_name: Mapped[str] = mapped_column(String(100), default="")
    id_masked: Mapped[str] = mapped_column(String(30), default="")
    id_number: Mapped[str | None] = mapped_column(String(30), nullable=True)   # erased after retention
    fields: Mapped[dict] = mapped_column(JSON, default=dict)                  # erased after retention
    roster: Mapped[str] = mapped_column(String(20), default="")   # matched, name_differs, not_on_roster
    village: Mapped[str] = mapped_column(String(100), index=True)
    town: Mapped[str | None] = mapped_column(String(100), nullable=True)
    patch_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    verifier_userid: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    verify_result: Mapped[str | None] = mapped_column(String(20), nullable=True)  # confirmed, mismatch
    verify_note: Mapped[str | None] = mapped_column(Text, nullable=True)
    verified_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    decided_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    register_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    register_seq: Mapped[int | None] = mapped_column(Integer, nullable=True)
    register_number: Mapped[str | None] = mapped_column(String(60), nullable=True)
    document: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)  # the filled .docx
    document_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    collected_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    erased_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)

    media: Mapped[list[ApplicationMedia]] = relationship(back_populates="application",
                                                         order_by="ApplicationMedia.id",
                                                         cascade="all, delete-orphan")
    events: Mapped[list[ApplicationEvent]] = relationship(back_populates="application",
                                                          order_by="ApplicationEvent.id",
                                                          cascade="all, delete-orphan")


class ApplicationMedia(DurableCopy, Base):
    """A photo of a document the certificate needs (ID card, lease), or one sent to supplement it; kept
    past WeCom's 3 days like a ticket's photos (``bot.evidence``), deleted with the application's data."""

    __tablename__ = "application_media"
    __table_args__ = (Index("ix_application_media_unstored", "stored_key", "next_fetch_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    material: Mapped[str] = mapped_column(String(40))        # the material's key, or "supplement"
    media_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pic_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="media")


class ApplicationEvent(Base):
    """One entry in an application's history."""

    __tablename__ = "application_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(100))
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    action: Mapped[str] = mapped_column(String(30))
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    application: Mapped[Application] = relationship(back_populates="events")


class ApplicationEscalation(Base):
    """One deadline reminder or escalation sent; unique per (application, kind) so it is sent once."""

    __tablename__ = "application_escalation"
    __table_args__ = (UniqueConstraint("application_id", "kind"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    application_id: Mapped[int] = mapped_column(ForeignKey("application.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(60))   # remind:<round>, overdue:<round>, town:<round>
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
