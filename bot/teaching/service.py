"""Teach, retire and look up taught phrasings."""
from __future__ import annotations

from datetime import datetime

from rapidfuzz import fuzz
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from bot.models import CatalogueMiss, Patch, Person, TaughtPhrase
from knowledge.catalogue import Item, load_catalogue
from knowledge.normalize import normalize, normalize_term

SIMILAR = 85.0   # rapidfuzz ratio on the normalised text: "the same and similar phrasings"


def resolve_entry(name: str) -> Item | None:
    """The catalogue entry a cadre names: its id (R1), its name or an alias, else a confident match."""
    catalogue = load_catalogue()
    name = name.strip()
    if name.upper() in catalogue.items:
        return catalogue[name.upper()]
    key = normalize_term(name)
    for item in catalogue:
        if key in {normalize_term(n) for n in (item.name, *item.aliases)}:
            return item
    from knowledge.matcher import match

    result = match(name)
    return result.item if result.outcome == "confident" else None


def teach(session: Session, miss: CatalogueMiss, item: Item, cadre: Person, now: datetime) -> TaughtPhrase:
    """Learn ``miss``'s phrasing as ``item`` for the cadre's jurisdiction (once: teaching again updates it)."""
    row = session.scalar(select(TaughtPhrase).where(TaughtPhrase.miss_id == miss.id,
                                                    TaughtPhrase.jurisdiction == cadre.jurisdiction))
    if row is None:
        row = TaughtPhrase(miss_id=miss.id, text=miss.text[:2000], normalized=miss.normalized or normalize(miss.text),
                           jurisdiction=cadre.jurisdiction, taught_by=cadre.userid)
        session.add(row)
    row.item_id, row.active, row.taught_by, row.created_at = item.id, True, cadre.userid, now
    row.retired_by = row.retired_at = None
    session.flush()
    return row


def retire(session: Session, miss_id: int, cadre: Person, now: datetime) -> TaughtPhrase | None:
    """Forget what was taught for question #miss_id in the cadre's jurisdiction."""
    row = session.scalar(select(TaughtPhrase).where(TaughtPhrase.miss_id == miss_id,
                                                    TaughtPhrase.jurisdiction == cadre.jurisdiction,
                                                    TaughtPhrase.active.is_(True)))
    if row is not None:
        row.active, row.retired_by, row.retired_at = False, cadre.userid, now
        session.flush()
    return row


def places_of(session: Session, person: Person | None) -> set[str]:
    """The jurisdictions a sender belongs to (their village and its town); empty when unknown."""
    if person is None:
        return set()
    places = set()
    if person.patch:
        patch = session.scalar(select(Patch).where(Patch.code == person.patch))
        if patch:
            places |= {patch.village, patch.town}
    if person.village:
        places.add(person.village)
        town = session.scalar(select(Patch.town).where(Patch.village == person.village).limit(1))
        if town:
            places.add(town)
    return {p for p in places if p}


def lookup(session: Session, text: str, person: Person | None) -> Item | None:
    """The entry a cadre taught for this phrasing (or one very like it) where the sender lives; a sender
    whose place is unknown gets what any jurisdiction taught."""
    q = normalize(text)
    if not q:
        return None
    query = select(TaughtPhrase).where(TaughtPhrase.active.is_(True))
    places = places_of(session, person)
    if places:
        query = query.where(or_(*(TaughtPhrase.jurisdiction == p for p in places)))
    best, best_score = None, 0.0
    for row in session.scalars(query.order_by(TaughtPhrase.id.desc()).limit(500)):
        score = 100.0 if row.normalized == q else fuzz.ratio(row.normalized, q)
        if score >= SIMILAR and score > best_score:
            best, best_score = row, score
    if best is None:
        return None
    return load_catalogue().items.get(best.item_id)


def export(session: Session) -> dict[str, list[str]]:
    """Active taught phrasings by entry id: the aliases a maintainer may add to the catalogue files."""
    out: dict[str, list[str]] = {}
    for row in session.scalars(select(TaughtPhrase).where(TaughtPhrase.active.is_(True)).order_by(TaughtPhrase.id)):
        out.setdefault(row.item_id, [])
        if row.text not in out[row.item_id]:
            out[row.item_id].append(row.text)
    return out
