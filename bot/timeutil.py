"""Time in one convention: naive UTC datetimes in the database, Asia/Shanghai for people."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "Asia/Shanghai")


def utcnow() -> datetime:
    """The current time as a naive UTC datetime (what every column stores)."""
    return datetime.now(UTC).replace(tzinfo=None)


def to_local(dt: datetime | None) -> datetime | None:
    """A stored naive-UTC datetime as China time."""
    if dt is None:
        return None
    return dt.replace(tzinfo=UTC).astimezone(CHINA)


def fmt_local(dt: datetime | None, pattern: str = "%m月%d日 %H:%M") -> str:
    """A stored datetime as a short Chinese time string."""
    local = to_local(dt)
    return local.strftime(pattern) if local else ""


WEEKDAYS = ("周一", "周二", "周三", "周四", "周五", "周六", "周日")


def fmt_deadline(dt: datetime | None) -> str:
    """A deadline as people say it: ``12月21日（周一）``, with the time only when it is not the
    end of the day (``12月21日（周一）15:30``)."""
    local = to_local(dt)
    if local is None:
        return ""
    day = f"{local.month}月{local.day}日（{WEEKDAYS[local.weekday()]}）"
    return day if (local.hour, local.minute) == (23, 59) else f"{day}{local:%H:%M}"
