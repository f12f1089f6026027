"""A short follow-up about the entry just answered: 居住证明点开 → 要几耐 / 要带咩 / 喺边度办.

The entry answered last is remembered with the conversation (``ANSWERED``, or the 申请 offer that a
retained certificate's answer leaves). A next message that names no entry of its own, is short, and asks
one aspect (what to bring, where, how long, who may apply, the steps) is answered from that entry's
fields. An aspect the entry does not hold (the fee, say) is offered to a person with the entry named,
never guessed; anything else is a new message.
"""
from __future__ import annotations

from datetime import timedelta

from knowledge.catalogue import Item, load_catalogue
from knowledge.normalize import normalize

ANSWERED = "catalogue.answered"
STATE_TTL = timedelta(minutes=30)
MAX_LEN = 16   # characters (normalised): a follow-up is short; a longer message says what it is about
# Cues, normalised (喺边度 is 在哪里, 几耐 is 多久): the aspect asked about.
ASPECTS = {
    "materials": ("带什么", "要带", "材料", "资料", "证件", "要什么", "准备什么", "准备"),
    "where": ("哪里", "在哪", "去哪", "地址", "地点", "哪个部门", "哪间"),
    "time": ("多久", "几天", "几日", "几时", "什么时候", "时限", "当天", "即日", "当场"),
    "who": ("代办", "代领", "帮人", "委托", "本人", "亲自", "谁可以", "家人"),
    "steps": ("流程", "步骤", "怎么办", "怎么弄", "怎么开", "怎么申请", "如何办理", "手续", "怎么做"),
    "fee": ("收费", "要钱", "多少钱", "免费", "费用", "给钱", "收钱", "使不用钱", "几钱"),
    "hours": ("几点", "上班", "下班", "办公时间", "开门", "周末", "星期六", "星期日"),
}
# What each aspect is in a retained certificate's fields (others are answered whole).
RETAINED_FIELDS = {"materials": "materials", "where": "where", "time": "time_limit", "who": "applicant",
                   "steps": "steps"}
UNWRITTEN = ("fee", "hours")   # no entry holds these: a person answers
# Besides the complaint intake's own answers to "a report, or a question?": what residents reply when an
# answer offers to take what they told as a report.
REPORT_REPLIES = ("我要反映", "要反映", "想反映", "反映吧", "我要投诉", "要投诉", "投诉", "投诉吧", "帮我反映", "帮我投诉")


def aspect_of(text: str) -> str | None:
    """The one aspect a short follow-up asks about, or None (not short, or no aspect, or several)."""
    q = normalize(text)
    if not q or len(q) > MAX_LEN:
        return None
    found = [a for a, cues in ASPECTS.items() if any(c in q for c in cues)]
    return found[0] if len(found) == 1 else None


def remember(ctx, item: Item) -> None:
    """After an answer: the next message may be a follow-up about ``item`` (unless a state was just set,
    such as the 申请 offer, which remembers the entry itself)."""
    if ctx.state.get() is None:
        ctx.state.set(ANSWERED, {"entry": item.id}, ttl=STATE_TTL, expiry_text=None)


def keep_report(ctx, text: str) -> bool:
    """After an answer: when the question also reports something, keep it with the conversation so that
    "反映问题" files it as a report; True when it was kept (the answer then says so)."""
    from handlers.complaint import reports_too

    state = ctx.state.get()
    if state is None or not reports_too(text):
        return False
    ctx.state.set(state.name, {**(state.data or {}), "report": text[:1000]}, ttl=STATE_TTL, expiry_text=None)
    return True


def report_reply(msg, ctx, data: dict) -> bool:
    """"反映问题" after an answer that offered it: the question's own words become a report."""
    from bot.tickets.words import plain
    from handlers.complaint import REPORT_WORDS, start

    text = (data or {}).get("report")
    if not text or not msg.is_text or plain(msg.text) not in (*REPORT_WORDS, *REPORT_REPLIES):
        return False
    from handlers import owner_of

    ctx.state.clear()
    start(owner_of("complaint_what"), msg, ctx, text)
    return True


def answer(msg, ctx, entry_id: str | None) -> bool:
    """Answer ``msg`` as a follow-up about ``entry_id``; False when it is not one (route it afresh)."""
    from handlers.certificate import cached_match, record_miss, render
    from handlers.complaint import looks_like_complaint

    item = load_catalogue().items.get(entry_id or "")
    if item is None or not msg.is_text:
        return False
    aspect = aspect_of(msg.text)
    if aspect is None or looks_like_complaint(msg.text):
        return False
    if cached_match(msg.text).outcome != "none":
        return False   # it names an entry ("居住证呢？", or this one again): a question of its own
    t = ctx.t
    if item.kind == "retained" and aspect in RETAINED_FIELDS:
        body = _retained_field(item, aspect, ctx)
        ctx.reply(t("catalogue.followup", name=item.name, body=body))
        return True
    if aspect in UNWRITTEN or item.kind == "retained":
        # not in the entry: a person answers, told which entry the question is about
        from handlers.certificate import OFFER
        from handlers.certificate import STATE_TTL as OFFER_TTL

        question = f"【{item.name}】{msg.text.strip()}"
        record_miss(ctx, question)
        ctx.state.set(OFFER, {"text": question[:500]}, ttl=OFFER_TTL, expiry_text=None)
        ctx.reply(t("catalogue.followup_unknown", name=item.name))
        return True
    ctx.reply(render(item, ctx, msg.text))   # the whole answer: what to do instead, where, how
    return True


def _retained_field(item: Item, aspect: str, ctx) -> str:
    from handlers.certificate import village_of

    t = ctx.t
    if aspect == "materials":
        return t("catalogue.followup_materials",
                 materials="\n".join(t("catalogue.bullet", text=m) for m in item.get("materials")))
    if aspect == "steps":
        return t("catalogue.followup_steps",
                 steps="\n".join(t("catalogue.step", n=n, text=s) for n, s in enumerate(item.get("steps"), 1)))
    if aspect == "where":
        village = village_of(ctx)
        where = item.get("where") or (t("catalogue.where_village", village=village) if village
                                      else t("catalogue.where_default"))
        return t("catalogue.followup_where", where=where)
    if aspect == "time":
        return t("catalogue.followup_time", time_limit=item.get("time_limit"))
    return t("catalogue.followup_who", applicant=item.get("applicant"))
