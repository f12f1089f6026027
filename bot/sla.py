"""Ticket deadlines from ``knowledge/sla.yaml`` (or ``QINGCHE_SLA_FILE``): start, pause and resume the clocks.

An entry has ``acknowledge`` and ``resolve`` (and optionally ``remind``, and ``arrive`` for tickets a
grid worker must attend in person, see ``bot.visits.attend``) durations written with
units: ``30s``, ``15m``, ``2h``, ``10d`` (calendar time), and for ``resolve`` also ``10wd``: working
days as Guangdong 12345 counts them — the deadline is the end (23:59:59 China time) of the 10th
working day after the day of receipt, weekends, public holidays and 调休 make-up days taken from
the holiday calendar (``bot.workdays``). Acknowledge and remind clocks stay in calendar time: they
are hours, and the reminder is timed back from the acknowledge deadline. A category's entry wins
over its urgency's, which wins over ``default``.

Waiting for the resident pauses the clocks. On resume a calendar-time deadline moves on by the time
spent waiting; a working-day deadline moves on by the working days that began while the ticket was
waiting (paused Friday 17:00 and answered Monday 09:00: one, Monday), so it stays at the end of a
working day and a wait over a weekend or a holiday costs nothing.
"""
from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from bot import workdays
from bot.models import Ticket
from bot.timeutil import utcnow
from knowledge import yamlio

SLA_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "sla.yaml"
RESERVED = ("default", "urgency", "whistle")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION = re.compile(r"^\s*(\d+)\s*(wd|[smhd])\s*$")


class SlaFileError(ValueError):
    """The SLA file is not valid."""


@dataclass(frozen=True)
class WorkingDays:
    """A limit of ``days`` working days (``10wd``), counted as 12345 counts them."""

    days: int

    def after(self, start: datetime) -> datetime:
        """The end of the ``days``-th working day after ``start``'s day (China time), as stored (naive UTC)."""
        return workdays.add_working_days(start, self.days)

    @property
    def shortest(self) -> timedelta:
        """No deadline of this limit comes sooner than this after receipt (for validation)."""
        return timedelta(days=self.days)

    def __str__(self) -> str:
        return f"{self.days}wd"


Span = timedelta | WorkingDays


def deadline(start: datetime, span: Span) -> datetime:
    """``start`` plus a calendar-time span, or the working-day deadline after ``start``."""
    return span.after(start) if isinstance(span, WorkingDays) else start + span


@dataclass(frozen=True)
class Limits:
    """The clocks for one category: acknowledge, resolve, and when to remind before acknowledge."""

    acknowledge: timedelta
    resolve: Span
    remind: timedelta
    arrive: timedelta | None = None   # 三必到: the grid worker must be on the spot by then (this entry's own)


@dataclass(frozen=True)
class Sla:
    """The whole file, validated."""

    default: Limits
    categories: dict[str, Limits]
    urgency: dict[str, Limits]
    whistle_report: timedelta

    def limits(self, category: str, urgency: str = "normal") -> Limits:
        """The limits for a category (then its urgency, then the default); an emergency's own limits
        win over its category's."""
        if urgency == "emergency" and urgency in self.urgency:
            return self.urgency[urgency]
        return self.categories.get(category) or self.urgency.get(urgency) or self.default


def parse_duration(raw, where: str = "duration", working_days: bool = False) -> Span:
    """``"30s"``, ``"15m"``, ``"2h"``, ``"10d"`` → a timedelta; ``"10wd"`` → ``WorkingDays(10)`` where
    ``working_days`` allows it; anything else raises ``SlaFileError``."""
    m = _DURATION.match(str(raw)) if isinstance(raw, (str, int)) else None
    if not m or int(m.group(1)) <= 0:
        examples = "30s, 15m, 2h, 10d or 10wd (working days)" if working_days else "30s, 15m, 2h or 10d"
        raise SlaFileError(f"{where}: {raw!r} is not a duration such as {examples}")
    if m.group(2) == "wd":
        if not working_days:
            raise SlaFileError(f"{where}: {raw!r}: working days (wd) are for resolve deadlines only; "
                               "write this one in s, m, h or d")
        return WorkingDays(int(m.group(1)))
    return timedelta(seconds=int(m.group(1)) * UNITS[m.group(2)])


def _shortest(span: Span) -> timedelta:
    return span.shortest if isinstance(span, WorkingDays) else span


def _limits(raw, where: str, base: Limits | None = None) -> Limits:
    if not isinstance(raw, dict):
        raise SlaFileError(f"{where}: expected acknowledge and resolve")
    unknown = set(raw) - {"acknowledge", "resolve", "remind", "arrive"}
    if unknown:
        raise SlaFileError(f"{where}: unknown key {min(unknown)!r}")
    if base is None and not {"acknowledge", "resolve"} <= set(raw):
        raise SlaFileError(f"{where}: acknowledge and resolve are required")
    ack = parse_duration(raw["acknowledge"], f"{where}.acknowledge") if "acknowledge" in raw else base.acknowledge
    res = parse_duration(raw["resolve"], f"{where}.resolve", working_days=True) if "resolve" in raw else base.resolve
    if _shortest(res) < ack:
        raise SlaFileError(f"{where}: resolve must not be shorter than acknowledge")
    remind = parse_duration(raw["remind"], f"{where}.remind") if "remind" in raw else ack / 2
    if remind >= ack:
        raise SlaFileError(f"{where}: remind must be shorter than acknowledge")
    arrive = parse_duration(raw["arrive"], f"{where}.arrive") if "arrive" in raw else None
    return Limits(ack, res, remind, arrive)


def parse(data, known_categories: set[str] | None = None) -> Sla:
    """Validate the file's content; raise ``SlaFileError`` naming the first problem."""
    if not isinstance(data, dict) or "default" not in data:
        raise SlaFileError("a default: entry with acknowledge and resolve is required")
    default = _limits(data["default"], "default")
    urgency = {str(k): _limits(v, f"urgency.{k}", default) for k, v in (data.get("urgency") or {}).items()}
    cats = {}
    for key, raw in data.items():
        if key in RESERVED:
            continue
        if known_categories is not None and key not in known_categories:
            raise SlaFileError(f"{key}: not a category in categories.yaml")
        cats[str(key)] = _limits(raw, str(key), default)
    whistle = data.get("whistle") or {}
    if not isinstance(whistle, dict):
        raise SlaFileError("whistle: expected report")
    report = parse_duration(whistle["report"], "whistle.report") if "report" in whistle else timedelta(hours=2)
    return Sla(default, cats, urgency, report)


def sla_path() -> Path:
    """The SLA file in use: ``QINGCHE_SLA_FILE`` (the runtime's config, else the environment), else the default."""
    from bot import runtime
    from bot.errors import ConfigError

    try:
        override = runtime.get().config.QINGCHE_SLA_FILE
    except ConfigError:  # no runtime and no settings (a script, a unit test): the environment decides
        override = ""
    return Path(override or os.environ.get("QINGCHE_SLA_FILE") or SLA_FILE)


@functools.lru_cache(maxsize=8)
def _load(path: str, mtime: float) -> Sla:
    from bot.tickets import categories

    data = yamlio.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    try:
        return parse(data, {c.id for c in categories.categories()})
    except SlaFileError as exc:
        raise SlaFileError(f"{Path(path).name}: {exc}") from None


def load() -> Sla:
    """The current SLA (re-read when the file changes)."""
    path = sla_path()
    return _load(str(path), path.stat().st_mtime)


def start(ticket: Ticket, now: datetime | None = None) -> None:
    """Set a new ticket's acknowledge and resolve deadlines (and ``expected_at``) from now."""
    now = now or utcnow()
    limits = load().limits(ticket.service_code, ticket.urgency)
    ticket.acknowledge_by = now + limits.acknowledge
    if ticket.respond_by is None:
        ticket.respond_by = ticket.acknowledge_by  # 响应率 judges the first response against the first deadline
    ticket.resolve_by = deadline(now, limits.resolve)
    ticket.expected_at = ticket.resolve_by
    ticket.paused_at = None


def pause(ticket: Ticket, now: datetime | None = None) -> None:
    """Stop the clocks while waiting for the resident."""
    if ticket.paused_at is None:
        ticket.paused_at = now or utcnow()


def resume(ticket: Ticket, now: datetime | None = None) -> None:
    """Restart the clocks: calendar-time deadlines move on by the time spent waiting, working-day
    deadlines by the working days that began while waiting."""
    if ticket.paused_at is None:
        return
    now = now or utcnow()
    waited = max(now - ticket.paused_at, timedelta(0))
    by_working_days = isinstance(limits_for(ticket).resolve, WorkingDays)
    working_days = workdays.working_days_between(ticket.paused_at, now) if now > ticket.paused_at else 0
    for name in ("acknowledge_by", "resolve_by", "expected_at"):
        value = getattr(ticket, name)
        if value is None:
            continue
        if name != "acknowledge_by" and by_working_days:
            setattr(ticket, name, workdays.add_working_days(value, working_days) if working_days else value)
        else:
            setattr(ticket, name, value + waited)
    ticket.paused_at = None


def limits_for(ticket: Ticket) -> Limits:
    """The limits that apply to ``ticket``."""
    return load().limits(ticket.service_code, ticket.urgency)
