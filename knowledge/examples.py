"""Example phrasings (``knowledge/examples/``): what residents write, by what they mean.

``questions_*.yaml`` map a catalogue id (or ``OOS``, ``META_GRID``, ``META_DEADLINE``) to example
questions; ``complaints*.yaml`` map a category id (or ``danger``, ``not_danger``) to example reports.
They train the learned scorers (``knowledge/learned.py``). A cadre adds lines; ``qingche knowledge
check`` validates every file and names the file, key and line of a mistake.

These are written by the project's maintainers and cadres. Phrasings from an evaluation set never go
here: the set would then measure nothing.
"""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

from knowledge import yamlio

EXAMPLES_DIR = Path(__file__).resolve().parent / "examples"
QUESTION_META = ("OOS", "META_GRID", "META_DEADLINE")
COMPLAINT_META = ("danger", "not_danger")
MAX_LEN = 300


class ExampleError(ValueError):
    """An example file is not valid; the message names file, key and line."""


def _parse(path: Path, allowed: set[str]) -> dict[str, list[str]]:
    try:
        data = yamlio.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise ExampleError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ExampleError(f"{path.name}: expected a mapping of id: [examples]")
    out: dict[str, list[str]] = {}
    for key, texts in data.items():
        key = str(key)
        if key not in allowed:
            raise ExampleError(f"{path.name}: {key}: no such entry or category")
        if not isinstance(texts, list) or not texts:
            raise ExampleError(f"{path.name}: {key}: expected a list of examples")
        for j, text in enumerate(texts, start=1):
            if not isinstance(text, (str, int)) or not str(text).strip():
                raise ExampleError(f"{path.name}: {key}[{j}]: expected a non-empty phrase")
            if len(str(text)) > MAX_LEN:
                raise ExampleError(f"{path.name}: {key}[{j}]: longer than {MAX_LEN} characters")
        out.setdefault(key, []).extend(str(t).strip() for t in texts)
    return out


def _merge(files: list[Path], allowed: set[str]) -> dict[str, list[str]]:
    merged: dict[str, list[str]] = {}
    for path in files:
        for key, texts in _parse(path, allowed).items():
            merged.setdefault(key, []).extend(texts)
    return merged


def question_examples(entry_ids: set[str], directory: Path | None = None) -> dict[str, list[str]]:
    """Example questions by catalogue id (and the meta labels), validated against ``entry_ids``."""
    d = directory or EXAMPLES_DIR
    return _merge(sorted(d.glob("questions_*.yaml")), set(entry_ids) | set(QUESTION_META))


def complaint_examples(category_ids: set[str], directory: Path | None = None) -> dict[str, list[str]]:
    """Example reports by category id (and ``danger`` / ``not_danger``), validated against ``category_ids``."""
    d = directory or EXAMPLES_DIR
    return _merge(sorted(d.glob("complaints*.yaml")), set(category_ids) | set(COMPLAINT_META))


@functools.lru_cache(maxsize=1)
def packaged_question_examples() -> dict[str, list[str]]:
    from knowledge.catalogue import load_catalogue

    return question_examples(set(load_catalogue().items))


@functools.lru_cache(maxsize=1)
def packaged_complaint_examples() -> dict[str, list[str]]:
    """Every example report by key (the categories of ``categories.yaml``, ``danger``, ``not_danger``),
    read once: the matcher, the category scorer and the two danger scorers all learn from them."""
    data = yamlio.safe_load((EXAMPLES_DIR.parent / "categories.yaml").read_text(encoding="utf-8")) or {}
    ids = {str(c.get("id")) for c in data.get("categories", []) if isinstance(c, dict)}
    return complaint_examples(ids)


@functools.lru_cache(maxsize=1)
def packaged_report_examples() -> dict[str, list[str]]:
    """The example reports by category (danger or not included): what a question is not."""
    return {key: texts for key, texts in packaged_complaint_examples().items() if key != "consultation"}
