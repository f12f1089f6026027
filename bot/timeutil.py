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
