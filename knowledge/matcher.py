"""Match a resident's question to catalogue entries: confident, a close call, or no match.

Names and aliases found in the normalised message are strong evidence; keywords are weaker
(a keyword written ``a+b`` needs every part). A hit inside a longer hit of another entry does not
count, so 居住证 inside 居住证明 and 死亡证明 inside 非医学性死亡证明 are not mistaken. Without a
strong hit, rapidfuzz over names and aliases catches typos, but never gives a confident answer.
"""
from __future__ import annotations

import functools
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from knowledge import concepts, examples, learned, modelcache, phonetic
from knowledge.catalogue import Catalogue, Item, load_catalogue
from knowledge.normalize import normalize, normalize_term

CONFIDENT = 90.0      # the top score must reach this ...
MARGIN = 8.0          # ... and beat the runner-up by this much for a confident answer
CHOICE_MIN = 62.0     # below this an entry is not offered as a choice
CHOICE_SPREAD = 25.0  # choices must be within this of the top score
MAX_CHOICES = 3
LEAD = 15.0           # a close call whose best choice leads the next by this much is answered directly ...
LEAD_MIN = 81.0       # ... when it has more than one keyword (never on a fuzzy likeness alone): precision first
GENERIC = ("S14",)    # the catalogue's own overview: answered when asked for, never offered as a guess
FUZZY_CUTOFF = 75.0
FUZZY_PENALTY = 10.0  # a fuzzy match counts less than a keyword found as written ...
FUZZY_CAP = 80.0      # ... and alone never reaches CONFIDENT
MAX_TEXT = 200        # longer messages are cut (chatty messages keep their gist early)
# The learned scorer (knowledge/learned.py), in posterior probability:
PICK_P = 0.5          # picks the keywords' first choice: answered
NAMED = 100.0         # a keyword score this high is a name or alias found in the message
PICK_ANY_P = 0.75     # picks another entry of the keywords' menu: answered
JOIN_P = 0.5          # reads an entry the keywords did not offer: it joins the menu
OVERRULE_P = 0.8      # reads another entry than a confident keyword answer ...
OVERRULE_KEEP = 0.2   # ... and gives the keywords' entry little: both are offered
OVERRULE_MAX_SCORE = 110.0  # ... unless the keywords found a long name written out in full
OVERRULE_NAME_SHARE = 0.4   # ... or the name is most of the message ("申请居住证明": nothing else to read)
OVERRULE_ANSWER_P = 0.97    # ... and reads it this clearly, giving the keywords' entry almost nothing: answered
OVERRULE_ANSWER_KEEP = 0.01
KW_DOUBT_P = 0.5         # keywords without a name are doubted when the examples read another entry this much ...
KW_DOUBT_KEEP = 0.02     # ... and give theirs almost nothing
ANSWER_P = 0.8        # keywords found nothing: answered on the examples alone
MENU_P = 0.2          # ... or offered as a choice (a weak reading is asked about, with 0 for "none of these",
                      # rather than met with "not understood": a turn, not a dead end)
SINGLE_P = ANSWER_P     # ... or answered, however little of the message they cover, when it is the only entry read
OOS_OVER_MENU_P = 0.9  # the keywords offer a menu but the examples read "not ours" this clearly: not offered
ANSWER_COVERAGE = 0.5  # ... and only when the entry's examples cover half the message (by feature weight)
MENU_COVERAGE = 0.3   # below this the examples know too little of the message to offer anything
KNOWN_MIN = 4         # features the scorer has seen, at least (a message of unknown words is not guessed)
REPORT = "REPORT"     # the learned scorer's label for a report of a problem (knowledge/examples/complaints.yaml)
REPORT_P = 0.6        # reads as a report: left to the complaint intake
REPORT_MENU_P = 0.4   # ... or, when the keywords only offer a menu, left to it if it has a report's shape
TOPIC_P = 0.5         # reads "who is my grid worker" / "how long" / out of scope

STRONG, CONJ, WEAK = 3, 2, 1
SOUND_MIN = 3        # terms this long (characters) are also matched by sound (homophone typos)
SOUND_PENALTY = 6.0  # a name heard, not read, counts a little less than one read as written
_END, _PART = "\0end", "\0part"  # trie markers (never a character of normalised text)

# Words that make a message look like a question about certificates or services.
QUESTION_CUES = tuple(normalize_term(w) for w in (
    "证明", "要带什么", "带什么", "什么材料", "哪些材料", "要什么资料", "什么资料", "哪里开", "去哪开", "在哪开",
    "哪里办", "去哪办", "在哪办", "怎么开", "能不能开", "能开吗", "可以开吗", "开个", "盖章", "盖个章",
    "怎么申请", "如何申请", "怎么办理", "如何办理", "办理流程", "手续", "要多久", "几天能", "证件",
))
# Words that make a message a question (normalised: 幾耐 is 多久, 邊個 is 哪个).
ASK_CUES = ("吗", "几", "多久", "多长", "多少", "哪", "什么", "怎么", "谁", "未", "呢", "何", "是不是", "有没有",
            "能不能", "会不会", "可不可以", "怎样", "咩", "乜", "点", "边", "啥", "么", "要等")
# Words that ask how two things differ: both named entries are wanted.
COMPARE_CUES = tuple(normalize_term(w) for w in ("区别", "分别", "不同", "不一样", "一样吗", "差别", "定系", "还是"))
# Words that show a cadre asking whether something is the committee's duty.
DUTY_CUES = tuple(normalize_term(w) for w in (
    "职责", "村委的工作", "村委的事", "社区的工作", "社区的事", "我们的事", "我们的工作", "该不该", "归不归",
    "是不是村委", "是不是社区", "是不是我们", "属于自治", "协助政府", "禁入",
))
DUTY_BONUS = 12.0
# Words that make a message look like a complaint or report (the complaint handler's, not ours).
COMPLAINT_CUES = tuple(normalize_term(w) for w in (
    "坏了", "不亮", "漏水", "堵了", "堵塞", "噪音", "太吵", "很吵", "垃圾", "乱倒", "乱扔", "乱停", "投诉", "举报",
    "臭", "积水", "塌", "破损", "占道", "违建", "没人管", "停电", "停水",
))


@dataclass(frozen=True)
class MatchResult:
    """What the matcher found: ``outcome`` is 'confident', 'clarify' or 'none'."""

    outcome: str
    items: tuple[Item, ...] = ()
    scores: tuple[float, ...] = ()
    normalized: str = ""
    debug: dict = field(default_factory=dict, compare=False)
    topic: str | None = None   # the learned scorer's reading when it is not an entry: OOS, META_GRID, META_DEADLINE

    @property
    def item(self) -> Item | None:
        """The best entry (the answer when confident), or None."""
        return self.items[0] if self.items else None

    @property
    def ids(self) -> list[str]:
        """Ids of the entries, best first."""
        return [item.id for item in self.items]


@dataclass(frozen=True)
class _Term:
    parts: tuple[str, ...]
    item_id: str
    level: int

    @property
    def length(self) -> int:
        return sum(len(p) for p in self.parts)


def _beyond_doubt(guess, named) -> bool:
    """The examples read their best entry beyond doubt, over half the message, and give the entries the
    keywords found (``named``) almost nothing: the need outweighs the names."""
    return (guess.p >= OVERRULE_ANSWER_P and guess.coverage >= ANSWER_COVERAGE
            and max(guess.prob(i) for i in named) < OVERRULE_ANSWER_KEEP)


class Matcher:
    """An index over one catalogue; ``match`` is safe to call from many threads."""

    def __init__(self, catalogue: Catalogue, example_phrasings: dict[str, list[str]] | None = None,
                 reports: dict[str, list[str]] | None = None):
        self.catalogue = catalogue
        if example_phrasings is None:
            example_phrasings = examples.packaged_question_examples()
        if reports is None:
            reports = examples.packaged_report_examples()
        training = _training_set(catalogue, example_phrasings)
        for kind, texts in (reports or {}).items():
            # reports of problems, one label per kind (as many examples as an entry has): none of the entries
            training[f"{REPORT}:{kind}"] = list(texts)
        self.learned = modelcache.trained(learned.NaiveBayes, training)
        terms: dict[tuple[tuple[str, ...], str], _Term] = {}
        for item in catalogue:
            for raw in (item.name, *item.aliases):
                self._add(terms, raw, item.id, STRONG)
            for raw in item.keywords:
                self._add(terms, raw, item.id, WEAK)
                if item.kind in ("retained", "cancelled") and "+" not in raw and "证明" not in raw:
                    # A certificate's keyword next to 证明 is as good as a written pair ("没有犯罪" + 证明).
                    self._add(terms, f"{raw}+证明", item.id, WEAK)
        self.duty_ids = frozenset(item.id for item in catalogue if item.kind == "duty")
        self.generic_ids = frozenset(i for i in GENERIC if i in catalogue.items)
        self.single = [t for t in terms.values() if len(t.parts) == 1]
        self.conj = [t for t in terms.values() if len(t.parts) > 1]
        # A character trie over every name, alias, keyword and keyword part: one walk finds them all.
        self.trie: dict = {}
        for t in self.single:
            self._node(t.parts[0]).setdefault(_END, []).append(t)
        # The same terms by sound: one syllable per character (knowledge/phonetic.py).
        self.sound_trie: dict = {}
        for t in self.single:
            if len(t.parts[0]) >= SOUND_MIN:
                node = self.sound_trie
                for syl in phonetic.sounds(t.parts[0]):
                    node = node.setdefault(syl, {})
                node.setdefault(_END, []).append(t)
        self.conj_by_part: dict[str, list[_Term]] = {}
        for t in self.conj:
            for part in t.parts:
                self._node(part).setdefault(_PART, part)
            self.conj_by_part.setdefault(t.parts[0], []).append(t)
        # Fuzzy choices: the distinctive part of names and aliases (without a trailing 证明), three
        # characters or more, so that the common 证明 alone never makes two names look alike.
        fuzzy = {}
        for t in self.single:
            core = t.parts[0].removesuffix("证明")
            if t.level == STRONG and len(core) >= 3:
                fuzzy.setdefault(core, t.item_id)
        self.fuzzy_choices = list(fuzzy)
        self.fuzzy_items = [fuzzy[c] for c in self.fuzzy_choices]

    def _node(self, word: str) -> dict:
        node = self.trie
        for ch in word:
            node = node.setdefault(ch, {})
        return node

    @staticmethod
    def _add(terms: dict, raw: str, item_id: str, level: int) -> None:
        parts = tuple(p for p in (normalize_term(x) for x in raw.split("+")) if p)
        if not parts:
            return
        if len(parts) > 1:
            level = CONJ if level == WEAK else STRONG
        key = (parts, item_id)
        if key not in terms or terms[key].level < level:
            terms[key] = _Term(parts, item_id, level)

    def match(self, text: str) -> MatchResult:
        """Match one message: the keyword reading, weighed against the learned one."""
        q = normalize(text)[:MAX_TEXT]
        if not q:
            return MatchResult("none", normalized=q)
        return self._fuse(self._keywords(q), self.learned.guess(q, normalised=True), q)

    def _fuse(self, kw: MatchResult, guess: learned.Guess, q: str) -> MatchResult:
        """Two readings of one message: keywords (precise on names) and examples (the need described).

        They agree: answer. The keywords are sure but the examples read another entry clearly: offer both.
        The keywords offer a menu and the examples pick one of it clearly: answer it. The keywords find
        nothing and the examples read one entry very clearly: answer it, otherwise offer the few they read.
        """
        debug = dict(kw.debug, learned=list(zip(guess.labels[:3], [round(p, 3) for p in guess.probs[:3]], strict=True)))
        top, p = guess.top, guess.p
        report = sum(pr for lab, pr in zip(guess.labels, guess.probs, strict=True) if lab.startswith(REPORT))
        if top and top.startswith(REPORT) and report >= REPORT_P and (kw.outcome != "confident" or (
                kw.scores[0] < OVERRULE_MAX_SCORE and guess.prob(kw.item.id) < OVERRULE_KEEP)):
            # "楼下饭店的油烟对住我个窗": a report for the complaint intake, not a certificate question
            return MatchResult("none", normalized=q, debug=debug, topic=REPORT)
        entry = top in self.catalogue.items and top not in self.generic_ids
        topic = top if (top in examples.QUESTION_META and p >= TOPIC_P) else None
        if topic == "META_DEADLINE" and not any(c in q for c in ASK_CUES):
            topic = None   # "楼下路灯坏了三天了" is a report that says how long, not a question of how long
        if kw.outcome == "confident":
            chosen = kw.item.id
            name_share = max(kw.scores[0] - NAMED, 0.0) / max(len(q), 1)   # how much of the message the name is
            if (entry and top != chosen and p >= OVERRULE_P and guess.prob(chosen) < OVERRULE_KEEP
                    and kw.scores[0] < OVERRULE_MAX_SCORE and name_share < OVERRULE_NAME_SHARE):
                if _beyond_doubt(guess, (chosen,)):
                    # "学校要证明屋企穷，我哋系低保户": the examples know the need and the name is only mentioned
                    return MatchResult("confident", (self.catalogue[top],), (p,), q, dict(debug, overruled=chosen))
                items = (self.catalogue[top], kw.item)
                return MatchResult("clarify", items, (p, kw.scores[0]), q, debug)
            if (kw.scores[0] < NAMED and top in self.catalogue.items and top != chosen and p >= KW_DOUBT_P
                    and guess.prob(chosen) < KW_DOUBT_KEEP):
                # "有人在耕地上建房子，村委能不能直接去拆": a pair of keywords, no name, and the examples
                # read another entry and give this one almost nothing: both are offered
                items = (self.catalogue[top], kw.item)
                return MatchResult("clarify", items, (p, kw.scores[0]), q, dict(debug, doubted=chosen))
            if (top == "OOS" and p >= OOS_OVER_MENU_P and guess.coverage >= ANSWER_COVERAGE
                    and guess.prob(chosen) < KW_DOUBT_KEEP and kw.scores[0] < OVERRULE_MAX_SCORE):
                # "社保卡密码忘记了": a word of an entry (社保), in a question the examples read clearly as
                # not ours and give the entry almost nothing: no certificate answer (as for a menu, below)
                return MatchResult("none", normalized=q, debug=dict(debug, doubted=chosen), topic="OOS")
            return MatchResult("confident", kw.items, kw.scores, q, debug, topic)
        if kw.outcome == "clarify":
            ids = kw.ids
            named = sum(1 for sc in kw.scores if sc >= NAMED)
            if entry and top in ids and (named < 2 or not any(c in q for c in COMPARE_CUES)) and (p >= PICK_ANY_P or (p >= PICK_P and top == ids[0])):
                # the examples settle a close call; two entries named to be compared ("居住证和居住证明
                # 有什么区别") stay a choice
                return MatchResult("confident", (self.catalogue[top],), (p,), q, dict(debug, picked=True), topic)
            if top == "OOS" and p >= OOS_OVER_MENU_P and guess.coverage >= ANSWER_COVERAGE:
                # "结婚登记要带什么证件": a word of an entry, a question the examples know is not ours
                return MatchResult("none", normalized=q, debug=debug, topic="OOS")
            if entry and top not in ids and _beyond_doubt(guess, ids):
                # "暑假在居委做志愿者，学校要证明": the words offer two entries, the examples read a third
                # beyond doubt and give the two almost nothing — as for a confident keyword answer above
                return MatchResult("confident", (self.catalogue[top],), (p,), q, dict(debug, overruled=ids[0]), topic)
            if entry and top not in ids and p >= JOIN_P:
                ids = [top, *ids][:MAX_CHOICES]
            else:
                ids = sorted(ids, key=lambda i: -guess.prob(i))
            items = tuple(self.catalogue[i] for i in ids)
            if top and top.startswith(REPORT) and report >= REPORT_MENU_P:
                debug = dict(debug, report_like=True)   # "老细走咗佬，班工人冇粮出": a menu, or a report
            return MatchResult("clarify", items, tuple(guess.prob(i) for i in ids), q, debug, topic)
        # the keywords found nothing
        if top in self.generic_ids and p >= ANSWER_P:   # "which certificates do you still issue?", asked
            return MatchResult("confident", (self.catalogue[top],), (p,), q, dict(debug, learned_only=True))
        if top == "OOS" or topic or not entry:
            return MatchResult("none", normalized=q, debug=debug, topic=topic)
        if guess.known < KNOWN_MIN or guess.coverage < MENU_COVERAGE:
            return MatchResult("none", normalized=q, debug=debug, topic=topic)
        if p >= ANSWER_P and guess.coverage >= ANSWER_COVERAGE:
            return MatchResult("confident", (self.catalogue[top],), (p,), q, dict(debug, learned_only=True))
        offered = [lab for lab, pr in zip(guess.labels, guess.probs, strict=True)
                   if pr >= MENU_P and lab in self.catalogue.items and lab not in self.generic_ids][:MAX_CHOICES]
        if len(offered) == 1 and p >= SINGLE_P and not any(c in q for c in COMPLAINT_CUES):
            # one entry read and nothing else near it: a menu of one costs the resident a turn
            return MatchResult("confident", (self.catalogue[top],), (p,), q, dict(debug, learned_only=True, single=True))
        if offered and not any(c in q for c in COMPLAINT_CUES):
            items = tuple(self.catalogue[i] for i in offered)
            return MatchResult("clarify", items, tuple(guess.prob(i) for i in offered), q,
                               dict(debug, learned_only=True))
        return MatchResult("none", normalized=q, debug=debug, topic=topic)

    def _keywords(self, q: str) -> MatchResult:
        scores = self._score(concepts.augment(q))
        if any(c in q for c in DUTY_CUES):
            # "是不是村委的事": a cadre asking about duties, not a resident asking for the service.
            scores = {i: s + (DUTY_BONUS if i in self.duty_ids else -DUTY_BONUS) for i, s in scores.items()}
        fuzzy_only: set[str] = set()
        if not any(s >= CONFIDENT for s in scores.values()):
            for item_id, s in self._fuzzy(q).items():
                if s > scores.get(item_id, 0.0):
                    scores[item_id] = s
                    fuzzy_only.add(item_id)
        ranked = sorted(scores.items(), key=lambda kv: (-kv[1], kv[0]))
        if not ranked or ranked[0][1] < CHOICE_MIN:
            return MatchResult("none", normalized=q, debug={"ranked": ranked[:5]})
        top = ranked[0][1]
        second = ranked[1][1] if len(ranked) > 1 else 0.0
        if top >= CONFIDENT and top - second >= MARGIN:
            item = self.catalogue[ranked[0][0]]
            return MatchResult("confident", (item,), (top,), q, {"ranked": ranked[:5]})
        if any(c in q for c in COMPLAINT_CUES):
            # A close call inside a complaint ("邻居养狗很吵") is the complaint handler's, not ours.
            return MatchResult("none", normalized=q, debug={"ranked": ranked[:5]})
        choices = [(i, s) for i, s in ranked if s >= CHOICE_MIN and s >= top - CHOICE_SPREAD][:MAX_CHOICES]
        specific = [(i, s) for i, s in choices if i not in self.generic_ids]
        if specific:
            choices = specific  # "which certificates can you still issue?" is no answer next to one that fits
        elif top < CONFIDENT:
            return MatchResult("none", normalized=q, debug={"ranked": ranked[:5]})
        if (choices[0][0] not in fuzzy_only and choices[0][1] >= LEAD_MIN
                and (len(choices) == 1 or choices[0][1] - choices[1][1] >= LEAD)):
            # one entry clearly leads: a menu of one costs the resident a turn for nothing
            item = self.catalogue[choices[0][0]]
            return MatchResult("confident", (item,), (choices[0][1],), q, {"ranked": ranked[:5], "led": True})
        items = tuple(self.catalogue[i] for i, _ in choices)
        return MatchResult("clarify", items, tuple(s for _, s in choices), q, {"ranked": ranked[:5]})

    def _score(self, q: str) -> dict[str, float]:
        # A hit: (spans, item_id, level, length). A conjunctive term's spans are its parts' first places.
        hits: list[tuple[tuple[tuple[int, int], ...], str, int, int]] = []
        parts: dict[str, int] = {}  # keyword part -> first place
        trie = self.trie
        n = len(q)
        for i in range(n):
            node = trie
            j = i
            while j < n:
                node = node.get(q[j])
                if node is None:
                    break
                j += 1
                for t in node.get(_END, ()):
                    hits.append((((i, j),), t.item_id, t.level, j - i))
                part = node.get(_PART)
                if part is not None and part not in parts:
                    parts[part] = i
        for first in parts:
            for t in self.conj_by_part.get(first, ()):
                if all(p in parts for p in t.parts):
                    spans = tuple((parts[p], parts[p] + len(p)) for p in t.parts)
                    hits.append((spans, t.item_id, t.level, t.length))
        exact = {(h[0], h[1]) for h in hits}
        # by sound: one syllable per character, and pinyin typed in Latin letters read as the syllables
        # it spells ("wuyezhengming" is 物业证明 heard), each syllable with its place in the message
        heard_at = phonetic.spans_of(q)
        m = len(heard_at)
        heard: set[tuple] = set()
        for i in range(m):
            node = self.sound_trie
            j = i
            while j < m:
                node = node.get(heard_at[j][0])
                if node is None:
                    break
                j += 1
                for t in node.get(_END, ()):
                    span = (heard_at[i][1], heard_at[j - 1][2])
                    if ((span,), t.item_id) not in exact:  # a homophone, not the word as written
                        hit = ((span,), t.item_id, t.level, j - i)
                        hits.append(hit)
                        heard.add(hit)
        kept = [h for h in hits if not any(g[1] != h[1] and g[3] > h[3] and _inside(h[0], g[0]) for g in hits)]
        strong_len: dict[str, int] = {}
        strong_read: set[str] = set()
        support: dict[str, int] = {}
        conj: set[str] = set()
        for hit in kept:
            _spans, item_id, level, length = hit
            if level == STRONG:
                strong_len[item_id] = max(strong_len.get(item_id, 0), length)
                if hit not in heard:
                    strong_read.add(item_id)
            else:
                support[item_id] = support.get(item_id, 0) + 1
                if level == CONJ:
                    conj.add(item_id)
        scores: dict[str, float] = {}
        for item_id in set(strong_len) | set(support):
            extra = support.get(item_id, 0)
            if item_id in strong_len:
                base = 100.0 + min(strong_len[item_id], 10) - (0 if item_id in strong_read else SOUND_PENALTY)
            elif item_id in conj:
                base, extra = 90.0, extra - 1
            elif extra >= 2:
                base, extra = 84.0, extra - 2
            else:
                base, extra = 72.0, extra - 1
            scores[item_id] = base + 3.0 * min(extra, 3)
        return scores

    def _fuzzy(self, q: str) -> dict[str, float]:
        out: dict[str, float] = {}
        if len(q) < 3:
            return out
        found = process.extract(q, self.fuzzy_choices, scorer=fuzz.partial_ratio, processor=None,
                                score_cutoff=FUZZY_CUTOFF, limit=15)
        for choice, score, index in found:
            if len(choice) > len(q):
                score = fuzz.ratio(q, choice)
                if score < FUZZY_CUTOFF:
                    continue
            item_id = self.fuzzy_items[index]
            score = min(score - FUZZY_PENALTY, FUZZY_CAP)
            if score > out.get(item_id, 0.0):
                out[item_id] = score
        return out


def _training_set(catalogue: Catalogue, example_phrasings: dict[str, list[str]]) -> dict[str, list[str]]:
    """What the learned scorer learns from: each entry's own words, and the example phrasings."""
    out: dict[str, list[str]] = {}
    for item in catalogue:
        words = [item.name, *item.aliases, *(k.replace("+", " ") for k in item.keywords)]  # with purposes, askers
        out[item.id] = [str(w) for w in words if w]
    for label, texts in example_phrasings.items():
        if label in catalogue.items or label in examples.QUESTION_META:
            out.setdefault(label, []).extend(texts)
    return out


def _inside(spans: tuple[tuple[int, int], ...], outer: tuple[tuple[int, int], ...]) -> bool:
    """Whether every span lies within one of the ``outer`` spans."""
    return all(any(o0 <= s0 and s1 <= o1 for o0, o1 in outer) for s0, s1 in spans)


@functools.lru_cache(maxsize=1)
def default_matcher() -> Matcher:
    """The matcher over the packaged catalogue (built once)."""
    return Matcher(load_catalogue())


def match(text: str) -> MatchResult:
    """Match ``text`` against the packaged catalogue."""
    return default_matcher().match(text)


def looks_like_question(text: str) -> bool:
    """Whether ``text`` reads like a question about a certificate or a service (not a complaint)."""
    q = normalize(text)
    if not q or any(c in q for c in COMPLAINT_CUES):
        return False
    return any(c in q for c in QUESTION_CUES)
