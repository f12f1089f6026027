"""Personal data in free text: ID-card and phone numbers, masked wherever others may read them.

ID-card numbers are masked everywhere (logs, pushes, digests, every chat view). Phone numbers a
resident typed into a description are masked everywhere except the assigned grid worker's view of
the ticket, who may need to call back.
"""
from __future__ import annotations

import re

MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)[\s-]?\d{4}[\s-]?(\d{4})(?!\d)")
LANDLINE = re.compile(r"(?<!\d)(0\d{2,3})[\s-]?\d{3,4}(\d{4})(?!\d)")
ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])")
OLD_ID_CARD = re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{6}(\d{3})(?![0-9A-Za-z])")


def mask_ids(text: str | None) -> str:
    """ID-card numbers (18 or 15 digits) with the birth date and sequence hidden."""
    text = ID_CARD.sub(r"\1********\2", text or "")
    return OLD_ID_CARD.sub(r"\1******\2", text)


def mask_phones(text: str | None) -> str:
    """Mobile and landline numbers with their middle digits hidden."""
    text = MOBILE.sub(r"\1****\2", text or "")
    return LANDLINE.sub(r"\1-****\2", text)


def mask(text: str | None) -> str:
    """Both: what anyone but the assigned grid worker reads of a resident's free text."""
    return mask_phones(mask_ids(text))


def for_viewer(text: str | None, assigned_worker: bool) -> str:
    """Free text as this reader may see it: the assigned grid worker keeps phone numbers."""
    return mask_ids(text) if assigned_worker else mask(text)
