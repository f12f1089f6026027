"""Shared steps for the cadre tests: a drill SLA file in seconds, filing, ageing tickets."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from bot import runtime
from bot.db import session_scope
from bot.models import CadrePushState, Ticket, Whistle

DRILL_SLA = """
default: {acknowledge: 20s, resolve: 40s}
whistle: {report: 20s}
"""


def use_drill_sla(tmp_path, text: str = DRILL_SLA) -> None:
    """Point QINGCHE_SLA_FILE at a drill file with deadlines in seconds."""
    path = tmp_path / "sla.yaml"
    path.write_text(text, encoding="utf-8")
    runtime.get().config.QINGCHE_SLA_FILE = str(path)


def file_streetlight(chat, user: str = "chenayi") -> None:
    """The resident files ticket #1 at her registered patch (楼冈社区第一网格, worker liang.wg)."""
    chat(user, "楼下路灯坏了三天了")
    chat(user, "1")
    chat(user, "没有")
    chat(user, "确认")


def age(config, number: int, seconds: float) -> None:
    """Pretend ``seconds`` passed for ticket ``number``: move its clocks and whistles back."""
    back = timedelta(seconds=seconds)
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket).where(Ticket.number == number))
        for name in ("requested_at", "acknowledge_by", "respond_by", "resolve_by", "expected_at", "paused_at",
                     "acknowledged_at", "resolved_at"):
            if getattr(ticket, name) is not None:
                setattr(ticket, name, getattr(ticket, name) - back)
        for w in s.scalars(select(Whistle).where(Whistle.ticket_id == ticket.id)):
            w.blown_at -= back
            w.report_by -= back


def minute_passes(config) -> None:
    """Pretend every cadre's last push was more than a minute ago."""
    with session_scope(config.DATABASE_URL) as s:
        s.execute(update(CadrePushState).values(last_push_at=None))


def count(texts: list[str], needle: str) -> int:
    return sum(needle in t for t in texts)
