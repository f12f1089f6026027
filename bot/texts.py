"""Every sentence a user reads lives in ``knowledge/texts/*.yaml``; this module looks them up.

A key is ``<file stem>.<name>``, e.g. ``common.help``. Templates use ``str.format`` fields.
"""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

TEXTS_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "texts"


@functools.lru_cache(maxsize=1)
def _load() -> dict[str, str]:
    texts: dict[str, str] = {}
    for path in sorted(TEXTS_DIR.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(data, dict):
            raise ValueError(f"{path.name}: expected a mapping of key: text")
        for key, value in data.items():
            if not isinstance(value, str):
                raise ValueError(f"{path.name}: {key}: expected text, got {type(value).__name__}")
            texts[f"{path.stem}.{key}"] = value.rstrip("\n")
    return texts


def t(key: str, **fields) -> str:
    """The text for ``key`` with ``fields`` filled in. An unknown key raises KeyError."""
    template = _load()[key]
    return template.format(**fields) if fields else template


def has(key: str) -> bool:
    """Whether a text exists for ``key``."""
    return key in _load()


def reload() -> None:
    """Forget cached texts (after a cadre edits a file)."""
    _load.cache_clear()
