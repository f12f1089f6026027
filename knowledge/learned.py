"""A learned scorer: which entry a message means, judged from example phrasings rather than keywords.

The keyword scorer (``knowledge/matcher.py``) is precise when a resident names the thing; residents
more often describe the need (学校要证明我哋租屋住喺度). This scorer is a multinomial naive Bayes over the
character bigrams and trigrams of the normalised message and over its syllable bigrams (the sounds of
``knowledge/phonetic.py``, so a homophone typo still shares most features), trained on the example
phrasings in ``knowledge/examples/`` plus each entry's name, aliases, keywords, purposes and askers.
Features are weighted by their rarity across entries, so 证明 or 开 (in every entry) count for little.

Naive Bayes trains by counting, in a fraction of a second from the data files when the matcher is built
(a feature's per-label gains are worked out when a message first shows it), so a cadre who adds an example
sees it used at the next start; nothing is downloaded (``knowledge/modelcache.py`` may keep the trained
models between starts). Besides catalogue ids it knows ``OOS`` (nothing the committee certifies or
handles), ``META_GRID`` and ``META_DEADLINE``.
"""
from __future__ import annotations

import functools
import heapq
import math
import random
import re
from collections import Counter
from dataclasses import dataclass
from operator import itemgetter

from knowledge import concepts, phonetic
from knowledge.normalize import normalize

ALPHA = 0.1          # additive smoothing of feature counts
TEMPERATURE = 2.0    # posteriors: softmax(log-likelihood / (TEMPERATURE * sqrt(the message's feature weight)))
MAX_TEXT = 200
COMMON = 0.25       # a feature seen under more than this share of the labels is dropped (证明, 开, 要 …)
CUTOFF = 30.0        # labels this far below the best (in scaled log-likelihood) count as nothing


@functools.lru_cache(maxsize=32768)
def features(text: str, normalised: bool = False) -> tuple[str, ...]:
    """The distinct features of a message: character 2- and 3-grams, syllable 2-grams, and whole Latin
    words (English as overseas families write it; letters on their own are no evidence). Cached: the
    same examples train several scorers at start, and a message is read by more than one."""
    q = text if normalised else normalize(text)[:MAX_TEXT]
    q = concepts.augment(q)
    out: set[str] = set()
    for chunk in q.split(concepts.SEPARATOR):
        for word in _LATIN.findall(chunk):
            out.add("w:" + word)
        han = _LATIN.sub(_BREAK, chunk)
        n = len(han)
        for piece in han.split(_BREAK):   # the n-grams that span no Latin word
            m = len(piece)
            out.update([piece[i:i + 2] for i in range(m - 1)])
            out.update([piece[i:i + 3] for i in range(m - 2)])
        syl = [x for x in phonetic.sounds_of(chunk) if len(x) > 1 or "\u3400" <= x <= "\u9fff"]
        for i in range(len(syl) - 1):
            out.add("~" + syl[i] + " " + syl[i + 1])
        if n == 1 and han != _BREAK:
            out.add(han)
    return tuple(sorted(out))


_LATIN = re.compile(r"[a-z]{2,}")
_BREAK = "\x01"   # stands for a Latin word inside the Chinese text: no n-gram spans it


@dataclass(frozen=True)
class Guess:
    """The scorer's view of one message: labels best first, with posterior probabilities."""

    labels: tuple[str, ...]
    probs: tuple[float, ...]
    known: int   # how many of the message's features the scorer has seen at all
    coverage: float = 0.0   # the share of the message (by feature weight) the best label has seen

    @property
    def top(self) -> str | None:
        return self.labels[0] if self.labels else None

    @property
    def p(self) -> float:
        return self.probs[0] if self.probs else 0.0

    def prob(self, label: str) -> float:
        for lab, p in zip(self.labels, self.probs, strict=True):
            if lab == label:
                return p
        return 0.0


class NaiveBayes:
    """Multinomial naive Bayes over distinct features, uniform priors, features weighted by rarity."""

    @staticmethod
    def training_settings() -> tuple:
        """The module's constants that training reads (``knowledge/modelcache.py`` keys a model by them)."""
        return (COMMON,)

    def __init__(self, examples: dict[str, list[str]]):
        # per label: in how many of its examples each feature occurs (features are distinct per example)
        docs: dict[str, Counter] = {}
        df: Counter = Counter()
        for label, texts in examples.items():
            c = docs.setdefault(label, Counter())
            seen: set[str] = set()
            for text in texts:
                feats = features(text)
                c.update(feats)
                seen.update(feats)
            df.update(seen)
        self.labels = sorted(docs)
        self._index = {label: i for i, label in enumerate(self.labels)}
        n_labels = len(self.labels)
        # rarity: a feature found under every label tells nothing; one found under one label, most
        common = max(1.0, COMMON * n_labels)
        self.weight = {f: math.log((n_labels + 1) / (d + 0.5)) for f, d in df.items() if d <= common}
        # A label's gain from a feature is its log-probability over the label's floor, times the feature's
        # weight; a message's score only visits the labels that have seen each of its features. The gains
        # are worked out the first time a feature is read (``_gain``), not for every feature at training:
        # most features of the examples are never in a message, and a start-up spent on them is wasted.
        self._docs = [docs[label] for label in self.labels]
        self._totals = [sum(c.values()) + ALPHA * len(df) for c in self._docs]
        self._floors = [math.log(ALPHA / total) for total in self._totals]
        self._gains: dict[str, tuple[tuple[int, ...], tuple[float, ...]]] = {}

    def _gain(self, f: str) -> tuple[tuple[int, ...], tuple[float, ...]]:
        """The labels (by index) that have seen feature ``f``, and each one's weighted gain. Kept once
        worked out; two threads working out the same feature store the same value."""
        pair = self._gains.get(f)
        if pair is None:
            wf = self.weight[f]
            ix: list[int] = []
            gs: list[float] = []
            log = math.log
            for i, c in enumerate(self._docs):
                k = c.get(f)
                if k:
                    ix.append(i)
                    gs.append(wf * (log((k + ALPHA) / self._totals[i]) - self._floors[i]))
            pair = self._gains[f] = (tuple(ix), tuple(gs))
        return pair

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_gains"] = {}   # worked out again as messages are read
        return state

    def guess(self, text: str, normalised: bool = False, limit: int = 5) -> Guess:
        weight = self.weight
        feats = [f for f in features(text, normalised) if f in weight]
        if not feats:
            return Guess((), (), 0)
        weight_sum = sum(weight[f] for f in feats)
        scores = [weight_sum * floor for floor in self._floors]
        gain = self._gain
        for f in feats:
            for i, g in zip(*gain(f), strict=True):
                scores[i] += g
        scale = 1.0 / (TEMPERATURE * math.sqrt(max(weight_sum, 1e-9)))
        top = max(scores)
        labels = self.labels
        exp = [(labels[i], math.exp(d)) for i, sc in enumerate(scores) if (d := (sc - top) * scale) > -CUTOFF]
        z = sum(e for _, e in exp)
        ranked = heapq.nlargest(limit, exp, key=itemgetter(1))   # as a stable sort, best first
        best = self._index[ranked[0][0]]
        seen = sum(weight[f] for f in feats if best in gain(f)[0])
        return Guess(tuple(lab for lab, _ in ranked), tuple(e / z for _, e in ranked), len(feats),
                     seen / weight_sum if weight_sum else 0.0)


class Logistic:
    """Binary logistic regression over the same features: is a message of one kind (a report of danger
    now) or not. Naive Bayes ranks many labels well but is timid on a yes/no question whose evidence is
    spread over many small features (冒烟, 唔郁, 浸到); a linear model weighs them together.

    Trained by AdaGrad in a fixed order (the same examples give the same model), with a little L2
    shrinkage so one rare feature cannot decide. The classes keep their sizes: the intercept learns
    that most messages are not of the kind, so a message with nothing to say ("楼冈市场门口", a place
    given when asked) reads low rather than even.
    """

    EPOCHS = 4
    RATE = 0.1
    L2 = 0.01

    @classmethod
    def training_settings(cls) -> tuple:
        return (cls.EPOCHS, cls.RATE, cls.L2)

    def __init__(self, positive: list[str], negative: list[str]):
        data = [(features(t), 1.0) for t in positive] + [(features(t), 0.0) for t in negative]
        # features by number, weights in lists: the same arithmetic in the same order as on dicts, quicker
        index: dict[str, int] = {}
        rows = [([index.setdefault(f, len(index)) for f in feats], y) for feats, y in data]
        w = [0.0] * len(index)
        g2 = [1e-8] * len(index)
        b, gb = 0.0, 1e-8
        order = list(range(len(rows)))
        random.Random(0).shuffle(order)
        rate, l2, sqrt = self.RATE, self.L2, math.sqrt
        for _ in range(self.EPOCHS):
            for i in order:
                idx, y = rows[i]
                g = _sigmoid(b + sum(map(w.__getitem__, idx))) - y
                gb += g * g
                b -= rate * g / sqrt(gb)
                for j in idx:
                    wf = w[j]
                    gf = g + l2 * wf
                    acc = g2[j] + gf * gf
                    g2[j] = acc
                    w[j] = wf - rate * gf / sqrt(acc)
        self.w, self.b = {f: w[j] for f, j in index.items()}, b

    @property
    def floor(self) -> float:
        """The reading of a message none of whose features the model weighs: the intercept alone."""
        return _sigmoid(self.b)

    def reading(self, text: str, normalised: bool = False) -> tuple[float, int]:
        """The probability that ``text`` is of the positive kind, and how many of its features the model
        has seen (a message of two or three known features is too short to judge: "你好" has none)."""
        w = self.w
        known = [w[f] for f in features(text, normalised) if f in w]
        return _sigmoid(self.b + sum(known)), len(known)


def _sigmoid(z: float) -> float:
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))
