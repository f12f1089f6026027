"""Remember where a WeChat resident lives: "我住在大沙墟社区" → 大沙墟社区居委会 (and its patch, if only one)."""
from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Patch, Person

_PLACE = r"(?P<place>[^\s，,。.!！？?；;、]{2,24}?)"
_END = r"(?:的|嘅)?(?:居民|村民|人)?[。.!！~～]*$"
# "我住在…" names a place for sure; "我是…的居民" / "我在…" only count when they name a known village
STRONG = re.compile(r"^(?:我|我们|我哋|我家|屋企)?(?:就)?(?:住在|住喺|住係|住|家在)" + _PLACE + _END)
WEAK = re.compile(r"^(?:我|我们|我哋)(?:是|系|係|在|喺)" + _PLACE + _END)
SUFFIXES = ("社区居民委员会", "村民委员会", "社区居委会", "居委会", "村委会", "社区", "村")


def core(name: str) -> str:
    """楼冈社区居委会 → 楼冈; 南屏村 → 南屏."""
    name = re.sub(r"\s+", "", name)
    for suffix in SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) + 1:
            return name[: -len(suffix)]
    return name


def said_place(text: str) -> tuple[str, bool] | None:
    """(place, certain) when ``text`` is a statement of where the sender lives."""
    text = text.strip()
    for pattern, certain in ((STRONG, True), (WEAK, False)):
        m = pattern.match(text)
        if m:
            return m.group("place"), certain
    return None


def match_village(session: Session, place: str) -> str | None:
    """The roster's village (``Patch.village``) that ``place`` names, or None."""
    said = core(place)
    best = None
    for (village,) in session.execute(select(Patch.village).distinct()):
        c = core(village)
        if len(c) >= 2 and (said == c or c in place) and (best is None or len(c) > len(core(best))):
            best = village
    return best


def remember(session: Session, person: Person, village: str) -> str | None:
    """Store ``village`` on ``person``; set the patch when the village has exactly one. Returns the patch code."""
    codes = session.scalars(select(Patch.code).where(Patch.village == village).order_by(Patch.code)).all()
    person.village = village
    if len(codes) == 1:
        person.patch = codes[0]
    elif person.patch and person.patch not in codes:
        person.patch = None   # they moved: the old patch is wrong now, the village routes the rest
    session.flush()
    return person.patch
