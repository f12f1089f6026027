"""Complaint intake: a resident's problem becomes a ticket in as few messages as the facts allow.

A report is recognised by its shape (something broken, blocked, dangerous, dirty, noisy, owed,
unfair, nobody acting — ``knowledge/ticket_words.yaml``), then classified by category. The intake
asks only for what is missing: the place, if the text names none; a photo is an offer, never a
step; one short confirmation. A report that names its place is filed in two messages (the report,
确认), one that does not in three. Words of immediate danger file at once, urgently, after telling
the resident whom to call, and push the cadres. The draft lives only in conversation state, so
取消 or expiry loses nothing that was filed; the resident's words are kept as written.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import privacy
from bot.models import Patch
from bot.tickets import categories, routing, service
from bot.tickets.words import (
    has_any,
    has_danger_words,
    is_dangerous,
    is_here,
    is_skip,
    is_yes,
    plain,
    report_shapes,
    strip_triggers,
    words,
)
from handlers.base import Handler, Message
from handlers.tickets import send_notices

DRAFT_TTL = timedelta(minutes=30)
EXPIRY_TEXT = "tickets.draft_expired"
MIN_DESCRIPTION = 4  # characters: shorter, with no category or shape, is not yet a description
UNPLACED_ADD_MAX = 12  # characters: a village named under the summary of an unplaced report is added to the place
STEPS = ("complaint_what", "complaint_where", "complaint_confirm", "complaint_kind")
CONSULTATION = "consultation"
REPORT_WORDS = ("反映", "投诉", "报修", "举报", "反映问题", "是反映", "系反映", "问题", "报", "1")
ASK_WORDS = ("咨询", "问", "问问", "想问", "2", "办事")


def looks_like_complaint(text: str) -> bool:
    """Explicit words (投诉, 反映, 报修), the shape of a report (坏了, 冇人理, 好臭), danger, or a
    category keyword in a message that is not a question."""
    p = plain(text)
    if not p:
        return False
    w = words()
    if has_any(p, w.triggers) or has_any(p, w.cues) or report_shapes(text) or is_dangerous(text):
        return True
    if categories.classify(text) is None:
        return False
    return not has_any(p, w.questions)


def reports_too(text: str) -> bool:
    """Whether a question answered from the catalogue also tells of something to report: explicit words
    (投诉, 反映), the shape of a report or danger ("公司唔交社保，我想告佢，要开咩证明"). A category word
    alone is not enough: "医保费点交" asks, it does not report."""
    p = plain(text)
    if not p:
        return False
    w = words()
    return bool(has_any(p, w.triggers) or has_any(p, w.cues) or report_shapes(text) or is_dangerous(text))


def unsure_kind(text: str) -> bool:
    """A category word in a question, with no shape of a report: ask whether it is a report."""
    p = plain(text)
    w = words()
    return (categories.classify(text) is not None and has_any(p, w.questions)
            and not (has_any(p, w.triggers) or has_any(p, w.cues) or report_shapes(text) or is_dangerous(text)))


def described(text: str) -> str:
    """The resident's words as written, without a leading 投诉/反映 and its punctuation."""
    text = text.strip()
    folded = plain(text)
    for trigger in words().triggers:
        if folded.startswith(trigger) and len(folded) > len(trigger) + 1:
            # cut as many characters of the original as the trigger has, then the separators
            cut, seen = 0, 0
            while cut < len(text) and seen < len(trigger):
                if plain(text[cut]):
                    seen += 1
                cut += 1
            return text[cut:].lstrip(" ：:，,。、").strip() or text
    return text


class ComplaintIntake(Handler):
    """Recognise a report and walk the resident through filing it."""

    name = "complaint"
    states = STEPS

    def __init__(self) -> None:
        # the learned readings of a report (its category, danger) train from knowledge/examples/ when the
        # registry is built: a mistake in the files stops the start, and no resident waits for the training
        from bot.tickets.words import danger_model, danger_scorer

        categories.learned_scorer()
        danger_scorer()
        danger_model()

    def check(self, msg: Message, ctx) -> bool:
        if msg.msg_type in ("image", "location"):
            return True
        if not msg.is_text:
            return False
        return looks_like_complaint(msg.text) or unsure_kind(msg.text)

    # --- entry -------------------------------------------------------------------------------
    def handle(self, msg: Message, ctx) -> None:
        if msg.is_text and unsure_kind(msg.text) and not looks_like_complaint(msg.text):
            ctx.state.set("complaint_kind", {"text": msg.text[:1000]}, ttl=DRAFT_TTL, expiry_text=None)
            ctx.reply(ctx.t("tickets.ask_kind"))
            return
        start(self, msg, ctx, msg.text if msg.is_text else "")

    # --- steps -------------------------------------------------------------------------------
    def continue_conversation(self, msg: Message, ctx) -> None:
        state = ctx.state.get()
        draft = dict(state.data or {})
        draft.setdefault("photos", [])
        step = state.name
        if step == "complaint_kind":
            self._kind_answer(msg, ctx, draft)
            return
        if msg.msg_type == "image":
            self._add_photo(draft, msg)
            ctx.reply(ctx.t("tickets.photo_received"))
            self._advance(msg, ctx, draft)
            return
        if msg.msg_type == "location":
            self._set_location(ctx, draft, msg)
            ctx.reply(ctx.t("tickets.location_received", place=draft["address"]))
            self._advance(msg, ctx, draft)
            return
        if not msg.is_text:
            self._advance(msg, ctx, draft)
            return
        text = msg.text.strip()
        # a place given when asked is read for words of danger only ("快啲嚟 着火喇"): the model reads
        # reports, and a street name on its own is no evidence either way
        if not draft.get("danger") and (has_danger_words(text) if step == "complaint_where" else is_dangerous(text)):
            draft["danger"] = True
        if step == "complaint_what":
            self._set_description(ctx, draft, described(text) or text, force=True)
        elif step == "complaint_where":
            self._set_place(ctx, draft, text)
        elif step == "complaint_confirm":
            if draft.get("dups") and self._follow(ctx, draft, text):   # "1": the same as an open ticket
                return
            if is_yes(text):
                self._file(msg, ctx, draft)
                return
            if is_skip(text):  # "没有" (no photo) at the summary: nothing to change
                self._advance(msg, ctx, draft)
                return
            unplaced = draft.get("route_how") == "none"   # the summary asks for the village: "南屏" will do
            if (routing.patch_by_keywords(ctx.session, text) or routing.village_by_text(ctx.session, text)
                    or unplaced and (routing.village_by_core(ctx.session, text) or routing.town_by_text(ctx.session, text))):
                self._set_place(ctx, draft, self._with_unplaced(draft, text))
            else:
                self._set_description(ctx, draft, text, force=True)
        self._advance(msg, ctx, draft)

    def _kind_answer(self, msg: Message, ctx, draft: dict) -> None:
        """The answer to "a report, or a question?"."""
        answer = plain(msg.text) if msg.is_text else ""
        original = draft.get("text", "")
        ctx.state.clear()
        if answer and (answer in REPORT_WORDS or has_any(answer, ("反映", "投诉", "报修", "举报"))):
            start(self, msg, ctx, original)
            return
        from handlers import route

        if answer and (answer in ASK_WORDS or has_any(answer, ("咨询", "想问"))):
            from handlers.certificate import offer_person

            offer_person(ctx, original)
            return
        route(msg, ctx)

    # --- pieces ------------------------------------------------------------------------------
    def _registered(self, ctx) -> Patch | None:
        person = ctx.person
        if person is None or not person.patch:
            return None
        return ctx.session.scalar(select(Patch).where(Patch.code == person.patch))

    def _set_description(self, ctx, draft: dict, text: str, force: bool = False) -> None:
        text = text.strip()
        category = categories.categorize(text)
        if not force and category is None and not report_shapes(text) and len(plain(text)) < MIN_DESCRIPTION:
            return  # "我要投诉": no description yet
        if not text:
            return
        draft["description"] = text
        draft["category"] = category.id if category else draft.get("category") or categories.FALLBACK_ID
        if is_dangerous(text):
            draft["danger"] = True
        if not draft.get("place"):
            self._place_from_text(ctx, draft, text)

    def _place_from_text(self, ctx, draft: dict, text: str) -> None:
        """A place named in the report itself: a patch's street or landmark, or a village or town."""
        found = routing.patch_by_keywords(ctx.session, text)
        if found:
            draft["address"], draft["place"] = found[1], "address"
            self._route(ctx, draft)
            return
        village = routing.village_by_text(ctx.session, text) or routing.village_by_core(ctx.session, text)
        if village:
            draft["address"], draft["place"] = routing.short_village(village[0]), "named"
            self._route(ctx, draft)

    def _set_place(self, ctx, draft: dict, text: str) -> None:
        named_place = routing.patch_by_keywords(ctx.session, text)
        if is_here(text) and not named_place and self._registered(ctx):
            draft["place"] = "registered"
            draft.pop("address", None)
        else:
            draft["address"] = text
            draft["place"] = "address"
        self._route(ctx, draft)

    @staticmethod
    def _with_unplaced(draft: dict, text: str) -> str:
        """A village named after a place no roster knew ("幸福楼门口", then "南屏村"): both are kept."""
        address = draft.get("address") or ""
        if draft.get("route_how") == "none" and address and len(plain(text)) <= UNPLACED_ADD_MAX:
            return f"{text.strip()} {address}"
        return text

    def _add_photo(self, draft: dict, msg: Message) -> None:
        draft.setdefault("photos", []).append([msg.media_id, msg.pic_url])

    def _set_location(self, ctx, draft: dict, msg: Message) -> None:
        draft["lat"], draft["lng"] = msg.lat, msg.lng
        draft["address"] = msg.label or f"{msg.lat:.5f},{msg.lng:.5f}"
        draft["place"] = "location"
        self._route(ctx, draft)

    def _route(self, ctx, draft: dict) -> None:
        person = ctx.person
        how = draft.get("place")
        r = routing.route(ctx.session,
                          text=draft.get("address", "") if how in ("address", "named") else "",
                          lat=draft.get("lat") if how == "location" else None,
                          lng=draft.get("lng") if how == "location" else None,
                          registered=person.patch if person and how in ("registered", None) else None,
                          village_hint=(person.village if person else None) or draft.get("address"))
        if r.how == "none" and how in ("address", "named") and person and person.patch:
            r = routing.route(ctx.session, registered=person.patch)  # an address we cannot place: their patch
        draft["patch_code"] = r.patch.code if r.patch else None
        draft["village"], draft["town"], draft["route_how"] = r.village, r.town, r.how
        draft.pop("dup_done", None)

    def _advance(self, msg: Message, ctx, draft: dict, repeat: bool = True) -> None:
        """Ask for the next missing piece, file an emergency, or show the summary."""
        if not draft.get("description"):
            return self._ask(ctx, "complaint_what", draft, ctx.t("tickets.ask_what"), repeat)
        danger = draft.get("danger")
        warn = ""
        if danger and not draft.get("warned"):
            draft["warned"] = True
            warn = self._warn(msg, ctx, draft)
        if not draft.get("place"):
            patch = self._registered(ctx)
            key = "tickets.ask_where_default" if patch else "tickets.ask_where"
            text = ctx.t(key + ("_kf" if ctx.channel == "kf" else ""), place=patch.name if patch else "")
            return self._ask(ctx, "complaint_where", draft, "\n".join(x for x in (warn, text) if x), repeat)
        if danger:
            if warn:
                ctx.reply(warn)
            return self._file(msg, ctx, draft)
        if not draft.get("dup_done"):
            located = draft.get("place") == "location"
            patch = draft.get("patch_code") if draft.get("route_how") in ("address", "registered") else None
            dups = service.open_duplicates(ctx.session, patch, draft["category"],
                                           lat=draft.get("lat") if located else None,
                                           lng=draft.get("lng") if located else None)
            dups = [tk for tk in dups if tk.reporter_userid != ctx.user_id] or dups
            draft["dups"] = [tk.number for tk in dups]
            draft["dup_done"] = True
        return self._ask(ctx, "complaint_confirm", draft, self._summary(ctx, draft), repeat)

    def _duplicates_text(self, ctx, draft: dict) -> str:
        """The open tickets nearby, offered to follow instead (category, place and status only: never
        another resident's words), as part of the one confirmation."""
        tickets = [tk for tk in (service.find(ctx.session, n) for n in draft.get("dups") or []) if tk]
        if not tickets:
            return ""
        lines = "\n".join(ctx.t("tickets.duplicate_line", index=i, number=tk.number, category=tk.service_name,
                                place=service.public_place(tk, ctx.session), status=service.status_name(tk.status))
                          for i, tk in enumerate(tickets, start=1))
        choices = "1" if len(tickets) == 1 else "/".join(str(i) for i in range(1, len(tickets) + 1))
        return ctx.t("tickets.duplicate_offer", list=lines, choices=choices)

    def _ask(self, ctx, step: str, draft: dict, text: str, repeat: bool = True) -> None:
        ctx.state.set(step, draft, ttl=DRAFT_TTL, expiry_text=EXPIRY_TEXT)
        if repeat:
            ctx.reply(text)

    def _place_text(self, ctx, draft: dict) -> str:
        if draft.get("route_how") == "registered" and draft.get("place") == "registered":
            patch = ctx.session.scalar(select(Patch).where(Patch.code == draft["patch_code"]))
            return ctx.t("tickets.registered_place", patch=patch.name if patch else draft["patch_code"])
        if draft.get("address") and draft.get("route_how") == "none":
            return ctx.t("tickets.place_unplaced", place=draft["address"])   # no village known: the cadres dispatch
        if draft.get("address"):
            return draft["address"]
        return ctx.t("tickets.place_unknown")

    def _summary(self, ctx, draft: dict) -> str:
        photos = draft.get("photos") or []
        photo = ctx.t("tickets.photo_yes", count=len(photos)) if photos else ctx.t(
            "tickets.photo_offer_kf" if ctx.channel == "kf" else "tickets.photo_offer")
        summary = ctx.t("tickets.summary", category=categories.get(draft["category"]).name,
                        place=self._place_text(ctx, draft), description=draft["description"], photo=photo)
        offer = self._duplicates_text(ctx, draft)
        return f"{offer}\n\n{summary}" if offer else summary

    def _follow(self, ctx, draft: dict, text: str) -> bool:
        """"1" (or "是"): follow the offered ticket instead of filing a new one."""
        numbers = draft.get("dups") or []
        p = plain(text)
        index = None
        if p.isdigit() and 1 <= int(p) <= len(numbers):
            index = int(p) - 1
        elif has_any(p, ("关注", "同一件", "系同一", "是同一")) and numbers:
            index = 0
        if index is None:
            return False
        ticket = service.find(ctx.session, numbers[index])
        if ticket is None:
            return False
        service.follow(ctx.session, ticket, ctx.user_id, ctx.channel)
        ctx.state.clear()
        ctx.reply(ctx.t("tickets.followed", number=ticket.number, status=service.status_name(ticket.status)))
        return True

    def _file(self, msg: Message, ctx, draft: dict) -> None:
        category = categories.get(draft["category"])
        patch = (ctx.session.scalar(select(Patch).where(Patch.code == draft["patch_code"]))
                 if draft.get("patch_code") else None)
        route = routing.Route(patch, draft.get("village"), draft.get("town"), draft.get("route_how") or "none")
        address = draft.get("address") if draft.get("place") != "registered" else None
        ticket, notices = service.create_ticket(
            ctx.session, reporter=ctx.user_id, reporter_channel=ctx.channel, category=category,
            description=draft["description"], route=route, address=address, lat=draft.get("lat"),
            lng=draft.get("lng"), photos=[tuple(p) for p in draft.get("photos") or []],
            inbound_id=msg.inbound_id, now=ctx.now, urgency="emergency" if draft.get("danger") else None,
            on_behalf_of=draft.get("on_behalf_of"))
        send_notices(ctx, notices)
        ctx.state.clear()
        worker = routing.grid_worker_for(ctx.session, ticket.patch_code) if ticket.assignee_userid else None
        who = ctx.t("tickets.filed_worker", name=worker.name) if worker else ctx.t("tickets.filed_cadre")
        key = ("tickets.filed" if not draft.get("danger")
               else "tickets.filed_urgent" if worker else "tickets.filed_urgent_cadres")
        ctx.reply(ctx.t(key, number=ticket.number, category=ticket.service_name, worker=who,
                        response=service.response_text(ticket), expected=service.expected_text(ticket)))

    def _warn(self, msg: Message, ctx, draft: dict) -> str:
        """Danger: whom to call now, and the cadres (and the patch's worker) pushed at once."""
        text = draft.get("description", "")
        emergency = categories.detect_emergency(text)
        person = ctx.person
        r = routing.route(ctx.session, text=text, registered=person.patch if person else None,
                          village_hint=(person.village if person else None) or draft.get("address"))
        if draft.get("village") or draft.get("patch_code"):
            patch = (ctx.session.scalar(select(Patch).where(Patch.code == draft["patch_code"]))
                     if draft.get("patch_code") else None)
            r = routing.Route(patch, draft.get("village"), draft.get("town"), draft.get("route_how") or "none")
        place = draft.get("address") or (r.patch.name if r.patch else "") or ctx.t("tickets.place_unknown")
        targets = [c.userid for c in routing.cadres_for(ctx.session, r.village, r.town)]
        worker = routing.grid_worker_for(ctx.session, r.patch.code if r.patch else None)
        if worker is not None:
            targets.append(worker.userid)
        call = emergency.call if emergency else "110"
        name = emergency.name if emergency else ctx.t("tickets.danger_name")
        for userid in dict.fromkeys(targets):
            assigned = worker is not None and userid == worker.userid
            push = ctx.t("tickets.emergency_push",
                         reporter=person.name if person else ctx.t("tickets.reporter_unknown"),
                         phone=(person.mobile if person and person.mobile else ctx.t("tickets.phone_unknown")),
                         name=name, text=privacy.for_viewer(text, assigned), place=place, call=call)
            ctx.send(userid, push, dedupe_key=f"emergency:{msg.inbound_id}:{userid}")
        if emergency:
            return ctx.t("tickets.emergency", call=emergency.call, name=emergency.name)
        return ctx.t("tickets.danger")


def start(handler: ComplaintIntake, msg: Message, ctx, text: str, extra: dict | None = None) -> None:
    """Begin an intake from ``msg`` (a text, a photo or a location), with any ``extra`` draft fields
    (代报: ``on_behalf_of``, the neighbour a building head reports for)."""
    draft: dict = {"photos": [], **(extra or {})}
    if msg.msg_type == "image":
        handler._add_photo(draft, msg)
    elif msg.msg_type == "location":
        handler._set_location(ctx, draft, msg)
    if text and plain(strip_triggers(text)):   # "我要投诉" alone: ask what happened
        handler._set_description(ctx, draft, described(text), force=len(plain(strip_triggers(text))) >= 2)
    handler._advance(msg, ctx, draft)


def file_consultation(ctx, text: str) -> int | None:
    """A question nobody could answer, passed to the committee as a ticket they must close."""
    person = ctx.person
    r = routing.route(ctx.session, registered=person.patch if person else None,
                      village_hint=(person.village if person else None))
    ticket, notices = service.create_ticket(
        ctx.session, reporter=ctx.user_id, reporter_channel=ctx.channel, category=categories.get(CONSULTATION),
        description=text, route=r, now=ctx.now)
    send_notices(ctx, notices)
    return ticket.number
