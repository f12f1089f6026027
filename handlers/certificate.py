"""Questions about certificates, services and committee duties, answered from the catalogue."""
from __future__ import annotations

import functools
import re
from datetime import timedelta

from sqlalchemy import select

from handlers import followup
from handlers.base import Handler, Message
from knowledge.catalogue import Item, load_catalogue
from knowledge.matcher import MatchResult, looks_like_question, match

CHOOSE = "catalogue.choose"
OFFER = "catalogue.offer"
STATE_TTL = timedelta(minutes=30)

YES_WORDS = {"1", "是", "好", "好的", "要", "需要", "可以", "转", "转吧", "麻烦转", "行", "嗯", "ok", "好呀", "好啊", "係", "得",
             "要的", "需要的", "帮我转"}
NO_WORDS = {"2", "不", "不用", "不要", "不需要", "否", "算了", "唔使", "唔要", "no", "不用了", "不要了"}
# Words that show a cadre is asking about a burden from above rather than a resident asking for a certificate.
BURDEN_CUES = ("上级", "上面", "街道", "镇里", "镇政府", "部门", "要求我们", "让我们", "叫我们", "要我们")
STAFF_ROLES = {"cadre", "grid_worker", "department"}


@functools.lru_cache(maxsize=512)
def cached_match(text: str) -> MatchResult:
    """``match`` remembered for recent texts (``check`` and ``handle`` see the same message)."""
    return match(text)


def taught(ctx, text: str) -> Item | None:
    """What cadres taught this phrasing to mean where the sender lives (looked up once per message)."""
    if getattr(ctx, "_taught_for", None) != text:
        from bot.teaching.service import lookup

        ctx._taught_for, ctx._taught = text, lookup(ctx.session, text, ctx.person)
    return ctx._taught


NUMERALS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5}


def _number(answer: str) -> int | None:
    """A choice number from '2', '２', '第二个', '二' …; None if the reply is not a number."""
    core = answer.removeprefix("第").removesuffix("个").removesuffix("項").removesuffix("项")
    core = core.translate(str.maketrans("０１２３４５６７８９", "0123456789"))
    if core.isdigit() and len(core) <= 2:
        return int(core)
    return NUMERALS.get(core)


def _plain(text: str) -> str:
    return re.sub(r"[\s，。！？、,.!?~～]+", "", text or "").lower()


class CertificateQuestion(Handler):
    """Answer from the catalogue: the answer, numbered choices, or a plain 'no match' with an offer."""

    name = "certificate"
    states = (CHOOSE, OFFER, followup.ANSWERED)

    def __init__(self) -> None:
        # Load, validate and index the catalogue when the registry is built, so a mistake in the data
        # files stops the process at start (listing file, entry and field), not at a resident's question.
        from knowledge.matcher import default_matcher

        default_matcher()

    def check(self, msg: Message, ctx) -> bool:
        if not msg.is_text or not msg.text.strip():
            return False
        if taught(ctx, msg.text) is not None:
            return True
        result = cached_match(msg.text)
        if result.debug.get("learned_only"):
            # read from the examples alone, with no name or keyword: danger is always the complaint
            # intake's, and so is a message shaped like a report that the examples read only as a guess
            # ("租的房子楼梯口被房东堆满杂物"); a clear reading of a question stays ours ("阿伯无儿无女，政府养唔养")
            from bot.tickets.words import is_dangerous
            from handlers.complaint import looks_like_complaint

            if is_dangerous(msg.text):
                return False
            clear = result.outcome == "confident" and not result.debug.get("single")
            return clear or not looks_like_complaint(msg.text)
        if result.debug.get("report_like"):
            from handlers.complaint import looks_like_complaint

            return not looks_like_complaint(msg.text)
        return result.outcome != "none" or looks_like_question(msg.text)

    def handle(self, msg: Message, ctx) -> None:
        item = taught(ctx, msg.text)
        if item is not None:   # a cadre of the sender's village or town taught what this means
            answer_with(ctx, item, msg.text)
            return
        result = cached_match(msg.text)
        if result.outcome == "confident":
            answer_with(ctx, result.item, msg.text)
        elif result.outcome == "clarify":
            ctx.state.set(CHOOSE, {"ids": result.ids, "text": msg.text[:500]}, ttl=STATE_TTL, expiry_text=None)
            ctx.reply(choices_text(result.items, ctx))
        else:
            offer_person(ctx, msg.text, result.normalized)

    def continue_conversation(self, msg: Message, ctx) -> None:
        state = ctx.state.get()
        data = dict(state.data or {}) if state else {}
        answer = _plain(msg.text) if msg.is_text else ""
        if state is not None and state.name == CHOOSE:
            ids = [i for i in data.get("ids", []) if i in load_catalogue().items]
            number = _number(answer)
            if number is not None:
                if number == 0:
                    # none of the guesses: logged for cadres, and a person offered, as when nothing was read
                    text = data.get("text", "")
                    record_miss(ctx, text, outcome="rejected")
                    ctx.state.set(OFFER, {"text": text[:500]}, ttl=STATE_TTL, expiry_text=None)
                    ctx.reply(ctx.t("catalogue.choose_none"))
                elif 1 <= number <= len(ids):
                    ctx.state.clear()
                    answer_with(ctx, load_catalogue()[ids[number - 1]], data.get("text", ""))
                else:
                    ctx.reply(ctx.t("catalogue.choose_again", count=len(ids)))
                return
        elif state is not None and state.name == followup.ANSWERED:
            if followup.report_reply(msg, ctx, data):   # 反映问题: the question also told of a report
                return
            if followup.answer(msg, ctx, data.get("entry")):
                return   # the entry stays remembered for the next follow-up
        elif state is not None and state.name == OFFER:
            if answer in YES_WORDS:
                ctx.state.clear()
                file_request(ctx, data.get("text", ""))
                return
            if answer in NO_WORDS:
                ctx.state.clear()
                ctx.reply(ctx.t("catalogue.not_forwarded"))
                return
        # Anything else is a new message: end this conversation and let the registry route it afresh.
        ctx.state.clear()
        from handlers import route

        route(msg, ctx)


def answer_with(ctx, item: Item, text: str) -> None:
    """Answer ``text`` with ``item``; when the question also tells of something to report (公司唔交社保，
    我想告佢，要开咩证明), the answer offers to take it as a report, and "反映问题" does."""
    body = render(item, ctx, text)
    followup.remember(ctx, item)
    if followup.keep_report(ctx, text):
        body += "\n\n" + ctx.t("catalogue.also_report")
    ctx.reply(body)


def offer_person(ctx, text: str, normalized: str | None = None, key: str = "catalogue.no_match") -> None:
    """Nothing here answers ``text``: log it for cadres and offer to pass it to a person."""
    record_miss(ctx, text, normalized)
    ctx.state.set(OFFER, {"text": text[:500]}, ttl=STATE_TTL, expiry_text=None)
    ctx.reply(ctx.t(key))


def file_request(ctx, text: str) -> None:
    """Pass an unanswered question to the committee as a consultation request, and tell the resident.

    When ``handlers.complaint.file_consultation(ctx, text)`` exists it files a ticket
    (service_code 'consultation') and returns its short number (or None); otherwise the
    question stays in the miss log, marked as forwarded, for cadres to see.
    """
    try:
        from handlers.complaint import file_consultation
    except ImportError:
        file_consultation = None
    miss = ctx.session.scalar(_last_miss_query(ctx, text))
    if miss is not None:
        miss.forwarded = True
    number = file_consultation(ctx, text) if file_consultation is not None else None
    if file_consultation is None and miss is None:
        record_miss(ctx, text, forwarded=True)
    ctx.reply(ctx.t("catalogue.forwarded_ticket", number=number) if number else ctx.t("catalogue.forwarded"))


def _last_miss_query(ctx, text: str):
    from bot.models import CatalogueMiss

    return (select(CatalogueMiss)
            .where(CatalogueMiss.user_id == ctx.user_id, CatalogueMiss.channel == ctx.channel,
                   CatalogueMiss.text == text)
            .order_by(CatalogueMiss.id.desc()).limit(1))


def record_miss(ctx, text: str, normalized: str | None = None, outcome: str = "none",
                forwarded: bool = False) -> None:
    """Log a question the catalogue could not answer (``qingche knowledge misses`` lists them)."""
    from bot.models import CatalogueMiss
    from knowledge.normalize import normalize

    if not text:
        return
    ctx.session.add(CatalogueMiss(
        text=text[:2000], normalized=normalize(text) if normalized is None else normalized,
        user_id=ctx.user_id, channel=ctx.channel, outcome=outcome, forwarded=forwarded, created_at=ctx.now,
    ))
    ctx.session.flush()


def choices_text(items, ctx) -> str:
    """The numbered list of close calls."""
    lines = "\n".join(ctx.t("catalogue.choice", n=n, name=item.name) for n, item in enumerate(items, 1))
    return ctx.t("catalogue.choose", choices=lines)


def village_of(ctx) -> str:
    """The sender's village or community (e.g. 楼冈社区), when the roster or the sender told us."""
    person = ctx.person
    if person is None:
        return ""
    village = person.village or ""
    if not village and person.patch:
        from bot.models import Patch

        village = ctx.session.scalar(select(Patch.village).where(Patch.code == person.patch)) or ""
    for suffix in ("居民委员会", "村民委员会", "居委会", "村委会", "委员会"):
        if village.endswith(suffix) and len(village) > len(suffix):
            return village.removesuffix(suffix)
    return village


def _is_burden_question(text: str, ctx) -> bool:
    from knowledge.normalize import normalize

    q = normalize(text)
    return ctx.role in STAFF_ROLES or any(cue in q for cue in BURDEN_CUES)


def render(item: Item, ctx, text: str = "") -> str:
    """The one-reply answer for a catalogue entry, for this sender."""
    t = ctx.t
    fields = {"name": item.name, "basis": item.get("basis", "")}
    if item.kind == "retained":
        village = village_of(ctx)
        where = item.get("where") or (t("catalogue.where_village", village=village) if village
                                      else t("catalogue.where_default"))
        body = t("catalogue.retained", proves=item.get("proves"), applicant=item.get("applicant"),
                 materials="\n".join(t("catalogue.bullet", text=m) for m in item.get("materials")),
                 steps="\n".join(t("catalogue.step", n=n, text=s) for n, s in enumerate(item.get("steps"), 1)),
                 where=where, time_limit=item.get("time_limit"), **fields)
    elif item.kind == "cancelled":
        if _is_burden_question(text, ctx):
            barred = load_catalogue().items.get("X3")
            decline = barred.get("decline") if barred else ""
            body = t("catalogue.cancelled_cadre", instead=item.get("instead"), decline=decline, **fields)
        else:
            body = t("catalogue.cancelled", instead=item.get("instead"), **fields)
    elif item.kind == "service":
        body = t("catalogue.service", answer=item.get("answer"), where=item.get("where"), name=item.name)
    else:
        body = t(f"catalogue.duty_{item.duty_list}", answer=item.get("answer"), decline=item.get("decline", ""),
                 **fields)
    related = [load_catalogue().items[i].name for i in (item.get("see_also") or [])
               if i in load_catalogue().items]
    if related:
        body += "\n" + t("catalogue.see_also", names="、".join(related))
    if item.get("sample"):
        body += "\n" + t("catalogue.sample_note")
    if item.kind == "retained" and item.get("application"):  # 申请 in chat (handlers/applications.py)
        from handlers.applications import offer

        body += "\n" + offer(item, ctx)
    return body
