"""Command words for cadres, grid workers and department liaisons, from ``knowledge/cadre_words.yaml``."""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path

from bot.tickets.words import after_word, fold, plain
from knowledge import yamlio

WORDS_FILE = Path(__file__).resolve().parent.parent / "knowledge" / "cadre_words.yaml"
NUMBERED = ("whistle", "report", "wait", "dispatch", "nudge", "query")
BARE = ("stats", "overdue")


@dataclass
class CadreCommand:
    """A parsed command: the action, the ticket number (if any) and the rest of the text."""

    action: str
    number: int | None
    rest: str


@functools.lru_cache(maxsize=1)
def words() -> dict[str, tuple[str, ...]]:
    """Each action's words, folded, longest first."""
    data = yamlio.safe_load(WORDS_FILE.read_text(encoding="utf-8")) or {}
    out = {}
    for action in NUMBERED + BARE:
        raw = data.get(action)
        if not isinstance(raw, list) or not raw:
            raise ValueError(f"{WORDS_FILE.name}: {action} must be a list of words")
        out[action] = tuple(sorted({plain(str(w)) for w in raw}, key=lambda w: (-len(w), w)))
    return out


def parse(text: str) -> CadreCommand | None:
    """``吹哨 #12 城管局 说明``, ``报到 #12``, ``待补充 #12 问题``, ``派单 #12 梁晓敏``, ``催办 #12``,
    ``查询 #12``, ``今日``, ``统计``, ``超时``; None for anything else."""
    folded = fold(text)
    p = plain(folded)
    for action in BARE:
        if p in words()[action]:
            return CadreCommand(action, None, "")
    for action in NUMBERED:
        for w in words()[action]:
            if not p.startswith(w):
                continue
            rest = after_word(folded, w)
            m = re.match(r"^[\s:：,，]*#?\s*(\d{1,9})(?=\s|$|\D)", rest)
            if not m:
                return None  # a command word without a ticket number is not a command
            return CadreCommand(action, int(m.group(1)), rest[m.end():].strip(" \t:：,，。"))
    return None
