"""Recognition words for the ticket conversation, read from ``knowledge/ticket_words.yaml``.

Input and word lists are folded the same way (NFKC, Traditional → Simplified, lower case, no
spaces or punctuation) so 路燈壞咗, 路灯坏咗 and "路灯 坏咗！" compare equal.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from knowledge import yamlio

WORDS_FILE = Path(__file__).resolve().parents[2] / "knowledge" / "ticket_words.yaml"
LIST_KEYS = ("triggers", "cues", "skip", "confirm", "here", "questions", "meta_grid", "meta_deadline",
             "meta_deadline_about", "ask_person", "danger", "danger_hedges", "danger_past", "danger_things", "danger_harm", "danger_now")
COMMANDS = ("acknowledge", "resolve", "return", "mine", "query")
_DROP = re.compile(r"[\s\u3000,.!?;:'\"()\[\]{}<>~，。！？；：、“”‘’（）【】《》…—·-]+")


@functools.lru_cache(maxsize=1)
def _t2s():
    from opencc import OpenCC

    return OpenCC("t2s")


def fold(text: str) -> str:
    """Width, script and case folding, keeping punctuation (for commands with #numbers)."""
    return _t2s().convert(unicodedata.normalize("NFKC", text or "")).lower().strip()


def plain(text: str) -> str:
    """``fold`` without spaces or punctuation: the form keywords are compared in."""
    return _DROP.sub("", fold(text))


@dataclass(frozen=True)
class Words:
    triggers: tuple[str, ...]
    cues: tuple[str, ...]
    skip: frozenset[str]
    yes: frozenset[str]
    here: tuple[str, ...]
    questions: tuple[str, ...]
    ratings: dict[str, int]
    commands: dict[str, tuple[str, ...]]
    shapes: dict[str, tuple[str, ...]]
    meta_grid: tuple[str, ...]
    meta_deadline: tuple[str, ...]
    meta_deadline_about: tuple[str, ...]
    ask_person: tuple[str, ...]
    danger: tuple[str, ...]
    danger_hedges: tuple[str, ...]
    danger_past: tuple[str, ...]
    danger_things: tuple[str, ...]
    danger_harm: tuple[str, ...]
    danger_now: tuple[str, ...]


@functools.lru_cache(maxsize=1)
def words() -> Words:
    """The validated word lists (cached)."""
    data = yamlio.safe_load(WORDS_FILE.read_text(encoding="utf-8")) or {}
    for key in LIST_KEYS:
        if not isinstance(data.get(key), list) or not all(isinstance(w, (str, int)) for w in data[key]):
            raise ValueError(f"{WORDS_FILE.name}: {key} must be a list of words")
    ratings = data.get("ratings")
    if not isinstance(ratings, dict) or not all(isinstance(v, int) and 1 <= v <= 5 for v in ratings.values()):
        raise ValueError(f"{WORDS_FILE.name}: ratings must map words to 1-5")
    commands = data.get("commands")
    if not isinstance(commands, dict) or set(commands) != set(COMMANDS):
        raise ValueError(f"{WORDS_FILE.name}: commands must list exactly {', '.join(COMMANDS)}")

    def folded(key, values=None):
        values = data[key] if values is None else values
        return tuple(sorted({plain(str(w)) for w in values if plain(str(w))}, key=lambda w: (-len(w), w)))

    shapes = data.get("shapes")
    if not isinstance(shapes, dict) or not all(isinstance(v, list) for v in shapes.values()):
        raise ValueError(f"{WORDS_FILE.name}: shapes must map each kind of report to a list of words")

    return Words(
        triggers=folded("triggers"), cues=folded("cues"), skip=frozenset(folded("skip")),
        yes=frozenset(folded("confirm")), here=folded("here"), questions=folded("questions"),
        ratings={plain(k): v for k, v in ratings.items()},
        commands={k: tuple(sorted({plain(w) for w in v}, key=lambda w: (-len(w), w))) for k, v in commands.items()},
        shapes={k: folded(k, v) for k, v in shapes.items()}, meta_grid=folded("meta_grid"),
        meta_deadline=folded("meta_deadline"), meta_deadline_about=folded("meta_deadline_about"),
        ask_person=folded("ask_person"),
        danger=folded("danger"), danger_hedges=folded("danger_hedges"), danger_past=folded("danger_past"),
        danger_things=folded("danger_things"),
        danger_harm=folded("danger_harm"), danger_now=tuple(str(w) for w in data["danger_now"]),
    )


def has_any(text_plain: str, options) -> bool:
    """Whether any of ``options`` occurs in the already-``plain`` text."""
    return any(w and w in text_plain for w in options)


def strip_triggers(text: str) -> str:
    """The message without its leading trigger words ("投诉：楼下好吵" → "楼下好吵")."""
    out = fold(text)
    for w in words().triggers:
        out = out.replace(w, " ")
    out = re.sub(r"^[\s,，:：。!！我要想一下个]+", "", out).strip(" ,，:：。")
    return out


def is_skip(text: str) -> bool:
    """No photo."""
    return plain(text) in words().skip


def is_yes(text: str) -> bool:
    """Yes, file it."""
    return plain(text) in words().yes


def is_here(text: str) -> bool:
    """"At my registered place": 1, 就在附近, 楼下 …"""
    p = plain(text)
    longer = [w for w in words().here if len(w) > 1]  # one-character words only count alone
    return p in words().here or (len(p) <= 6 and has_any(p, longer))


_REF = re.compile(r"#?\s*(\d{1,9})")


@dataclass
class Command:
    action: str
    number: int | None
    note: str


def parse_command(text: str) -> Command | None:
    """``接单 #12``, ``办结 #12 已修好``, ``办结 已修好``, ``退单 #3 不归我``, ``我的工单``, ``查询 #5``."""
    folded = fold(text)
    squeezed = re.sub(r"\s+", "", folded)
    if plain(folded) in words().commands["mine"]:
        return Command("mine", None, "")
    for action in ("acknowledge", "resolve", "return", "query"):
        for w in words().commands[action]:
            if not squeezed.startswith(w):
                continue
            rest = after_word(folded, w)
            m = re.match(r"^[\s:：,，]*#\s*(\d{1,9})|^[\s:：,，]*(\d{1,9})(?=\s|$|[^\d])", rest)
            number = None
            if m:
                number = int(m.group(1) or m.group(2))
                rest = rest[m.end():]
            note = rest.strip(" \t:：,，。")
            if action == "query" and number is None:
                return None  # 查 alone is a question, not a command
            return Command(action, number, note)
    return None


def after_word(folded: str, word: str) -> str:
    """The text after ``word`` at the start of ``folded`` (spaces inside the word allowed)."""
    i = 0
    for ch in word:
        while i < len(folded) and folded[i].isspace():
            i += 1
        if i >= len(folded) or folded[i] != ch:
            return ""
        i += 1
    return folded[i:]


def parse_rating(text: str) -> tuple[int, int | None] | None:
    """(score 1-5, ticket number or None) for "5", "满意", "不满意 #3", "評分 4"; else None."""
    folded = fold(text)
    number = None
    m = re.search(r"#\s*(\d{1,9})", folded)
    if m:
        number = int(m.group(1))
        folded = folded[:m.start()] + folded[m.end():]
    p = plain(folded)
    p = re.sub(r"^(评分|打分|评价|给)", "", p)
    p = re.sub(r"分$", "", p)
    if p in {"1", "2", "3", "4", "5"}:
        return int(p), number
    for word in sorted(words().ratings, key=len, reverse=True):
        if p.startswith(word):  # "唔满意，仲系黑" → 唔满意; "满意度调查是什么" is a question
            rest = p[len(word):]
            if rest and (rest[0] == "度" or has_any(rest, words().questions)):
                return None
            return words().ratings[word], number
    return None


def report_shapes(text: str) -> list[str]:
    """The kinds of report ``text`` has the shape of (broken, blocked, danger, dirty, noisy, owed,
    unfair, harms, redress, asks_action, nobody_acts): a report is recognised by its shape before it is classified."""
    p = plain(text)
    return [kind for kind, options in words().shapes.items() if has_any(p, options)]


def is_dangerous(text: str) -> bool:
    """Immediate danger to life or property, whatever the category. The learned reading (a linear model
    over the example reports of danger against everything else) decides; a word of danger counts when
    that reading at least allows it — not when hedged ("好怕起火" is a worry, not a fire), nor when the
    report reads clearly like the examples that sound alarming but are not an emergency now (an old
    crack, a past fire, a hole already fenced off)."""
    reading = danger_scorer().guess(text)
    if reading.prob("not_danger") >= CALM_P and reading.prob("not_danger") > reading.prob("danger"):
        return False
    p, known = danger_model().reading(text)
    if known < KNOWN_MIN:   # "救命", "着火了": too short for the model; the words decide
        return _danger_words(text)
    said = _danger_words(text)
    if not said and has_any(plain(text), (*words().danger_hedges, *words().danger_past)):
        # "好怕起火", "裂缝有好多年": a worry or an old trouble, with no word of danger now
        return p >= HEDGED_P
    # A short message's reading on its own must also lean towards danger: above what a message of words
    # the model weighs as nothing would read (its intercept). A short everyday report ("楼上装修好嘈",
    # "楼下好臭") has few and mostly neutral features, so it reads near that floor, which is above DANGER_P.
    floor = danger_model().floor if known < SHORT_KNOWN else 0.0
    return (p >= DANGER_P and p > floor) or (p >= WORDS_P and said)


def has_danger_words(text: str) -> bool:
    """A word of immediate danger, not hedged (for a short answer such as the place, asked for)."""
    return _danger_words(text)


def _danger_words(text: str) -> bool:
    from bot.tickets import categories

    p = plain(text)
    w = words()
    emergency_words = [k for e in categories.emergencies() for k in e.keywords]
    for word in _with_aspect((*w.danger, *emergency_words)):
        start = p.find(word)
        while start >= 0:
            # the hedge before the word, or around it ("一着火就大镬" is a worry, not a fire)
            window = p[max(0, start - 4):start + len(word)]
            if not any(h in window for h in w.danger_hedges):
                return True
            start = p.find(word, start + 1)
    # no ready phrase: a dangerous thing, harm to someone or something, and now — all three
    folded = fold(text)
    return bool(has_any(p, w.danger_things) and has_any(p, w.danger_harm)
                and any(now in (folded if now.strip("!！") == "" else p) for now in w.danger_now)
                and not has_any(p, w.danger_hedges))


# Chosen by leave-one-example-file-out over knowledge/examples/complaints*.yaml: train without one file,
# read its lines. With the seventh and eighth batches (more everyday reports, so every reading is lower)
# 0.2 / 0.08 caught 91.0% of the files' dangers at 5.0% false alarms, these 92.9% at 6.8%.
DANGER_P = 0.15  # the learned reading of danger needed on its own (most reports are not danger: it reads low)
WORDS_P = 0.05   # ... and with a word of danger in the report
HEDGED_P = 0.7   # ... when the report only worries (怕, 万一) or tells of an old trouble (好多年), without one
KNOWN_MIN = 6    # features the model has seen, at least, for its reading to count
# Leave-one-example-file-out, floor for every message: 88.3% of the files' dangers at 4.4% false alarms;
# for none: 91.7% at 7.5%; under 30 known features: 91.2% at 6.2% (and 3 of 40 short everyday reports
# raised, against 16 with no floor: tests/test_tickets_units.py).
SHORT_KNOWN = 30  # features known to the model: below this a message is short, and its reading is mostly the intercept
CALM_P = 0.7     # the learned reading of "alarming words, no emergency now" that outweighs the words
ASPECT = ("紧", "咗", "住", "着", "了")   # Cantonese and Mandarin aspect markers: 抽紧筋 is 抽筋 going on now


@functools.lru_cache(maxsize=4)
def _with_aspect(danger_words: tuple[str, ...]) -> tuple[str, ...]:
    """Each word of danger, and the same with an aspect marker after its first character (抽筋 → 抽紧筋,
    溜落去 → 溜紧落去), so that the list need not spell out every tense."""
    out = list(danger_words)
    for word in danger_words:
        if len(word) >= 2 and word[1] not in ASPECT:
            out.extend(word[0] + a + word[1:] for a in ASPECT)
    return tuple(dict.fromkeys(out))


def _danger_examples() -> tuple[list[str], dict[str, list[str]]]:
    """The example dangers, and every other key's example reports without them: a danger listed under its
    category as well (so that the category of an emergency is learned) is danger, not an everyday report."""
    from knowledge import examples

    found = examples.packaged_complaint_examples()
    danger = found.get("danger", [])
    seen = set(danger)
    return danger, {key: [t for t in texts if t not in seen] for key, texts in found.items() if key != "danger"}


@functools.lru_cache(maxsize=1)
def danger_model():
    """Danger now, against everything else: not-danger reports, everyday reports of every kind, and
    residents' questions (a question about a death certificate is not an emergency)."""
    from knowledge import examples, learned, modelcache

    danger, others = _danger_examples()
    negative = [t for texts in others.values() for t in texts]
    questions = examples.packaged_question_examples()
    negative += [t for texts in questions.values() for t in texts]
    return modelcache.trained(learned.Logistic, danger, negative)


@functools.lru_cache(maxsize=1)
def danger_scorer():
    from knowledge import learned, modelcache

    danger, others = _danger_examples()
    training = {"danger": danger, "not_danger": others.get("not_danger", [])}
    for key, texts in others.items():
        if key not in ("not_danger", "consultation"):
            training[f"ordinary:{key}"] = texts   # everyday reports, by kind (each about as many as danger)
    return modelcache.trained(learned.NaiveBayes, {k: v for k, v in training.items() if v})
