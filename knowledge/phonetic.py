"""Homophones: text compared by how it sounds, for typos made with a pinyin keyboard.

Each Chinese character becomes its toneless pinyin (``pypinyin``), folded over the confusions that
Cantonese speakers make typing Mandarin: zh/z, ch/c, sh/s and n/l at the start of a syllable, -ng/-n
at its end. 居注证明 and 居住证明 then read alike, as do 权属来元 and 权属来源, 政甚 and 政审,
without a table of typos written by hand. Other characters stand for themselves.
"""
from __future__ import annotations

import functools

from pypinyin import Style, lazy_pinyin

INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"), ("ong", "on"))


@functools.lru_cache(maxsize=20_000)
def syllable(ch: str) -> str:
    """The folded sound of one character (the character itself when it is not Chinese)."""
    if not ("\u3400" <= ch <= "\u9fff"):
        return ch
    sound = lazy_pinyin(ch, style=Style.NORMAL, errors="default")[0]
    for long, short in INITIALS:
        if sound.startswith(long):
            sound = short + sound[len(long):]
            break
    for long, short in FINALS:
        if sound.endswith(long):
            sound = sound[: -len(long)] + short
            break
    return sound


def sounds(text: str) -> tuple[str, ...]:
    """One folded syllable per character of ``text``."""
    return tuple(syllable(ch) for ch in text)
