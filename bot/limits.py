"""What fits: column sizes for values that come from outside, and the checks that apply them.

Everything a resident or WeCom sends is fitted here, at the boundary, before it reaches a column:
free text is cut with a visible mark, identifiers that cannot be real are refused (the caller
answers with a clear message), numbers must be finite and in range.
"""
from __future__ import annotations

import math

MARK = "…"          # shows that text was cut
ADDRESS = 300       # ticket.address
MEDIA_ID = 200      # ticket_media.media_id (WeCom's ids are well under 128 characters)
URL = 2000          # ticket_media.pic_url
NAME = 100          # person.name, person.village and the like
NOTE = 2000         # free-text notes shown in a chat line
MAX_INT = 2**31 - 1  # the largest ticket number a column holds


def fit(text: str | None, size: int) -> str:
    """``text`` cut to ``size`` characters, ending in ``MARK`` when it was cut."""
    text = text or ""
    if len(text) <= size:
        return text
    return text[: size - len(MARK)] + MARK


def coordinate(value, bound: float) -> float | None:
    """A latitude (bound 90) or longitude (bound 180) as a float, or None if it is not one."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    if not math.isfinite(number) or abs(number) > bound:
        return None
    return number


def whole_number(text: str) -> int | None:
    """A ticket or application number from digits, or None when it cannot be one."""
    if not text or not text.isdigit() or len(text) > 10:
        return None
    number = int(text)
    return number if 0 < number <= MAX_INT else None
