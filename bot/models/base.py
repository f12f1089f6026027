"""Declarative base with a naming convention Alembic can rely on."""
from datetime import datetime

from sqlalchemy import DateTime, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)


class DurableCopy:
    """Columns of a photo kept past WeCom's 3 days (``bot.evidence``): where its copy is, once fetched."""

    stored_key: Mapped[str | None] = mapped_column(String(300), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(100), nullable=True)
    stored_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    fetch_attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_fetch_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    fetch_error: Mapped[str | None] = mapped_column(Text, nullable=True)   # last failure; "gone" once WeCom lost it
