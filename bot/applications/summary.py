"""The applications line in the cadres' daily digest and in 今日: counts and numbers only."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import texts
from bot.applications import states
from bot.applications.service import in_jurisdiction
from bot.models import Application

NUMBERS_MAX = 8


def _numbers(apps: list[Application]) -> str:
    if not apps:
        return ""
    shown = " ".join(f"#A{a.number}" for a in apps[:NUMBERS_MAX])
    return f"（{shown}{'…' if len(apps) > NUMBERS_MAX else ''}）"


def line(session: Session, jurisdiction: str | None, start: datetime, end: datetime, now: datetime,
         key: str = "digest_line") -> str:
    """New in [start, end), waiting now (the committee must act), overdue now; empty when all are zero."""
    if not jurisdiction:
        return ""
    mine = in_jurisdiction(jurisdiction)
    new = list(session.scalars(select(Application).where(mine, Application.requested_at >= start,
                                                         Application.requested_at < end).order_by(Application.number)))
    waiting = list(session.scalars(select(Application).where(mine, Application.status.in_(states.of_type("open")))
                                   .order_by(Application.number)))
    overdue = [a for a in waiting if a.due_at is not None and a.due_at < now]
    ready = session.scalars(select(Application.id).where(mine, Application.status == "approved")).all()
    if not (new or waiting or overdue or ready):
        return ""
    template = {"digest_line": "applications.digest_line", "today_line": "applications.today_line"}.get(
        key, "applications.digest_line")
    return texts.t(template, new=len(new), new_numbers=_numbers(new), waiting=len(waiting),
                   waiting_numbers=_numbers(waiting), overdue=len(overdue), overdue_numbers=_numbers(overdue),
                   ready=len(ready))
