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
