"""Applying for a retained certificate in chat (一次办成), and the committee's commands on applications.

Residents: 申请 after a certificate's answer, or "我要开居住证明" — then one question per field, the
materials as photos, a review, nothing filed until 确认; 取消 at any step; 我的申请, 查询 #A12;
补充 #A12 after 退回补充. Grid workers: 核实 #A12 属实 / 核实 #A12 不符 原因. Cadres: 通过 #A12,
退回 #A12 缺少什么, 不予出具 #A12 原因, 已领取 #A12, or the card's buttons (keys ``app:<action>:<n>``).
Application numbers are ``#A<n>``; a plain ``#12`` stays with tickets.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from bot import privacy
from bot.applications import fields as form_fields
from bot.applications import service
from bot.applications.fields import Form, Invalid, form_for
from bot.applications.service import ApplicationError
from bot.delivery import CARD_UPDATE
from bot.models import Patch, Person
from bot.stats import local_today
from bot.tickets.routing import short_village
from bot.tickets.words import fold, plain
from handlers import followup
from handlers.base import Handler, Message
from handlers.tickets import CARD_EVENTS, send_notices

OFFER, PICK, FIELD, MATERIAL, REVIEW, SUPPLEMENT, REASON = (
    "app_offer", "app_pick", "app_field", "app_material", "app_review", "app_supplement", "app_reason")
DRAFT_TTL = timedelta(minutes=30)
OPEN_STATES = ("verifying", "submitted")
EXPIRY_TEXT = "applications.draft_expired"

# Command words (the first is the standard form); a number is written #A12 or A12.
VERBS = {
    "approve": ("通过", "同意", "批准"),
    "return": ("退回补充", "退回"),
    "refuse": ("不予出具", "不予办理", "拒绝"),
    "collect": ("已领取", "领取", "已领"),
    "verify": ("核实",),
    "supplement": ("补充",),
    "query": ("查询", "查进度", "查"),
}
MINE_WORDS = {"我的申请", "我的证明申请", "申请进度", "我的证明"}
PICK_WORDS = {"申请", "我要申请", "申请证明", "开证明", "我要开证明", "我想开证明", "办证明", "我要办证明", "在线申请",
              "申请开证明"}
OFFER_YES = {"申请", "我要申请", "申请办理", "在线申请", "要申请", "办", "要", "是", "好", "好的", "1", "申请吧", "可以"}
APPLY_CUES = ("申请", "我要开", "我想开", "想开", "要开", "帮我开", "给我开", "开一张", "开一份", "我要办", "想办", "帮我办")
QUESTION_CUES = ("什么", "怎么", "哪", "吗", "多久", "几天", "要带", "需要带", "怎样", "如何", "啥", "乜",
                 "咩", "点样", "点", "边度", "边个", "几时", "几耐", "?", "？", "能不能", "可不可以", "可以吗", "系咪",
                 "是不是")
DONE_WORDS = {"好了", "好", "发完了", "发完", "完成", "下一步", "下一个", "ok", "可以了", "就这些", "好啦", "得了"}
SKIP_WORDS = {"没有", "没", "冇", "无", "跳过", "不用", "唔使", "暂时没有"}
SUBMIT_WORDS = {"确认", "确定", "提交", "确认提交", "是", "对", "好", "好的", "没问题", "冇问题", "可以", "ok"}
CONFIRMED_WORDS = ("属实", "一致", "相符", "核实无误", "无误")
MISMATCH_WORDS = ("不符", "不属实", "不一致", "不相符")
CARD_KEY = re.compile(r"app:(approve|return|refuse|confirm|mismatch):(\d{1,9})")
COMMAND = re.compile(r"(?P<verb>[^\s#a\d]+?)\s*#?\s*a\s*(?P<number>\d{1,9})\s*(?P<rest>.*)", re.S)


@dataclass(frozen=True)
class Command:
    action: str
    number: int | None = None
    rest: str = ""


def parse(text: str) -> Command | None:
    """An application command, or None (``查询 #12`` without the A is a ticket's)."""
    folded = fold(text)
    if plain(folded) in MINE_WORDS:
        return Command("mine")
    m = COMMAND.fullmatch(folded)
    if not m:
        return None
    verb = m.group("verb").strip()
    for action, words in VERBS.items():
        if verb in words:
            # the note keeps the sender's own characters, not the folded ones
            rest = re.sub(r"^.*?#?\s*[aAＡａ]\s*[0-9０-９]+\s*", "", text.strip(), count=1, flags=re.S).strip()
            return Command(action, int(m.group("number")), rest)
    return None


GREETINGS = ("你好", "您好", "唔该", "麻烦", "请问", "我想", "我")
APPLY_MAX = 24   # characters: a request to apply is short; a story with 申请 in it is a question


def wants_to_apply(text: str) -> bool:
    """"我要开居住证明", "申请居住证明": an explicit request that starts with it, not a question about
    it, nor a story that mentions 申请 ("个女想申请助学贷款，学校要家庭困难证明，去边度开" asks where)."""
    p = plain(text)
    for greeting in GREETINGS:
        if p.startswith(greeting) and any(p[len(greeting):].startswith(c) for c in APPLY_CUES):
            p = p[len(greeting):]
            break
    return (len(p) <= APPLY_MAX and any(p.startswith(c) for c in APPLY_CUES)
            and not any(q in fold(text) for q in QUESTION_CUES))


def retained_entry(text: str):
    """The retained certificate a text names with confidence, or None."""
    from handlers.certificate import cached_match

    result = cached_match(text)
    if result.outcome == "confident" and result.item.kind == "retained":
        return result.item
    return None


def offer(item, ctx) -> str:
    """The line appended to a retained certificate's answer: 申请 in chat (remembered for the next reply)."""
    form = form_for(item)
    if form is None:
        return ""
    state = getattr(ctx, "state", None)
    if state is not None:
        state.set(OFFER, {"entry": item.id}, ttl=DRAFT_TTL, expiry_text=None)
    return ctx.t("applications.offer", name=item.name)


def _reroute(msg: Message, ctx) -> None:
    ctx.state.clear()
    from handlers import route

    route(msg, ctx)


class ApplicationCommands(Handler):
    """Application commands, the resident's application conversation, and the committee's decisions."""

    name = "applications"
    states = (OFFER, PICK, FIELD, MATERIAL, REVIEW, SUPPLEMENT, REASON)

    def check(self, msg: Message, ctx) -> bool:
        if msg.msg_type == "image":
            return ctx.state.get() is None and self._returned(ctx) is not None
        if not msg.is_text:
            return False
        if parse(msg.text) is not None:
            return True
        state = ctx.state.get()
        if plain(msg.text) in PICK_WORDS:
            return state is None
        # a request names its certificate; it never breaks into another conversation (a complaint's draft)
        free = state is None or state.name in self.states or state.name.startswith("catalogue.")
        return free and wants_to_apply(msg.text) and retained_entry(msg.text) is not None

    def handle(self, msg: Message, ctx) -> None:
        if msg.msg_type == "event":
            self._card(msg, ctx)
            return
        if msg.msg_type == "image":
            app = self._returned(ctx)
            self._start_supplement(ctx, app, [[msg.media_id, msg.pic_url]])
            return
        cmd = parse(msg.text)
        if cmd is None and plain(msg.text) in PICK_WORDS:
            self._pick(ctx)
            return
        if cmd is None:
            self._start(ctx, retained_entry(msg.text))
            return
        getattr(self, f"_{cmd.action}")(ctx, cmd)

    # --- the resident's application -----------------------------------------------------------
    def _pick(self, ctx) -> None:
        """申请 with nothing before it: which certificate?"""
        from knowledge.catalogue import load_catalogue

        ids = [item.id for item in load_catalogue().by_kind("retained") if form_for(item)]
        lines = "\n".join(ctx.t("applications.pick_line", n=n, name=load_catalogue()[i].name)
                          for n, i in enumerate(ids, 1))
        ctx.state.set(PICK, {"ids": ids}, ttl=DRAFT_TTL, expiry_text=None)
        ctx.reply(ctx.t("applications.pick", lines=lines))

    def _start(self, ctx, item) -> None:
        form = form_for(item)
        if form is None:  # e.g. 政审: requested by an organisation by 公函
            ctx.reply(ctx.t("applications.not_in_chat", name=item.name, applicant=item.get("applicant")))
            return
        draft = {"entry": item.id, "values": {}, "photos": {}, "done": []}
        person = ctx.person
        patch = ctx.session.scalar(select(Patch).where(Patch.code == person.patch)) if person and person.patch else None
        if patch is not None:
            draft.update(village=patch.village, town=patch.town, patch=patch.code)
        elif person is not None and person.village:
            town = ctx.session.scalar(select(Patch.town).where(Patch.village == person.village).limit(1))
            draft.update(village=person.village, town=town, patch=None)
        needs = "、".join(m.label for m in form.materials if m.required) or ctx.t("applications.no_materials")
        ctx.reply(ctx.t("applications.start", name=item.name, count=len(form.fields), materials=needs,
                        limit=item.get("time_limit")))
        self._advance(ctx, form, draft)

    def _advance(self, ctx, form: Form, draft: dict) -> None:
        """Ask for the next missing piece, or show the review."""
        if not draft.get("village"):
            villages = self._villages(ctx)
            lines = "  ".join(f"{n}. {v}" for n, v in enumerate(villages, 1))
            return self._ask(ctx, FIELD, draft, "village", ctx.t("applications.ask_village", choices=lines))
        for f in form.fields:
            if f.key not in draft["values"]:
                return self._ask(ctx, FIELD, draft, f.key, self._question(ctx, f))
        for m in form.materials:
            if m.key not in draft["done"]:
                key = "ask_material" if m.required else "ask_material_optional"
                return self._ask(ctx, MATERIAL, draft, m.key, ctx.t(f"applications.{key}", label=m.label))
        self._ask(ctx, REVIEW, draft, None, self._review(ctx, form, draft))

    def _question(self, ctx, f) -> str:
        if f.kind == "choice":
            return ctx.t("applications.ask_choice", label=f.label, choices=form_fields.choice_list(f))
        return ctx.t(f"applications.ask_{f.kind}", label=f.label)

    def _ask(self, ctx, step: str, draft: dict, at: str | None, text: str) -> None:
        draft["at"] = at
        ctx.state.set(step, draft, ttl=DRAFT_TTL, expiry_text=EXPIRY_TEXT)
        ctx.reply(text)

    def _villages(self, ctx) -> list[str]:
        return list(ctx.session.scalars(select(Patch.village).distinct().order_by(Patch.village)))

    def _review(self, ctx, form: Form, draft: dict) -> str:
        lines = []
        for n, f in enumerate(form.fields, 1):
            value = draft["values"].get(f.key, "")
            if f.kind == "id_number":
                value = privacy.mask_ids(value)
            lines.append(ctx.t("applications.review_line", n=n, label=f.label, value=value))
        photos = draft.get("photos") or {}
        for m in form.materials:
            count = len(photos.get(m.key) or [])
            lines.append(ctx.t("applications.review_material", label=m.label, count=count) if count
                         else ctx.t("applications.review_material_none", label=m.label))
        return ctx.t("applications.review", name=form.entry.name, village=draft["village"], lines="\n".join(lines))

    def continue_conversation(self, msg: Message, ctx) -> None:
        state = ctx.state.get()
        data = dict(state.data or {})
        if state.name == OFFER:
            if msg.is_text and plain(msg.text) in OFFER_YES:
                ctx.state.clear()
                from knowledge.catalogue import load_catalogue

                self._start(ctx, load_catalogue().items.get(data.get("entry")))
            elif followup.report_reply(msg, ctx, data):   # 反映问题: the question also told of a report
                pass
            elif not followup.answer(msg, ctx, data.get("entry")):   # "要几耐": about the entry answered
                _reroute(msg, ctx)
            return
        if state.name == PICK:
            text = plain(msg.text) if msg.is_text else ""
            ids = data.get("ids") or []
            if text.isdigit() and 1 <= int(text) <= len(ids):
                ctx.state.clear()
                from knowledge.catalogue import load_catalogue

                self._start(ctx, load_catalogue().items.get(ids[int(text) - 1]))
            else:
                _reroute(msg, ctx)
            return
        if state.name == SUPPLEMENT:
            return self._supplement_step(msg, ctx, data)
        if state.name == REASON:
            return self._reason_step(msg, ctx, data)
        form = form_for(data.get("entry"))
        if form is None:
            _reroute(msg, ctx)
            return
        if state.name == FIELD:
            self._field_step(msg, ctx, form, data)
        elif state.name == MATERIAL:
            self._material_step(msg, ctx, form, data)
        else:
            self._review_step(msg, ctx, form, data)

    def _field_step(self, msg: Message, ctx, form: Form, draft: dict) -> None:
        at = draft.get("at")
        if not msg.is_text:
            ctx.reply(ctx.t("applications.text_please"))
            return self._advance(ctx, form, draft)
        if at == "village":
            villages = self._villages(ctx)
            text = plain(msg.text)
            chosen = (villages[int(text) - 1] if text.isdigit() and 1 <= int(text) <= len(villages)
                      else next((v for v in villages if plain(short_village(v)) in text), None))
            if chosen is None:
                ctx.reply(ctx.t("applications.bad_village"))
                return self._advance(ctx, form, draft)
            town = ctx.session.scalar(select(Patch.town).where(Patch.village == chosen).limit(1))
            draft.update(village=chosen, town=town, patch=None)
            return self._next(ctx, form, draft)
        field = next((f for f in form.fields if f.key == at), None)
        if field is None:
            return self._advance(ctx, form, draft)
        try:
            value = form_fields.clean(field, msg.text, local_today(ctx.now))
        except Invalid as exc:
            # a clear message and the same question again; the draft is kept
            ctx.reply(ctx.t(f"applications.bad_{exc.key}", label=field.label, **exc.fields))
            return self._ask(ctx, FIELD, draft, at, self._question(ctx, field))
        draft["values"][field.key] = value
        self._next(ctx, form, draft)

    def _next(self, ctx, form: Form, draft: dict) -> None:
        if draft.pop("editing", False):
            return self._ask(ctx, REVIEW, draft, None, self._review(ctx, form, draft))
        self._advance(ctx, form, draft)

    def _material_step(self, msg: Message, ctx, form: Form, draft: dict) -> None:
        material = next((m for m in form.materials if m.key == draft.get("at")), None)
        if material is None:
            return self._advance(ctx, form, draft)
        photos = draft.setdefault("photos", {}).setdefault(material.key, [])
        if msg.msg_type == "image":
            photos.append([msg.media_id, msg.pic_url])
            ctx.state.set(MATERIAL, draft, ttl=DRAFT_TTL, expiry_text=EXPIRY_TEXT)
            ctx.reply(ctx.t("applications.photo_received", label=material.label, count=len(photos)))
            return
        text = plain(msg.text) if msg.is_text else ""
        if text in DONE_WORDS or text in SKIP_WORDS:
            if material.required and not photos:
                ctx.reply(ctx.t("applications.photo_required", label=material.label))
                return self._ask(ctx, MATERIAL, draft, material.key,
                                 ctx.t("applications.ask_material", label=material.label))
            draft["done"].append(material.key)
            return self._next(ctx, form, draft)
        ctx.reply(ctx.t("applications.photo_please", label=material.label))

    def _review_step(self, msg: Message, ctx, form: Form, draft: dict) -> None:
        if msg.msg_type == "image" and form.materials:
            last = form.materials[-1].key
            draft.setdefault("photos", {}).setdefault(last, []).append([msg.media_id, msg.pic_url])
            return self._ask(ctx, REVIEW, draft, None, self._review(ctx, form, draft))
        text = plain(msg.text) if msg.is_text else ""
        if text.isdigit():
            n = int(text)
            if 1 <= n <= len(form.fields):
                field = form.fields[n - 1]
                draft["editing"] = True
                draft["values"].pop(field.key, None)
                return self._ask(ctx, FIELD, draft, field.key, self._question(ctx, field))
        if text in SUBMIT_WORDS:
            return self._file(msg, ctx, form, draft)
        ctx.reply(ctx.t("applications.review_again", count=len(form.fields)))

    def _file(self, msg: Message, ctx, form: Form, draft: dict) -> None:
        missing = [m.label for m in form.materials if m.required and not (draft.get("photos") or {}).get(m.key)]
        if missing:  # cannot happen through the steps; kept as the rule the filing relies on
            ctx.reply(ctx.t("applications.photo_required", label="、".join(missing)))
            return
        app, notices = service.submit(
            ctx.session, form=form, applicant=ctx.user_id, channel=ctx.channel, person=ctx.person,
            values=draft["values"], photos=draft.get("photos") or {}, village=draft["village"],
            town=draft.get("town"), patch_code=draft.get("patch"), inbound_id=msg.inbound_id, now=ctx.now)
        send_notices(ctx, notices)
        ctx.state.clear()
        if app.status == "verifying":
            worker = ctx.session.scalar(select(Person).where(Person.userid == app.verifier_userid))
            step = ctx.t("applications.filed_verifying", worker=worker.name if worker else "")
        else:
            step = ctx.t("applications.filed_submitted", village=app.village)
        ctx.reply(ctx.t("applications.filed", number=app.number, certificate=app.certificate_name, step=step,
                        limit=form.entry.get("time_limit"), due=service.due_text(app)))

    # --- 补充 after 退回补充 ------------------------------------------------------------------
    def _returned(self, ctx):
        apps = [a for a in service.of_applicant(ctx.session, ctx.user_id) if a.status == "returned"]
        return apps[0] if len(apps) == 1 else None

    def _supplement(self, ctx, cmd: Command) -> None:
        app = service.find(ctx.session, cmd.number)
        if app is None or app.applicant_userid != ctx.user_id:
            ctx.reply(ctx.t("applications.not_found", number=cmd.number))
            return
        if app.status != "returned":
            ctx.reply(ctx.t("applications.not_returned", number=app.number, status=service.status_name(app.status)))
            return
        self._start_supplement(ctx, app, [], cmd.rest)

    def _start_supplement(self, ctx, app, photos: list, note: str = "") -> None:
        data = {"number": app.number, "photos": photos, "note": note}
        ctx.state.set(SUPPLEMENT, data, ttl=DRAFT_TTL, expiry_text=EXPIRY_TEXT)
        ctx.reply(ctx.t("applications.supplement_start", number=app.number, missing=app.status_notes or "",
                        count=len(photos)))

    def _supplement_step(self, msg: Message, ctx, data: dict) -> None:
        app = service.find(ctx.session, data["number"])
        if app is None or app.status != "returned":
            _reroute(msg, ctx)
            return
        if msg.msg_type == "image":
            data["photos"].append([msg.media_id, msg.pic_url])
            ctx.state.set(SUPPLEMENT, data, ttl=DRAFT_TTL, expiry_text=EXPIRY_TEXT)
            ctx.reply(ctx.t("applications.supplement_photo", count=len(data["photos"])))
            return
        if not msg.is_text:
            return
        if plain(msg.text) in SUBMIT_WORDS | DONE_WORDS:
            if not data["photos"] and not data["note"]:
                ctx.reply(ctx.t("applications.supplement_empty", number=app.number))
                return
            notices = service.resubmit(ctx.session, app, data["note"], data["photos"], ctx.person or ctx.user_id,
                                       ctx.now)
            send_notices(ctx, notices)
            ctx.state.clear()
            ctx.reply(ctx.t("applications.supplement_done", number=app.number, due=service.due_text(app)))
            return
        data["note"] = f"{data['note']}；{msg.text.strip()}".strip("；")[:1000]
        ctx.state.set(SUPPLEMENT, data, ttl=DRAFT_TTL, expiry_text=EXPIRY_TEXT)
        ctx.reply(ctx.t("applications.supplement_note"))

    # --- reading ------------------------------------------------------------------------------
    def _mine(self, ctx, cmd: Command) -> None:
        person = ctx.person
        if person is not None and person.role in ("cadre", "grid_worker"):
            apps = service.pending_for(ctx.session, person)
            empty = "applications.pending_none"
        else:
            apps = service.of_applicant(ctx.session, ctx.user_id)
            empty = "applications.mine_none"
        if not apps:
            ctx.reply(ctx.t(empty))
            return
        lines = [ctx.t("applications.mine_header")]
        lines += [ctx.t("applications.mine_line", number=a.number, certificate=a.certificate_name,
                        status=service.status_name(a.status),
                        due=ctx.t("applications.mine_due", due=service.due_text(a)) if a.status in OPEN_STATES else "")
                  for a in apps[:15]]
        ctx.reply("\n".join(lines))

    def _query(self, ctx, cmd: Command) -> None:
        app = service.find(ctx.session, cmd.number)
        if app is None:
            ctx.reply(ctx.t("applications.not_found", number=cmd.number))
            return
        if not service.can_view(ctx.session, app, ctx.user_id, ctx.person):
            ctx.reply(ctx.t("applications.not_yours", number=app.number))
            return
        ctx.reply(service.detail(ctx.session, app, ctx.user_id, ctx.person))

    # --- the committee ------------------------------------------------------------------------
    def _act(self, ctx, action: str, number: int, rest: str = "", card: tuple[str, str] | None = None) -> None:
        app = service.find(ctx.session, number)
        if app is None:
            ctx.reply(ctx.t("applications.not_found", number=number))
            return
        if action in ("return", "refuse", "mismatch") and not rest:
            allowed = (service.may_verify(app, ctx.person) if action == "mismatch"
                       else service.may_decide(ctx.session, app, ctx.person))
            if allowed:  # ask for the reason next
                data = {"action": action, "number": number, "card": list(card) if card else None}
                ctx.state.set(REASON, data, ttl=timedelta(minutes=15), expiry_text=None)
                ctx.reply(ctx.t(f"applications.ask_reason_{action}", number=number))
                return
        person = ctx.person
        try:
            if person is None:
                raise ApplicationError("not_allowed", number=number)
            if action == "approve":
                notices = service.approve(ctx.session, app, person, ctx.now)
            elif action == "return":
                notices = service.return_for_more(ctx.session, app, person, rest, ctx.now)
            elif action == "refuse":
                notices = service.refuse(ctx.session, app, person, rest, ctx.now)
            elif action == "collect":
                notices = service.collect(ctx.session, app, person, ctx.now)
            else:
                notices = service.verify(ctx.session, app, person, action == "confirm", rest, ctx.now)
        except ApplicationError as exc:
            ctx.reply(exc.message)
            return
        ctx.reply(ctx.t(f"applications.done_{action}", number=number))
        send_notices(ctx, notices)
        if card:
            ctx.send_message(ctx.user_id, CARD_UPDATE, service.card_update(app, card[0]),
                             dedupe_key=f"card:{card[0]}"[:200])

    def _approve(self, ctx, cmd: Command) -> None:
        self._act(ctx, "approve", cmd.number)

    def _return(self, ctx, cmd: Command) -> None:
        self._act(ctx, "return", cmd.number, cmd.rest)

    def _refuse(self, ctx, cmd: Command) -> None:
        self._act(ctx, "refuse", cmd.number, cmd.rest)

    def _collect(self, ctx, cmd: Command) -> None:
        self._act(ctx, "collect", cmd.number)

    def _verify(self, ctx, cmd: Command) -> None:
        rest = cmd.rest
        for word in MISMATCH_WORDS:  # 不符 first: 不属实 contains 属实
            if rest.startswith(word):
                return self._act(ctx, "mismatch", cmd.number, rest[len(word):].strip(" ，,：:"))
        for word in CONFIRMED_WORDS:
            if rest.startswith(word):
                return self._act(ctx, "confirm", cmd.number, rest[len(word):].strip(" ，,：:"))
        ctx.reply(ctx.t("applications.verify_how", number=cmd.number))

    def _reason_step(self, msg: Message, ctx, data: dict) -> None:
        if not msg.is_text or parse(msg.text) is not None:
            _reroute(msg, ctx)
            return
        ctx.state.clear()
        card = tuple(data["card"]) if data.get("card") else None
        self._act(ctx, data["action"], data["number"], msg.text.strip(), card)

    def _card(self, msg: Message, ctx) -> None:
        m = CARD_KEY.fullmatch(msg.event_key)
        action, number = m.group(1), int(m.group(2))
        card = (msg.response_code, msg.task_id) if msg.response_code else None
        self._act(ctx, action, number, "", card)


class ApplicationCardClick(Handler):
    """A click on an application card's button (before unreadable events are dropped)."""

    name = "application_card"

    def check(self, msg: Message, ctx) -> bool:
        return msg.msg_type == "event" and msg.event in CARD_EVENTS and CARD_KEY.fullmatch(msg.event_key or "") is not None

    def handle(self, msg: Message, ctx) -> None:
        _COMMANDS.handle(msg, ctx)


_COMMANDS = ApplicationCommands()
