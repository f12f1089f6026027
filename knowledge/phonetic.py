"""Homophones: text compared by how it sounds, for typos made with a pinyin keyboard.

Each Chinese character becomes its toneless pinyin (``pypinyin``), folded over the confusions that
Cantonese speakers make typing Mandarin: zh/z, ch/c, sh/s and n/l at the start of a syllable, -ng/-n
at its end. 居注证明 and 居住证明 then read alike, as do 权属来元 and 权属来源, 政甚 and 政审,
without a table of typos written by hand. Other characters stand for themselves, except pinyin typed in
Latin letters (居住zhengming, juzhuzheng), which is read as the syllables it spells.
"""
from __future__ import annotations

import functools
import os

# Only single characters are ever read (``syllable``), and pypinyin reads a character from its
# character table alone; its phrase table (tens of MB in every process, a sixth of a second to load)
# is for segmenting phrases, which nothing here asks for. Set before pypinyin is first imported.
os.environ.setdefault("PYPINYIN_NO_PHRASES", "true")

from pypinyin import Style, lazy_pinyin  # noqa: E402  (after the setting it reads at import)

INITIALS = (("zh", "z"), ("ch", "c"), ("sh", "s"), ("n", "l"))
FINALS = (("ing", "in"), ("eng", "en"), ("ang", "an"), ("ong", "on"))


@functools.lru_cache(maxsize=20_000)
def syllable(ch: str) -> str:
    """The folded sound of one character (the character itself when it is not Chinese)."""
    if not ("\u3400" <= ch <= "\u9fff"):
        return ch
    return syllable_of_pinyin(lazy_pinyin(ch, style=Style.NORMAL, errors="default")[0])


def sounds(text: str) -> tuple[str, ...]:
    """One folded syllable per character of ``text``."""
    return tuple(syllable(ch) for ch in text)


@functools.lru_cache(maxsize=1)
def _syllables() -> frozenset[str]:
    """Every toneless pinyin syllable pypinyin knows (for reading pinyin typed in Latin letters)."""
    import unicodedata

    from pypinyin.constants import PINYIN_DICT

    out: set[str] = set()
    for readings in PINYIN_DICT.values():
        for reading in readings.split(","):
            plain = "".join(c for c in unicodedata.normalize("NFD", reading) if not unicodedata.combining(c))
            out.add(plain.replace("ü", "v"))
    return frozenset(s for s in out if s.isascii() and s.isalpha())


def _latin_cuts(run: str) -> list[tuple[int, int]] | None:
    """Where the syllables of ``run`` begin and end, the longest syllable first; None when not all pinyin."""
    known = _syllables()
    out: list[tuple[int, int]] = []
    i = 0
    while i < len(run):
        for j in range(min(len(run), i + 6), i, -1):
            if run[i:j] in known:
                out.append((i, j))
                i = j
                break
        else:
            return None
    return out


def syllable_of_pinyin(sound: str) -> str:
    """A toneless pinyin syllable, folded as ``syllable`` folds a character's."""
    for long, short in INITIALS:
        if sound.startswith(long):
            sound = short + sound[len(long):]
            break
    for long, short in FINALS:
        if sound.endswith(long):
            sound = sound[: -len(long)] + short
            break
    return sound


def spans_of(text: str) -> tuple[tuple[str, int, int], ...]:
    """The folded syllables of ``text`` with where each stands: (syllable, start, end). A character is
    one syllable; a run of Latin letters that is all pinyin is the syllables it spells, each over its
    letters (``wuyezhengming`` is four); other letters stand for themselves."""
    out: list[tuple[str, int, int]] = []
    i, n = 0, len(text)
    while i < n:
        ch = text[i]
        if "a" <= ch <= "z":
            j = i
            while j < n and "a" <= text[j] <= "z":
                j += 1
            cuts = _latin_cuts(text[i:j]) if j - i >= 2 else None
            if cuts:
                out.extend((syllable_of_pinyin(text[i + a:i + b]), i + a, i + b) for a, b in cuts)
            else:
                out.extend((text[k], k, k + 1) for k in range(i, j))
            i = j
        else:
            out.append((syllable(ch), i, i + 1))
            i += 1
    return tuple(out)


def sounds_of(text: str) -> tuple[str, ...]:
    """Like ``sounds``, but a run of Latin letters typed as pinyin (居住zhengming) becomes its syllables."""
    return tuple(sound for sound, _, _ in spans_of(text))
