"""The visit rules (四必访) from ``knowledge/visits.yaml``: the four kinds of household, how often
each must be visited, and per-town overrides. Every mistake names the file and the key."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from knowledge import yamlio

RULES_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "visits.yaml"
KIND_IDS = ("party", "representative", "special", "key_person")


class VisitRulesError(ValueError):
    """``knowledge/visits.yaml`` is not valid."""


@dataclass(frozen=True)
class Kind:
    id: str
    name: str
    every_days: int
    sensitive: bool = False
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rules:
    kinds: dict[str, Kind]
    towns: dict[str, dict[str, int]] = field(default_factory=dict)

    def interval(self, kind: str, town: str | None = None) -> int:
        """Days between visits for a kind of household, in a town."""
        return (self.towns.get(town or "") or {}).get(kind) or self.kinds[kind].every_days

    def kind_of(self, text: str) -> Kind | None:
        """The kind a spreadsheet cell names: its id, its name or an alias."""
        text = (text or "").strip().replace("(", "（").replace(")", "）")
        for kind in self.kinds.values():
            if text in (kind.id, kind.name, *kind.aliases):
                return kind
        return None

    def is_sensitive(self, kind: str) -> bool:
        """特殊家庭 and 重点人员: seen only by the patch's grid worker and the village's cadres."""
        return kind in self.kinds and self.kinds[kind].sensitive


def _days(raw, where: str) -> int:
    if isinstance(raw, bool) or not isinstance(raw, int) or raw <= 0:
        raise VisitRulesError(f"{RULES_FILE.name}: {where}: {raw!r} is not a positive whole number of days")
    return raw


def parse(data) -> Rules:
    """Validate the file's content; raise ``VisitRulesError`` naming the first problem."""
    name = RULES_FILE.name
    if not isinstance(data, dict) or not isinstance(data.get("kinds"), list):
        raise VisitRulesError(f"{name}: kinds: expected a list of the four kinds")
    kinds: dict[str, Kind] = {}
    for i, raw in enumerate(data["kinds"], start=1):
        where = f"kinds[{i}]"
        if not isinstance(raw, dict):
            raise VisitRulesError(f"{name}: {where}: expected a mapping")
        unknown = set(raw) - {"id", "name", "every_days", "sensitive", "aliases"}
        if unknown:
            raise VisitRulesError(f"{name}: {where}: unknown key {min(unknown)!r}")
        kind_id = raw.get("id")
        if kind_id not in KIND_IDS:
            raise VisitRulesError(f"{name}: {where}.id: {kind_id!r} is not one of {', '.join(KIND_IDS)}")
        where = f"kinds.{kind_id}"
        if kind_id in kinds:
            raise VisitRulesError(f"{name}: {where}: listed twice")
        if not isinstance(raw.get("name"), str) or not raw["name"].strip():
            raise VisitRulesError(f"{name}: {where}.name is missing")
        aliases = raw.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) and a.strip() for a in aliases):
            raise VisitRulesError(f"{name}: {where}.aliases: expected a list of names")
        if not isinstance(raw.get("sensitive", False), bool):
            raise VisitRulesError(f"{name}: {where}.sensitive: expected true or false")
        kinds[kind_id] = Kind(kind_id, raw["name"].strip(), _days(raw.get("every_days"), f"{where}.every_days"),
                              raw.get("sensitive", False), tuple(a.strip() for a in aliases))
    missing = [k for k in KIND_IDS if k not in kinds]
    if missing:
        raise VisitRulesError(f"{name}: kinds: {', '.join(missing)} missing (四必访 has four kinds)")
    towns: dict[str, dict[str, int]] = {}
    raw_towns = data.get("towns") or {}
    if not isinstance(raw_towns, dict):
        raise VisitRulesError(f"{name}: towns: expected town: {{kind: days}}")
    for town, overrides in raw_towns.items():
        if not isinstance(overrides, dict):
            raise VisitRulesError(f"{name}: towns.{town}: expected {{kind: days}}")
        for kind_id, days in overrides.items():
            if kind_id not in kinds:
                raise VisitRulesError(f"{name}: towns.{town}.{kind_id}: not a kind ({', '.join(KIND_IDS)})")
            towns.setdefault(str(town), {})[kind_id] = _days(days, f"towns.{town}.{kind_id}")
    return Rules(kinds, towns)


@functools.lru_cache(maxsize=1)
def load() -> Rules:
    """The rules in use (read once; ``reload`` after an edit)."""
    try:
        data = yamlio.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise VisitRulesError(f"{RULES_FILE.name}: not valid YAML ({exc})") from None
    return parse(data)


def reload() -> None:
    """Forget the cached file."""
    load.cache_clear()
