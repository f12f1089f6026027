"""Working days as 12345 counts them: the State Council's holidays and 调休 make-up days, from the
maintained ``chinesecalendar`` package (updated each year when the schedule is published).

For a year the package has no data for yet (the schedule is published each November), Monday to
Friday count as working days and one warning is logged; upgrading the package fixes it.
"""
from __future__ import annotations

import functools
import logging
from datetime import UTC, date, datetime, timedelta

import chinese_calendar

from bot.timeutil import CHINA, to_local

log = logging.getLogger(__name__)


@functools.lru_cache(maxsize=8)
def _warn_once(year: int) -> None:
    log.warning("holiday calendar has no data for %s: counting Monday to Friday as working days "
                "(pip install -U chinesecalendar once the State Council publishes the schedule)", year)


def covered(year: int) -> bool:
    """Whether the holiday calendar knows ``year``."""
    try:
        chinese_calendar.is_workday(date(year, 1, 2))
    except NotImplementedError:
        return False
    return True


def is_workday(day: date) -> bool:
    """Whether ``day`` is a working day in mainland China (调休 Saturdays included)."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        _warn_once(day.year)
        return day.weekday() < 5


def add_working_days(start: datetime, days: int) -> datetime:
    """The moment ``days`` working days after ``start`` (UTC, naive as the database keeps it).

    As 12345 counts: the limit ends at the end of the ``days``-th working day after the day of
    receipt, China time (a request on Friday with 2 working days is due at Tuesday's end).
    """
    local = to_local(start)
    day = local.date()
    left = days
    while left > 0:
        day += timedelta(days=1)
        if is_workday(day):
            left -= 1
    end = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=CHINA)
    return end.astimezone(UTC).replace(tzinfo=None)


def working_days_between(start: datetime, end: datetime) -> int:
    """Whole working days after ``start``'s day up to and including ``end``'s day (China time)."""
    day, last = to_local(start).date(), to_local(end).date()
    count = 0
    while day < last:
        day += timedelta(days=1)
        count += is_workday(day)
    return count
