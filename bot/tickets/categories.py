"""Complaint categories and emergencies, read and validated from ``knowledge/categories.yaml``."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

from bot.tickets.words import plain
from knowledge import yamlio

CATEGORIES_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "categories.yaml"
FALLBACK_ID = "other"
MANUAL_IDS = (FALLBACK_ID, "consultation")  # chosen by the intake itself, never by keywords
URGENCIES = ("normal", "high")   # a ticket may also be "emergency": immediate danger, whatever the category


@dataclass(frozen=True)
class Category:
    id: str
    name: str
    keywords: tuple[str, ...]
    department: str
    handler: str
    urgency: str
    response_hours: int
    expected_hours: int
    weight: int = 1
    must_attend: bool = False   # 三必到: the grid worker must go in person (disputes)


@dataclass(frozen=True)
class Emergency:
    id: str
    name: str
    call: str
    keywords: tuple[str, ...]


class CategoryFileError(ValueError):
    """``knowledge/categories.yaml`` is not valid."""


def _keywords(raw, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or not all(isinstance(k, str) and k.strip() for k in raw):
        raise CategoryFileError(f"{where}: keywords must be a list of words")
    return tuple(sorted({plain(k) for k in raw}, key=lambda k: (-len(k), k)))   # longest first; a fixed order


def parse(data: dict) -> tuple[list[Category], list[Emergency]]:
    """Validate the file's content; raise ``CategoryFileError`` naming the first problem."""
    if not isinstance(data, dict) or not isinstance(data.get("categories"), list):
        raise CategoryFileError("categories: expected a list")
    cats: list[Category] = []
    seen: set[str] = set()
    for i, raw in enumerate(data["categories"], start=1):
        where = f"categories[{i}]"
        if not isinstance(raw, dict):
            raise CategoryFileError(f"{where}: expected a mapping")
        for key in ("id", "name", "department", "handler", "urgency"):
            if not isinstance(raw.get(key), str) or not raw[key].strip():
                raise CategoryFileError(f"{where}: {key} is missing")
        where = f"category {raw['id']}"
        if raw["id"] in seen:
            raise CategoryFileError(f"{where}: duplicate id")
        seen.add(raw["id"])
        if raw["urgency"] not in URGENCIES:
            raise CategoryFileError(f"{where}: urgency must be one of {', '.join(URGENCIES)}")
        for key in ("response_hours", "expected_hours"):
            if not isinstance(raw.get(key), int) or raw[key] <= 0:
                raise CategoryFileError(f"{where}: {key} must be a positive whole number of hours")
        weight = raw.get("weight", 1)
        if not isinstance(weight, int) or weight < 1:
            raise CategoryFileError(f"{where}: weight must be a positive whole number")
        if not isinstance(raw.get("must_attend", False), bool):
            raise CategoryFileError(f"{where}: must_attend must be true or false")
        keywords = _keywords(raw.get("keywords", []), where)
        if not keywords and raw["id"] not in MANUAL_IDS:
            raise CategoryFileError(f"{where}: needs at least one keyword")
        cats.append(Category(id=raw["id"], name=raw["name"].strip(), keywords=keywords,
                             department=raw["department"].strip(), handler=raw["handler"].strip(),
                             urgency=raw["urgency"], response_hours=raw["response_hours"],
                             expected_hours=raw["expected_hours"], weight=weight,
                             must_attend=raw.get("must_attend", False)))
    if FALLBACK_ID not in seen:
        raise CategoryFileError(f"categories: a category with id {FALLBACK_ID!r} is required")
    emergencies: list[Emergency] = []
    for i, raw in enumerate(data.get("emergencies") or [], start=1):
        where = f"emergencies[{i}]"
        if not isinstance(raw, dict) or not all(isinstance(raw.get(k), str) and raw[k] for k in ("id", "name", "call")):
            raise CategoryFileError(f"{where}: id, name and call are required")
        emergencies.append(Emergency(raw["id"], raw["name"], raw["call"], _keywords(raw.get("keywords"), where)))
    return cats, emergencies


@functools.lru_cache(maxsize=1)
def _load() -> tuple[list[Category], list[Emergency]]:
    return parse(yamlio.safe_load(CATEGORIES_FILE.read_text(encoding="utf-8")) or {})


def categories() -> list[Category]:
    """All categories, in file order."""
    return _load()[0]


def get(category_id: str) -> Category:
    """The category with ``category_id``, or the fallback category."""
    for cat in categories():
        if cat.id == category_id:
            return cat
    return get(FALLBACK_ID)


def _score(text_plain: str, keywords: tuple[str, ...], weight: int) -> float:
    hits = [k for k in keywords if k in text_plain]
    # a keyword inside a longer matched keyword ("垃圾" in "倒垃圾") counts once; a longer keyword
    # says more ("沙井盖" is a road, "沙井" may be a drain)
    distinct = [k for k in hits if not any(k != other and k in other for other in hits)]
    return sum(weight * (1 + 0.3 * max(len(k) - 2, 0)) for k in distinct)


def classify(text: str) -> Category | None:
    """The best matching category for ``text``, or None when no keyword matches."""
    p = plain(text)
    best, best_score = None, 0
    for cat in categories():
        score = _score(p, cat.keywords, cat.weight)
        if score > best_score:
            best, best_score = cat, score
    return best if best is None or best.id not in MANUAL_IDS else None


# Choosing a report's category: keywords, weighed with a scorer learned from example reports
# (knowledge/examples/complaints.yaml; knowledge/learned.py). The keywords' scores are scaled to the
# best one; the learned posterior is added with this weight.
LEARNED_WEIGHT = 1.0
KEYWORD_DAMPING = 1.0
LEARNED_ALONE = 0.8   # no keyword at all: the reading of the whole report decides only when it is clear (其他 is common)


@functools.lru_cache(maxsize=1)
def learned_scorer():
    from knowledge import examples, learned, modelcache

    found = examples.packaged_complaint_examples()
    # 其他 is learned too (a fall, a missing neighbour, graffiti on a 碉楼), so that it can win; 咨询 is not a report
    training = {c.id: [*c.keywords, *found.get(c.id, ())] for c in categories() if c.id != "consultation"}
    return modelcache.trained(learned.NaiveBayes, training)


def categorize(text: str) -> Category | None:
    """The category a report belongs to: its keywords and the example reports it reads like. None
    when neither says (the intake files it as 其他)."""
    p = plain(text)
    kw = {cat.id: _score(p, cat.keywords, cat.weight) for cat in categories() if cat.id not in MANUAL_IDS}
    best_kw = max(kw.values(), default=0.0)
    guess = learned_scorer().guess(text)
    if best_kw <= 0:
        if guess.top and guess.top != FALLBACK_ID and guess.p >= LEARNED_ALONE:
            return get(guess.top)
        return None
    scale = best_kw + KEYWORD_DAMPING   # one weak keyword does not outweigh a clear reading of the whole report
    combined = {i: s / scale + LEARNED_WEIGHT * guess.prob(i) for i, s in kw.items()}
    for label, prob in zip(guess.labels, guess.probs, strict=True):
        combined.setdefault(label, LEARNED_WEIGHT * prob)
    top = max(combined, key=lambda i: combined[i])
    return None if top == FALLBACK_ID else get(top)


def emergencies() -> list[Emergency]:
    """The emergencies (fire, gas, injury, flood, violence) with their call numbers and words."""
    return _load()[1]


def detect_emergency(text: str) -> Emergency | None:
    """The emergency ``text`` describes (fire, gas, injury, flood, violence), or None."""
    p = plain(text)
    for emergency in _load()[1]:
        if any(k in p for k in emergency.keywords):
            return emergency
    return None


def reload() -> None:
    """Forget the cached file (after a cadre edits it)."""
    _load.cache_clear()
    learned_scorer.cache_clear()
