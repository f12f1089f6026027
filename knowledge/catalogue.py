"""Load the catalogue data files and validate them; every error names its file, entry and field."""
from __future__ import annotations

import datetime
import functools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from knowledge import yamlio
from knowledge.normalize import normalize_term

CATALOGUE_DIR = Path(__file__).resolve().parent / "catalogue"

KINDS = ("retained", "cancelled", "service", "duty")
DUTY_LISTS = ("autonomy", "assist", "barred")

COMMON_REQUIRED: dict[str, type | tuple] = {"id": str, "kind": str, "sample": bool, "name": str, "aliases": list, "basis": str,
                   "updated": (str, datetime.date)}
KIND_REQUIRED: dict[str, dict[str, type | tuple]] = {
    "retained": {"proves": str, "applicant": str, "materials": list, "steps": list, "time_limit": str,
                 "wording": str},
    "cancelled": {"instead": str},
    "service": {"answer": str, "where": str},
    "duty": {"list": str, "answer": str},
}
OPTIONAL = {"keywords": list, "see": str, "see_also": list, "source": str, "where": str, "decline": str,
            "purposes": list, "askers": list}
# purposes: what the paper is for (入学, 助学金, 征兵); askers: who asks for it (学校, 武装部, 银行).
# Both are evidence for the entry, scored like keywords (and like "<word>+证明" together with 证明).
OPTIONAL["application"] = dict  # retained entries only: applying in chat (see _check_application)
FIELD_KINDS = ("name", "id_number", "date", "past_date", "address", "text", "choice")


class CatalogueError(ValueError):
    """The catalogue has mistakes; ``errors`` lists them, one line each."""

    def __init__(self, errors: list[str]):
        self.errors = errors
        super().__init__(f"{len(errors)} catalogue error(s):\n" + "\n".join(errors))


@dataclass(frozen=True)
class Item:
    """One catalogue entry: a certificate, a service question or a committee duty."""

    id: str
    kind: str
    name: str
    aliases: tuple[str, ...]
    keywords: tuple[str, ...]
    data: dict[str, Any] = field(compare=False, hash=False)
    file: str = ""

    def get(self, key: str, default: Any = None) -> Any:
        """A field of the entry."""
        return self.data.get(key, default)

    @property
    def duty_list(self) -> str:
        """For duties: autonomy, assist or barred; empty otherwise."""
        return self.data.get("list", "") if self.kind == "duty" else ""


@dataclass(frozen=True)
class Catalogue:
    """All entries by id, in file order."""

    items: dict[str, Item]

    def __getitem__(self, item_id: str) -> Item:
        return self.items[item_id]

    def __iter__(self):
        return iter(self.items.values())

    def __len__(self) -> int:
        return len(self.items)

    def by_kind(self, kind: str) -> list[Item]:
        """Entries of one kind."""
        return [item for item in self.items.values() if item.kind == kind]


def _type_name(t: type | tuple) -> str:
    if isinstance(t, tuple):
        return "text or a date"
    return {str: "text", list: "a list", bool: "true/false"}.get(t, t.__name__)


def _check_entry(fname: str, index: int, entry: Any) -> tuple[list[str], Item | None]:
    if not isinstance(entry, dict):
        return [f"{fname}: entry #{index + 1}: expected a mapping of field: value"], None
    label = f"entry {entry['id']}" if isinstance(entry.get("id"), str) and entry["id"] else f"entry #{index + 1}"
    errors: list[str] = []

    def err(fld: str, msg: str) -> None:
        errors.append(f"{fname}: {label}: {fld}: {msg}")

    kind = entry.get("kind")
    required = dict(COMMON_REQUIRED)
    if kind in KIND_REQUIRED:
        required.update(KIND_REQUIRED[kind])
    elif "kind" in entry:
        err("kind", f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "duty" and entry.get("list") == "barred":
        required["decline"] = str
    for fld, typ in required.items():
        if fld not in entry or entry[fld] is None or entry[fld] == "":
            err(fld, "missing")
        elif not isinstance(entry[fld], typ):
            err(fld, f"expected {_type_name(typ)}, got {type(entry[fld]).__name__}")
    for fld, value in entry.items():
        if fld in required:
            continue
        if fld not in OPTIONAL:
            err(fld, "unknown field")
        elif value is not None and not isinstance(value, OPTIONAL[fld]):
            err(fld, f"expected {_type_name(OPTIONAL[fld])}, got {type(value).__name__}")
    for fld in ("aliases", "keywords", "materials", "steps", "see_also", "purposes", "askers"):
        value = entry.get(fld)
        if isinstance(value, list):
            for j, v in enumerate(value):
                if not isinstance(v, str) or not v.strip():
                    err(f"{fld}[{j + 1}]", "expected non-empty text")
    if isinstance(entry.get("application"), dict):
        _check_application(entry, err)
    if kind == "duty" and "list" in entry and entry["list"] not in DUTY_LISTS:
        err("list", f"unknown list {entry['list']!r}; expected one of {', '.join(DUTY_LISTS)}")
    if errors:
        return errors, None
    item = Item(
        id=entry["id"], kind=kind, name=entry["name"],
        aliases=tuple(entry["aliases"]),
        keywords=tuple(entry.get("keywords") or ()) + tuple(entry.get("purposes") or ()) + tuple(entry.get("askers") or ()),
        data=dict(entry), file=fname,
    )
    return errors, item


def _check_application(entry: dict, err) -> None:
    """The optional ``application`` block: fields, materials, verify_by_grid_worker, days, collect."""
    block = entry["application"]
    if entry.get("kind") != "retained":
        err("application", "only retained certificates can be applied for")
    for key in block:
        if key not in ("fields", "materials", "verify_by_grid_worker", "days", "collect"):
            err(f"application.{key}", "unknown field")
    seen: set[str] = set()
    for part, needed in (("fields", ("key", "label", "kind")), ("materials", ("key", "label"))):
        items = block.get(part)
        if part == "fields" and (not isinstance(items, list) or not items):
            err("application.fields", "expected a non-empty list")
            continue
        for j, one in enumerate(items or []):
            where = f"application.{part}[{j + 1}]"
            if not isinstance(one, dict):
                err(where, "expected a mapping of key, label, ...")
                continue
            for name in needed:
                if not isinstance(one.get(name), str) or not one[name].strip():
                    err(f"{where}.{name}", "missing")
            if isinstance(one.get("key"), str):
                if not one["key"].isidentifier() or one["key"] in ("register_number", "village", "date"):
                    err(f"{where}.key", f"{one['key']!r} cannot be a template placeholder")
                elif one["key"] in seen:
                    err(f"{where}.key", f"duplicate key {one['key']!r}")
                seen.add(one["key"])
            if part == "fields" and one.get("kind") not in FIELD_KINDS:
                err(f"{where}.kind", f"unknown kind {one.get('kind')!r}; expected one of {', '.join(FIELD_KINDS)}")
            if part == "fields" and one.get("kind") == "choice" and not (
                    isinstance(one.get("choices"), list) and one["choices"]
                    and all(isinstance(c, str) and c for c in one["choices"])):
                err(f"{where}.choices", "a choice needs a list of options")
            if not isinstance(one.get("required", True), bool):
                err(f"{where}.required", "expected true/false")
    if not isinstance(block.get("verify_by_grid_worker", False), bool):
        err("application.verify_by_grid_worker", "expected true/false")
    days = block.get("days")
    if not isinstance(days, int) or isinstance(days, bool) or not 0 <= days <= 60:
        err("application.days", "expected a number of working days from 0 to 60")
    if not isinstance(block.get("collect"), str) or not block["collect"].strip():
        err("application.collect", "missing")
    template = Path(__file__).resolve().parent / "templates" / f"{entry.get('id')}.docx"
    if not template.is_file():
        err("application", f"no Word template knowledge/templates/{template.name} (the certificate's format)")


def check(directory: Path | str | None = None) -> tuple[list[str], dict[str, Item]]:
    """Validate every data file; return the error lines and the entries that loaded."""
    directory = Path(directory or CATALOGUE_DIR)
    errors: list[str] = []
    items: dict[str, Item] = {}
    files = sorted(directory.glob("*.yaml"))
    if not files:
        return [f"{directory}: no catalogue files (*.yaml)"], items
    for path in files:
        fname = path.name
        try:
            data = yamlio.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            errors.append(f"{fname}: not valid YAML: {exc}")
            continue
        if data is None:
            continue
        if not isinstance(data, list):
            errors.append(f"{fname}: expected a list of entries")
            continue
        for index, entry in enumerate(data):
            entry_errors, item = _check_entry(fname, index, entry)
            errors += entry_errors
            if item is None:
                continue
            if item.id in items:
                errors.append(f"{fname}: entry {item.id}: id: duplicate id, already used in {items[item.id].file}")
                continue
            items[item.id] = item
    errors += _check_references(items)
    errors += _check_aliases(items)
    return errors, items


def _check_references(items: dict[str, Item]) -> list[str]:
    errors = []
    for item in items.values():
        refs = [("see", item.get("see"))] if item.get("see") else []
        refs += [(f"see_also[{j + 1}]", ref) for j, ref in enumerate(item.get("see_also") or [])]
        for fld, ref in refs:
            if ref not in items:
                errors.append(f"{item.file}: entry {item.id}: {fld}: unknown reference {ref!r}")
            elif ref == item.id:
                errors.append(f"{item.file}: entry {item.id}: {fld}: refers to itself")
    return errors


def _check_aliases(items: dict[str, Item]) -> list[str]:
    """The same name or alias on two entries makes the matcher guess; report it."""
    errors = []
    owner: dict[str, str] = {}
    for item in items.values():
        for j, term in enumerate((item.name, *item.aliases)):
            key = normalize_term(term)
            fld = "name" if j == 0 else f"aliases[{j}]"
            if not key:
                errors.append(f"{item.file}: entry {item.id}: {fld}: empty after normalisation")
            elif owner.setdefault(key, item.id) != item.id:
                errors.append(f"{item.file}: entry {item.id}: {fld}: {term!r} is also a name or alias of "
                              f"{owner[key]}")
    return errors


@functools.lru_cache(maxsize=4)
def load_catalogue(directory: str | None = None) -> Catalogue:
    """The validated catalogue (cached); raise ``CatalogueError`` listing every mistake."""
    errors, items = check(directory)
    if errors:
        raise CatalogueError(errors)
    return Catalogue(items=items)
