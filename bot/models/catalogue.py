"""Questions the catalogue could not answer, so cadres see what residents ask that it lacks."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base
from bot.timeutil import utcnow


class CatalogueMiss(Base):
    """One question the catalogue had no answer for (or whose offered choices were all wrong)."""

    __tablename__ = "catalogue_miss"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text, default="")
    user_id: Mapped[str] = mapped_column(String(100), index=True)
    channel: Mapped[str] = mapped_column(String(10), default="app")
    outcome: Mapped[str] = mapped_column(String(10), default="none")  # none, rejected (no choice fitted)
    forwarded: Mapped[bool] = mapped_column(Boolean, default=False)  # passed to the committee as a request
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)


class TaughtPhrase(Base):
    """A phrasing a cadre taught: residents of ``jurisdiction`` who ask this (or nearly this) get ``item_id``.

    Reversible (``active``), attributed (``taught_by``), and exportable to the catalogue's aliases.
    """

    __tablename__ = "taught_phrase"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    miss_id: Mapped[int | None] = mapped_column(Integer, nullable=True, index=True)  # the unanswered question taught
    text: Mapped[str] = mapped_column(Text)
    normalized: Mapped[str] = mapped_column(Text)
    item_id: Mapped[str] = mapped_column(String(20))
    jurisdiction: Mapped[str] = mapped_column(String(100), index=True)
    taught_by: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    retired_by: Mapped[str | None] = mapped_column(String(100), nullable=True)
    retired_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
