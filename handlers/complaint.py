"""Complaint intake: a resident's problem becomes a ticket, one question at a time.

Steps: what → where → (same as an open ticket?) → photo → confirm. The draft lives only in
conversation state, so 取消 or expiry loses nothing that was filed. Emergencies get the phone
number first and a cadre is pushed at once.
"""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot import privacy
from bot.models import Patch
from bot.tickets import categories, routing, service
from bot.tickets.words import has_any, is_here, is_skip, is_yes, plain, strip_triggers, words
from handlers.base import Handler, Message
from handlers.tickets import send_notices

DRAFT_TTL = timedelta(minutes=30)
EXPIRY_TEXT = "tickets.draft_expired"
MIN_DESCRIPTION = 4  # characters: shorter, with no category, is not yet a description
STEPS = ("complaint_what", "complaint_where", "complaint_duplicate", "complaint_photo", "complaint_confirm")


def looks_like_complaint(text: str) -> bool:
    """Explicit words (投诉, 反映, 报修), problem cues (坏了, 冇人理), or a category keyword in a non-question."""
    p = plain(text)
    if not p:
        return False
    w = words()
    if has_any(p, w.triggers) or has_any(p, w.cues):
        return True
    if categories.classify(text) is None:
        return False
    return not has_any(p, w.questions)


class ComplaintIntake(Handler):
    """Recognise a complaint and walk the resident through filing it."""

    name = "complaint"
    states = STEPS

    def check(self, msg: Message, ctx) -> bool:
        if msg.msg_type in ("image", "location"):
            return True
        if not msg.is_text:
            return False
        return categories.detect_emergency(msg.text) is not None or looks_like_complaint(msg.text)

    # --- entry -------------------------------------------------------------------------------
    def handle(self, msg: Message, ctx) -> None:
        start(self, msg, ctx, msg.text)

    # --- steps -------------------------------------------------------------------------------
    def continue_conversation(self, msg: Message, ctx) -> None:
        state = ctx.state.get()
        draft = dict(state.data or {})
        draft.setdefault("photos", [])
        if msg.is_text and self._emergency(msg, ctx, msg.text, draft):
            return
        if msg.msg_type == "image":
            self._add_photo(draft, msg)
            if state.name == "complaint_photo":
                draft["photo_done"] = True
            ctx.reply(ctx.t("tickets.photo_received"))
            self._advance(ctx, draft)
            return
        if msg.msg_type == "location":
            self._set_location(ctx, draft, msg)
            ctx.reply(ctx.t("tickets.location_received", place=draft["address"]))
            self._advance(ctx, draft)
            return
        if not msg.is_text:
            self._advance(ctx, draft)
            return
        text = msg.text.strip()
        step = state.name
        if step == "complaint_what":
            self._set_description(ctx, draft, strip_triggers(text) or text, force=True)
        elif step == "complaint_where":
            named_place = routing.patch_by_keywords(ctx.session, text)
            if is_here(text) and not named_place and self._registered(ctx):
                draft["place"] = "registered"
            else:
                draft["address"] = text
                draft["place"] = "address"
            self._route(ctx, draft)
        elif step == "complaint_duplicate":
            if self._follow(ctx, draft, text):
                return
            draft["dup_done"] = True
        elif step == "complaint_photo":
            draft["photo_done"] = True
            # "没有", "好", "1" and the like mean no photo; a real sentence adds to the description
            if not (is_skip(text) or is_yes(text) or len(text) <= 2):
                draft["description"] = f"{draft['description']}；{text}"
        elif step == "complaint_confirm":
            if is_yes(text):
                self._file(msg, ctx, draft)
                return
            if routing.patch_by_keywords(ctx.session, text) or routing.village_by_text(ctx.session, text):
                draft["address"] = text
                draft["place"] = "address"
                self._route(ctx, draft)
            else:
                self._set_description(ctx, draft, text, force=True)
        self._advance(ctx, draft)

    # --- pieces ------------------------------------------------------------------------------
    def _registered(self, ctx) -> Patch | None:
        person = ctx.person
        if person is None or not person.patch:
            return None
        return ctx.session.scalar(select(Patch).where(Patch.code == person.patch))

    def _set_description(self, ctx, draft: dict, text: str, force: bool = False) -> None:
        text = text.strip()
        category = categories.classify(text)
        if not force and category is None and len(plain(text)) < MIN_DESCRIPTION:
            return  # "我要投诉": no description yet
        if not text:
            return
        draft["description"] = text
        draft["category"] = category.id if category else draft.get("category") or categories.FALLBACK_ID
        if not draft.get("place"):
            found = routing.patch_by_keywords(ctx.session, text)
            if found:
                draft["address"] = found[1]
                draft["place"] = "address"
                self._route(ctx, draft)

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
                          text=draft.get("address", "") if how == "address" else "",
                          lat=draft.get("lat") if how == "location" else None,
                          lng=draft.get("lng") if how == "location" else None,
                          registered=person.patch if person else None,
                          village_hint=(person.village if person else None) or draft.get("address"))
        draft["patch_code"] = r.patch.code if r.patch else None
        draft["village"], draft["town"], draft["route_how"] = r.village, r.town, r.how
        draft.pop("dup_done", None)

    def _advance(self, ctx, draft: dict) -> None:
        """Ask for the next missing piece, or show the summary."""
        if not draft.get("description"):
            return self._ask(ctx, "complaint_what", draft, ctx.t("tickets.ask_what"))
        if not draft.get("place"):
            patch = self._registered(ctx)
            text = (ctx.t("tickets.ask_where_default", place=patch.name) if patch else ctx.t("tickets.ask_where"))
            return self._ask(ctx, "complaint_where", draft, text)
        if not draft.get("dup_done"):
            located = draft.get("place") == "location"
            patch = draft.get("patch_code") if draft.get("route_how") in ("address", "registered") else None
            dups = service.open_duplicates(ctx.session, patch, draft["category"],
                                           lat=draft.get("lat") if located else None,
                                           lng=draft.get("lng") if located else None)
            dups = [tk for tk in dups if tk.reporter_userid != ctx.user_id] or dups
            if dups:
                draft["dups"] = [tk.number for tk in dups]
                # category, place and status only: never another resident's words
                lines = "\n".join(ctx.t("tickets.duplicate_line", index=i, number=tk.number,
                                        category=tk.service_name, place=service.public_place(tk, ctx.session),
                                        status=service.status_name(tk.status))
                                  for i, tk in enumerate(dups, start=1))
                choices = "1" if len(dups) == 1 else "/".join(str(i) for i in range(1, len(dups) + 1))
                return self._ask(ctx, "complaint_duplicate", draft,
                                 ctx.t("tickets.duplicate_offer", list=lines, choices=choices))
            draft["dup_done"] = True
        if not draft.get("photo_done"):
            return self._ask(ctx, "complaint_photo", draft, ctx.t("tickets.ask_photo"))
        return self._ask(ctx, "complaint_confirm", draft, self._summary(ctx, draft))

    def _ask(self, ctx, step: str, draft: dict, text: str) -> None:
        ctx.state.set(step, draft, ttl=DRAFT_TTL, expiry_text=EXPIRY_TEXT)
        ctx.reply(text)

    def _place_text(self, ctx, draft: dict) -> str:
        if draft.get("route_how") == "registered" and draft.get("place") == "registered":
            patch = ctx.session.scalar(select(Patch).where(Patch.code == draft["patch_code"]))
            return ctx.t("tickets.registered_place", patch=patch.name if patch else draft["patch_code"])
        if draft.get("address"):
            return draft["address"]
        return ctx.t("tickets.place_unknown")

    def _summary(self, ctx, draft: dict) -> str:
        photos = draft.get("photos") or []
        return ctx.t("tickets.summary", category=categories.get(draft["category"]).name,
                     place=self._place_text(ctx, draft), description=draft["description"],
                     photo=ctx.t("tickets.photo_yes", count=len(photos)) if photos else ctx.t("tickets.photo_no"))

    def _follow(self, ctx, draft: dict, text: str) -> bool:
        """"1" (or "是"): follow the offered ticket instead of filing a new one."""
        numbers = draft.get("dups") or []
        p = plain(text)
        index = None
        if p.isdigit() and 1 <= int(p) <= len(numbers):
            index = int(p) - 1
        elif p != "0" and is_yes(text) and numbers:
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
            inbound_id=msg.inbound_id, now=ctx.now, on_behalf_of=draft.get("on_behalf_of"))
        send_notices(ctx, notices)
        ctx.state.clear()
        worker = routing.grid_worker_for(ctx.session, ticket.patch_code) if ticket.assignee_userid else None
        who = ctx.t("tickets.filed_worker", name=worker.name) if worker else ctx.t("tickets.filed_cadre")
        ctx.reply(ctx.t("tickets.filed", number=ticket.number, category=ticket.service_name, worker=who,
                        response=service.response_text(ticket),
                        expected=service.expected_text(ticket)))

    def _emergency(self, msg: Message, ctx, text: str, draft: dict | None = None) -> bool:
        """Fire, gas, injury, flood, violence: phone first, and push the cadres now."""
        emergency = categories.detect_emergency(text)
        if emergency is None:
            return False
        person = ctx.person
        r = routing.route(ctx.session, text=text, registered=person.patch if person else None,
                          village_hint=person.village if person else None)
        place = (draft or {}).get("address") or (r.patch.name if r.patch else "") or ctx.t("tickets.place_unknown")
        targets = [c.userid for c in routing.cadres_for(ctx.session, r.village, r.town)]
        worker = routing.grid_worker_for(ctx.session, r.patch.code if r.patch else None)
        if worker is not None:
            targets.append(worker.userid)
        for userid in dict.fromkeys(targets):
            assigned = worker is not None and userid == worker.userid
            push = ctx.t("tickets.emergency_push",
                         reporter=person.name if person else ctx.t("tickets.reporter_unknown"),
                         phone=(person.mobile if person and person.mobile else ctx.t("tickets.phone_unknown")),
                         name=emergency.name, text=privacy.for_viewer(text, assigned), place=place,
                         call=emergency.call)
            ctx.send(userid, push, dedupe_key=f"emergency:{msg.inbound_id}:{userid}")
        ctx.state.clear()
        ctx.reply(ctx.t("tickets.emergency", call=emergency.call, name=emergency.name))
        return True


def start(handler: ComplaintIntake, msg: Message, ctx, text: str, extra: dict | None = None) -> None:
    """Begin an intake from ``msg`` (a text, a photo or a location), with any ``extra`` draft fields
    (代报: ``on_behalf_of``, the neighbour a building head reports for)."""
    draft: dict = {"photos": [], **(extra or {})}
    if msg.msg_type == "image":
        handler._add_photo(draft, msg)
        draft["photo_done"] = True
    elif msg.msg_type == "location":
        handler._set_location(ctx, draft, msg)
    else:
        if handler._emergency(msg, ctx, text):
            return
        handler._set_description(ctx, draft, strip_triggers(text))
    handler._advance(ctx, draft)
