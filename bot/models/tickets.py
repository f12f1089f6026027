"""Tickets (complaints and repair requests), their history, photos and followers.

Field names follow Open311 GeoReport v2 where one exists (``service_code``, ``status``,
``status_notes``, ``agency_responsible``, ``description``, ``address``, ``lat``, ``long``,
``requested_at``, ``updated_at``, ``expected_at``); an Open311 view is then a serializer.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from bot.models.base import Base, DurableCopy
from bot.timeutil import utcnow


class Ticket(Base):
    """One resident's complaint or repair request, routed to a patch and its grid worker."""

    __tablename__ = "ticket"
    __table_args__ = (Index("ix_ticket_patch_open", "patch_code", "service_code", "status"),
                      # the workbench's lists: newest first within a village, a town or a patch
                      Index("ix_ticket_village_number", "village", "number"),
                      Index("ix_ticket_town_number", "town", "number"),
                      Index("ix_ticket_patch_number", "patch_code", "number"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, unique=True)  # the short number shown as #<n>
    inbound_id: Mapped[int | None] = mapped_column(Integer, unique=True, nullable=True)  # the message that filed it
    service_code: Mapped[str] = mapped_column(String(40), index=True)   # category id
    service_name: Mapped[str] = mapped_column(String(60), default="")
    status: Mapped[str] = mapped_column(String(20), default="open", index=True)
    status_notes: Mapped[str | None] = mapped_column(Text, nullable=True)
    agency_responsible: Mapped[str | None] = mapped_column(String(100), nullable=True)
    urgency: Mapped[str] = mapped_column(String(10), default="normal")
    description: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str | None] = mapped_column(String(300), nullable=True)
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    long: Mapped[float | None] = mapped_column(Float, nullable=True)
    patch_code: Mapped[str | None] = mapped_column(String(40), nullable=True)
    village: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    town: Mapped[str | None] = mapped_column(String(100), nullable=True)
    routed_by: Mapped[str] = mapped_column(String(20), default="")  # registered, address, location, manual, none
    reporter_userid: Mapped[str] = mapped_column(String(100), index=True)
    reporter_channel: Mapped[str] = mapped_column(String(10), default="app")
    assignee_userid: Mapped[str | None] = mapped_column(String(100), nullable=True, index=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expected_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    acknowledge_by: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)  # SLA clocks
    respond_by: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # the first acknowledge deadline (响应率)
    resolve_by: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    paused_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)  # waiting for the resident since
    acknowledged_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    resolved_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    closed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    rating: Mapped[int | None] = mapped_column(Integer, nullable=True)  # 1-5
    rated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    rated_assignee: Mapped[str | None] = mapped_column(String(100), nullable=True)  # who the rating is for
    # 代报 and 三必到 (bot/visits): the neighbour a building head reported for; a cadre's 专项 mark;
    # the arrival deadline of a must-attend ticket, and the assigned worker's arrival
    on_behalf_of: Mapped[str | None] = mapped_column(String(200), nullable=True)
    special_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    arrive_by: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    arrived_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    arrival_distance_m: Mapped[float | None] = mapped_column(Float, nullable=True)

    media: Mapped[list[TicketMedia]] = relationship(back_populates="ticket", order_by="TicketMedia.id",
                                                      cascade="all, delete-orphan")
    events: Mapped[list[TicketEvent]] = relationship(back_populates="ticket", order_by="TicketEvent.id",
                                                       cascade="all, delete-orphan")

    @property
    def service_request_id(self) -> str:
        """The Open311 identifier."""
        return str(self.id)

    @property
    def media_url(self) -> str:
        """The first photo's URL (Open311 ``media_url``), or empty."""
        for m in self.media:
            if m.kind == "photo" and m.pic_url:
                return m.pic_url
        return ""


class TicketEvent(Base):
    """One entry in a ticket's history: who did what, when, with what note."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    actor: Mapped[str] = mapped_column(String(100))      # userid, or "system"
    actor_role: Mapped[str] = mapped_column(String(20), default="")
    action: Mapped[str] = mapped_column(String(30))      # create, acknowledge, resolve, return, ...
    from_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    to_status: Mapped[str | None] = mapped_column(String(20), nullable=True)
    note: Mapped[str | None] = mapped_column(Text, nullable=True)
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="events")


class TicketMedia(DurableCopy, Base):
    """A photo on a ticket: the resident's (``photo``) or the grid worker's proof (``evidence``)."""

    __tablename__ = "ticket_media"
    __table_args__ = (Index("ix_ticket_media_unstored", "stored_key", "next_fetch_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(20), default="photo")
    media_id: Mapped[str | None] = mapped_column(String(200), nullable=True)
    pic_url: Mapped[str | None] = mapped_column(Text, nullable=True)
    added_by: Mapped[str] = mapped_column(String(100), default="")
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship(back_populates="media")


class TicketFollower(Base):
    """A resident who reported the same thing and follows the ticket's progress."""

    __tablename__ = "ticket_follower"
    __table_args__ = (UniqueConstraint("ticket_id", "userid"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"), index=True)
    userid: Mapped[str] = mapped_column(String(100), index=True)
    channel: Mapped[str] = mapped_column(String(10), default="app")
    added_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
