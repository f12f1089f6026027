"""Patches (网格) and people (residents, grid workers, building heads, cadres, department liaisons)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Float, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from bot.models.base import Base
from bot.timeutil import utcnow

ROLES = ("resident", "grid_worker", "building_head", "cadre", "department")


class Patch(Base):
    """A grid patch: the area one grid worker covers."""

    __tablename__ = "patch"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    village: Mapped[str] = mapped_column(String(100), index=True)
    town: Mapped[str] = mapped_column(String(100), index=True)
    keywords: Mapped[str] = mapped_column(Text, default="")  # streets, 小区, buildings, landmarks; ';'-separated
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lng: Mapped[float | None] = mapped_column(Float, nullable=True)
    radius_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)

    @property
    def keyword_list(self) -> list[str]:
        return [k.strip() for k in (self.keywords or "").replace("；", ";").split(";") if k.strip()]


class Person(Base):
    """Someone Qingche talks to. ``userid`` is the WeCom userid (or external_userid for WeChat)."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    userid: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    role: Mapped[str] = mapped_column(String(20), default="resident")
    patch: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)  # Patch.code
    mobile: Mapped[str | None] = mapped_column(String(30), nullable=True)
    kind: Mapped[str | None] = mapped_column(String(10), nullable=True)  # 专职/兼职/专业 (grid workers)
    department: Mapped[str | None] = mapped_column(String(100), nullable=True)
    jurisdiction: Mapped[str | None] = mapped_column(String(100), nullable=True)  # a village or a town (cadres)
    channel: Mapped[str] = mapped_column(String(10), default="app")  # app, kf
    village: Mapped[str | None] = mapped_column(String(100), nullable=True)  # told by a WeChat resident
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
