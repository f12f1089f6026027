"""Where a complaint goes: which patch, which grid worker, which cadre.

A place the resident names (address keywords) or sends (a location) wins; otherwise the
resident's registered patch; otherwise a village or town named in the text; otherwise a cadre
dispatches by hand.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Patch, Person
from bot.tickets.words import plain

NEAREST_LIMIT_M = 10_000  # beyond this, the nearest patch centre is not "near"
KIND_ORDER = {"专职": 0, "兼职": 1, "专业": 2}
VILLAGE_SUFFIXES = ("居民委员会", "村民委员会", "居委会", "村委会", "委员会")


@dataclass
class Route:
    """Where a ticket goes. ``how`` is address, location, registered, village, or none."""

    patch: Patch | None = None
    village: str | None = None
    town: str | None = None
    how: str = "none"


def distance_m(lat1: float, lng1: float, lat2: float, lng2: float) -> float:
    """Great-circle distance in metres."""
    r = 6_371_000.0
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lng2 - lng1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * r * math.asin(math.sqrt(a))


def patch_by_keywords(session: Session, text: str) -> tuple[Patch, str] | None:
    """The patch whose keyword (street, 小区, building, landmark) appears in ``text``; the longest wins."""
    p = plain(text)
    if not p:
        return None
    best: tuple[Patch, str] | None = None
    for patch in session.scalars(select(Patch).order_by(Patch.code)):
        for kw in patch.keyword_list + [patch.name]:
            k = plain(kw)
            if k and k in p and (best is None or len(k) > len(plain(best[1]))):
                best = (patch, kw)
    return best


def patch_by_location(session: Session, lat: float, lng: float) -> Patch | None:
    """The patch whose radius contains the point (the closest centre if several), else the nearest centre."""
    inside, nearest = [], []
    for patch in session.scalars(select(Patch).where(Patch.lat.is_not(None), Patch.lng.is_not(None))):
        d = distance_m(lat, lng, patch.lat, patch.lng)
        if patch.radius_m and d <= patch.radius_m:
            inside.append((d / patch.radius_m, patch.code, patch))
        nearest.append((d, patch.code, patch))
    if inside:
        return min(inside, key=lambda x: (x[0], x[1]))[2]
    if nearest:
        d, _, patch = min(nearest, key=lambda x: (x[0], x[1]))
        if d <= NEAREST_LIMIT_M:
            return patch
    return None


def short_village(name: str) -> str:
    """楼冈社区居委会 → 楼冈社区; 南屏村委会 → 南屏村."""
    for suffix in VILLAGE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name


def village_by_text(session: Session, text: str) -> tuple[str, str] | None:
    """(village, town) when ``text`` names a village or community on the roster."""
    p = plain(text)
    for village, town in session.execute(select(Patch.village, Patch.town).distinct()):
        if plain(short_village(village)) in p:
            return village, town
    return None


def village_by_core(session: Session, text: str) -> tuple[str, str] | None:
    """(village, town) when ``text`` names a village by its core name as people say it: 楼冈, 東河嗰边, 南屏."""
    from bot.kf.village import core

    p = plain(text)
    best = None
    for village, town in session.execute(select(Patch.village, Patch.town).distinct()):
        name = plain(core(village))
        if len(name) >= 2 and name in p and (best is None or len(name) > len(plain(core(best[0])))):
            best = (village, town)
    return best


def town_by_text(session: Session, text: str) -> str | None:
    """The town or 街道 named in ``text``."""
    p = plain(text)
    for (town,) in session.execute(select(Patch.town).distinct()):
        if town and plain(town) in p:
            return town
    return None


def route(session: Session, *, text: str = "", lat: float | None = None, lng: float | None = None,
          registered: str | None = None, village_hint: str | None = None) -> Route:
    """Decide the patch for a complaint from the address text, a location, and the registered patch."""
    if text:
        found = patch_by_keywords(session, text)
        if found:
            return _route(found[0], "address")
    if lat is not None and lng is not None:
        patch = patch_by_location(session, lat, lng)
        if patch:
            return _route(patch, "location")
    if registered:
        patch = session.scalar(select(Patch).where(Patch.code == registered))
        if patch:
            return _route(patch, "registered")
    for hint in (text, village_hint or ""):
        if hint:
            found_village = village_by_text(session, hint) or village_by_core(session, hint)
            if found_village:
                return Route(None, found_village[0], found_village[1], "village")
            town = town_by_text(session, hint)
            if town:
                return Route(None, None, town, "village")
    return Route()


def _route(patch: Patch, how: str) -> Route:
    return Route(patch, patch.village, patch.town, how)


def grid_worker_for(session: Session, patch_code: str | None) -> Person | None:
    """The patch's grid worker: full-time first, then part-time, then specialist."""
    if not patch_code:
        return None
    workers = session.scalars(select(Person).where(Person.role == "grid_worker", Person.patch == patch_code)).all()
    if not workers:
        return None
    return min(workers, key=lambda w: (KIND_ORDER.get(w.kind or "", 3), w.id))


def cadres_for(session: Session, village: str | None, town: str | None) -> list[Person]:
    """The cadres who dispatch by hand: the village's, else the town's, else every cadre."""
    for place in (village, town):
        if place:
            found = session.scalars(select(Person).where(Person.role == "cadre", Person.jurisdiction == place)
                                    .order_by(Person.id)).all()
            if found:
                return list(found)
    return list(session.scalars(select(Person).where(Person.role == "cadre").order_by(Person.id)))


def may_change(ticket_village: str | None, ticket_town: str | None, assignee: str | None, person: Person | None) -> bool:
    """Only the assigned grid worker, or a cadre whose jurisdiction is the ticket's village or town."""
    if person is None:
        return False
    if assignee and person.userid == assignee:
        return True
    if person.role == "cadre" and person.jurisdiction:
        places = {v for v in (ticket_village, ticket_town) if v}
        return not places or person.jurisdiction in places   # unplaced: every cadre's to dispatch
    return False
