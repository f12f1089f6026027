"""The concept lexicon (``knowledge/concepts.yaml``): what residents say → the word the catalogue uses.

两公婆 means 夫妻, 案底 means 犯罪记录, 仲在生 means 健在. A message that says one of the right-hand
words also counts as saying its left-hand word; nothing the resident wrote is replaced. A cadre
extends the file; ``qingche knowledge check`` validates it.
"""
from __future__ import annotations

import functools
from pathlib import Path

from knowledge import yamlio
from knowledge.normalize import normalize_term

CONCEPTS_FILE = Path(__file__).resolve().parent / "concepts.yaml"
SEPARATOR = "|"   # never a character of normalised text: joins the concepts a message names


class ConceptError(ValueError):
    """The concept file is not valid; the message names the entry."""


def parse(data, where: str = "concepts.yaml") -> dict[str, str]:
    """Validate the file's content into {variant (normalised): concept (normalised)}."""
    if not isinstance(data, dict):
        raise ConceptError(f"{where}: expected a mapping of concept: [the words residents use]")
    out: dict[str, str] = {}
    for concept, variants in data.items():
        if not isinstance(concept, str) or not normalize_term(concept):
            raise ConceptError(f"{where}: {concept!r}: a concept must be a word")
        if not isinstance(variants, list) or not variants:
            raise ConceptError(f"{where}: {concept}: expected a list of words")
        for j, variant in enumerate(variants, start=1):
            key = normalize_term(str(variant)) if isinstance(variant, (str, int)) else ""
            if not key:
                raise ConceptError(f"{where}: {concept}[{j}]: expected a non-empty word")
            if key in out and out[key] != normalize_term(concept):
                raise ConceptError(f"{where}: {concept}[{j}]: {variant!r} already means {out[key]}")
            out[key] = normalize_term(concept)
    return out


@functools.lru_cache(maxsize=1)
def lexicon() -> dict[str, str]:
    """The validated lexicon (cached)."""
    return parse(yamlio.safe_load(CONCEPTS_FILE.read_text(encoding="utf-8")) or {})


@functools.lru_cache(maxsize=1)
def _by_first_character() -> dict[str, tuple[tuple[int, str, str], ...]]:
    """The lexicon's words grouped by their first character, each with its place in the lexicon."""
    groups: dict[str, list[tuple[int, str, str]]] = {}
    for order, (variant, concept) in enumerate(lexicon().items()):
        groups.setdefault(variant[0], []).append((order, variant, concept))
    return {c: tuple(g) for c, g in groups.items()}


def concepts_in(normalised: str) -> list[str]:
    """The concepts a normalised message names through residents' words, in the lexicon's order."""
    groups = _by_first_character()
    candidates = [entry for c in set(normalised) for entry in groups.get(c, ())]
    found = [concept for _, variant, concept in sorted(candidates) if variant in normalised]
    return list(dict.fromkeys(c for c in found if c not in normalised))


def augment(normalised: str) -> str:
    """The message with the concepts it names appended (so both readings match)."""
    found = concepts_in(normalised)
    return normalised + SEPARATOR + SEPARATOR.join(found) if found else normalised
