"""Every change to an application goes through here: one function per action.

Each function checks who may act (only the village's cadres decide; only the patch's grid worker
verifies) and whether the state allows it (``bot.applications.states``), records an
``ApplicationEvent``, and returns the notices to send; the caller queues them in the same
transaction (``handlers.tickets.send_notices``). ID-card numbers are masked in every notice; the
full number is only in the filled document and in the village cadres' detail view.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from bot import evidence, privacy, texts
from bot.applications import documents, states
from bot.applications.fields import Form, form_for
from bot.db import add_unique
from bot.models import Application, ApplicationEvent, ApplicationMedia, Patch, Person
from bot.tickets import routing
from bot.tickets.service import Notice
from bot.timeutil import fmt_local, to_local, utcnow
from bot.workdays import add_working_days

SYSTEM = "system"
REGISTER_SUFFIXES = ("社区居民委员会", "社区居委会", "村民委员会", "居民委员会", "村委会", "居委会", "委员会", "社区")


def t(key: str, **fields) -> str:
    """An applications text."""
    return texts.t(f"applications.{key}", **fields)


class ApplicationError(Exception):
    """A refused action; ``message`` is the user-facing text."""

    def __init__(self, key: str, **fields):
        super().__init__(key)
        self.key = key
        self.fields = fields

    @property
    def message(self) -> str:
        return t(self.key, **self.fields)


# --- reading ----------------------------------------------------------------------------------

def find(session: Session, number: int) -> Application | None:
    """The application ``#A<number>``."""
    if not 0 < number < 2**31:
        return None
    return session.scalar(select(Application).where(Application.number == number))


def of_applicant(session: Session, userid: str, limit: int = 10) -> list[Application]:
    """A resident's applications, newest first."""
    return list(session.scalars(select(Application).where(Application.applicant_userid == userid)
                                .order_by(Application.id.desc()).limit(limit)))


def in_jurisdiction(jurisdiction: str | None):
    """The SQL condition: an application of this village (or of a village in this town)."""
    return (Application.village == jurisdiction) | (Application.town == jurisdiction)


def pending_for(session: Session, person: Person) -> list[Application]:
    """What waits for this person: a grid worker's verifications, a cadre's open and ready applications."""
    query = select(Application).where(Application.status.in_(states.of_type("open") + states.of_type("ready")))
    if person.role == "cadre":
        query = query.where(in_jurisdiction(person.jurisdiction))
    else:
        query = query.where(Application.status == "verifying", Application.verifier_userid == person.userid)
    return list(session.scalars(query.order_by(Application.number)))


def deciders(session: Session, app: Application) -> list[Person]:
    """The cadres who decide: the village's, else (a village without cadres on the roster) the town's."""
    for place in (app.village, app.town):
        if place:
            found = list(session.scalars(select(Person).where(Person.role == "cadre", Person.jurisdiction == place)
                                         .order_by(Person.id)))
            if found:
                return found
    return []


def town_cadres(session: Session, app: Application) -> list[Person]:
    """The town's cadres (escalation)."""
    if not app.town:
        return []
    return list(session.scalars(select(Person).where(Person.role == "cadre", Person.jurisdiction == app.town)
                                .order_by(Person.id)))


def may_decide(session: Session, app: Application, person: Person | None) -> bool:
    """Only a cadre of the application's village (or its town, when the village has none)."""
    return person is not None and person.role == "cadre" and any(
        c.userid == person.userid for c in deciders(session, app))


def may_verify(app: Application, person: Person | None) -> bool:
    """Only the grid worker the application was sent to."""
    return person is not None and app.verifier_userid is not None and person.userid == app.verifier_userid


def can_view(session: Session, app: Application, userid: str, person: Person | None) -> bool:
    """The applicant, the grid worker, the deciding cadres, and the town's cadres (who are told when it is late)."""
    town = person is not None and person.role == "cadre" and bool(app.town) and person.jurisdiction == app.town
    return userid == app.applicant_userid or may_verify(app, person) or may_decide(session, app, person) or town


def status_name(status: str) -> str:
    """The status as residents read it."""
    return t(f"status_{status}")


def label(app: Application) -> str:
    """#A12."""
    return f"#A{app.number}"


def form_of(app: Application) -> Form | None:
    """The application form of the certificate applied for."""
    return form_for(app.certificate_id)


def field_lines(app: Application, full_id: bool = False) -> str:
    """姓名：… one line per answer, ID-card numbers masked unless ``full_id`` (the village's cadres)."""
    form = form_of(app)
    values = app.fields or {}
    lines = []
    for f in (form.fields if form else ()):
        if f.key not in values:
            continue
        value = values[f.key]
        if f.kind == "id_number":
            value = value if full_id else app.id_masked
        else:
            value = privacy.mask(value)
        lines.append(t("field_line", label=f.label, value=value))
    if not values and app.erased_at:
        lines.append(t("erased_line", name=app.applicant_name, id=app.id_masked))
    return "\n".join(lines)


def materials_line(app: Application) -> str:
    """身份证（正反面）2张、房产证或租赁合同1张."""
    form = form_of(app)
    names = {m.key: m.label for m in (form.materials if form else ())}
    counts: dict[str, int] = {}
    for m in app.media:
        counts[m.material] = counts.get(m.material, 0) + 1
    if not counts:
        return t("materials_none")
    return "、".join(t("materials_item", label=names.get(k, t("supplement_label")), count=n) for k, n in counts.items())


def due_text(app: Application) -> str:
    """The deadline as people read it."""
    return fmt_local(app.due_at) if app.due_at else t("due_none")


def roster_line(session: Session, app: Application) -> str:
    """What the roster says about the applicant, for the committee."""
    if app.roster == "matched":
        return t("roster_matched")
    if app.roster == "name_differs":
        person = session.scalar(select(Person).where(Person.userid == app.applicant_userid))
        return t("roster_name_differs", roster_name=person.name if person else "")
    return t("roster_missing", village=app.village)


def verify_line(app: Application) -> str:
    """What the grid worker found, for the committee."""
    if app.verify_result == "confirmed":
        return t("verify_line_confirmed")
    if app.verify_result == "mismatch":
        return t("verify_line_mismatch", note=privacy.mask(app.verify_note or ""))
    if app.status == "verifying":
        return t("verify_line_waiting")
    return ""


def _fields(session: Session, app: Application, full_id: bool = False) -> dict:
    return {"number": app.number, "certificate": app.certificate_name, "applicant": app.applicant_name,
            "fields": field_lines(app, full_id), "materials": materials_line(app), "due": due_text(app),
            "status": status_name(app.status), "roster": roster_line(session, app), "verify": verify_line(app),
            "village": app.village, "requested": fmt_local(app.requested_at),
            "notes": privacy.mask(app.status_notes or ""), "register_number": app.register_number or ""}


# --- writing ----------------------------------------------------------------------------------

def _actor(actor: Person | str) -> tuple[str, str]:
    if isinstance(actor, Person):
        return actor.userid, actor.role
    return str(actor), "system" if actor == SYSTEM else "resident"


def add_event(session: Session, app: Application, actor: Person | str, action: str, note: str | None = None, *,
              from_status: str | None = None, to_status: str | None = None,
              now: datetime | None = None) -> ApplicationEvent:
    """Record one history entry."""
    userid, role = _actor(actor)
    event = ApplicationEvent(application=app, actor=userid, actor_role=role, action=action, note=note or None,
                             from_status=from_status, to_status=to_status, at=now or utcnow())
    session.add(event)
    session.flush()
    return event


def _move(session: Session, app: Application, actor: Person | str, action: str, note: str | None,
          now: datetime) -> ApplicationEvent:
    try:
        new = states.next_state(app.status, action)
    except states.IllegalTransition:
        raise ApplicationError("illegal", number=app.number, status=status_name(app.status),
                               action=t(f"action_{action}")) from None
    old = app.status
    app.status = new
    app.updated_at = now
    if states.is_closed(new):
        app.closed_at = now
    return add_event(session, app, actor, action, note, from_status=old, to_status=new, now=now)


def _allocate_number(session: Session, app: Application) -> None:
    for _ in range(20):
        app.number = (session.scalar(select(func.max(Application.number))) or 0) + 1
        if add_unique(session, app):
            return
    raise RuntimeError("could not allocate an application number")


def roster_status(session: Session, person: Person | None, village: str, name: str) -> str:
    """matched / name_differs when the applicant is on the village's roster, else not_on_roster."""
    if person is None or not person.name:   # a WeChat resident who only told us where they live
        return "not_on_roster"
    person_village = person.village
    if person.patch:
        person_village = session.scalar(select(Patch.village).where(Patch.code == person.patch)) or person_village
    if person_village != village or not person.patch:
        return "not_on_roster"
    return "matched" if not name or name == person.name else "name_differs"


def submit(session: Session, *, form: Form, applicant: str, channel: str, person: Person | None, values: dict,
           photos: dict[str, list], village: str, town: str | None, patch_code: str | None,
           inbound_id: int | None = None, now: datetime | None = None) -> tuple[Application, list[Notice]]:
    """File an application; send it to the patch's grid worker first when the entry says so, else to the
    village's cadres. ``photos`` maps a material key to [media_id, pic_url] pairs."""
    if inbound_id is not None:
        existing = session.scalar(select(Application).where(Application.inbound_id == inbound_id))
        if existing is not None:
            return existing, []
    now = now or utcnow()
    id_key = next((f.key for f in form.fields if f.kind == "id_number"), None)
    name_key = next((f.key for f in form.fields if f.kind == "name"), None)
    id_number = values.get(id_key) if id_key else None
    worker = routing.grid_worker_for(session, patch_code) if form.verify_by_grid_worker else None
    app = Application(inbound_id=inbound_id, certificate_id=form.entry.id, certificate_name=form.entry.name,
                      status="verifying" if worker else "submitted", applicant_userid=applicant,
                      applicant_channel=channel, applicant_name=values.get(name_key, "") if name_key else "",
                      id_number=id_number, id_masked=privacy.mask_ids(id_number) if id_number else "",
                      fields=dict(values), roster=roster_status(session, person, village, values.get(name_key, "")),
                      village=village, town=town, patch_code=patch_code,
                      verifier_userid=worker.userid if worker else None,
                      requested_at=now, updated_at=now, due_at=add_working_days(now, form.days))
    _allocate_number(session, app)
    saved = [ApplicationMedia(application=app, material=material, media_id=media_id or None,
                              pic_url=pic_url or None, added_at=now)
             for material, items in photos.items() for media_id, pic_url in items]
    session.add_all(saved)
    session.flush()
    for media in saved:
        evidence.note_saved(session, media)   # a durable copy before WeCom's 3 days run out
    event = add_event(session, app, person or applicant, "submit", to_status=app.status, now=now)
    if worker:
        return app, _to_verifier(session, app, event)
    return app, _to_deciders(session, app, event, "push_new")


def _to_verifier(session: Session, app: Application, event: ApplicationEvent) -> list[Notice]:
    key = f"app:{app.id}:ev{event.id}:{app.verifier_userid}"
    fields = _fields(session, app)
    return [Notice(app.verifier_userid, t("push_verify", **fields), f"{key}:text"),
            Notice(app.verifier_userid, dedupe_key=f"{key}:card", msgtype="template_card",
                   body=card(app, fields, f"app-{app.id}-{event.id}", verify=True))]


def _to_deciders(session: Session, app: Application, event: ApplicationEvent, template: str,
                 media: list[ApplicationMedia] | None = None, **extra) -> list[Notice]:
    """The application for the village's cadres: the text (masked), the photos (``media``, else all), a card."""
    notices = []
    fields = {**_fields(session, app), **extra}
    photos = [m for m in (app.media if media is None else media) if m.media_id]
    for cadre in deciders(session, app):
        key = f"app:{app.id}:ev{event.id}:{cadre.userid}"
        notices.append(Notice(cadre.userid, t(template, **fields), f"{key}:text"))
        for n, media_row in enumerate(photos):
            notices.append(Notice(cadre.userid, dedupe_key=f"{key}:image{n}", msgtype="image",
                                  body={"media_id": media_row.media_id}))
        notices.append(Notice(cadre.userid, dedupe_key=f"{key}:card", msgtype="template_card",
                              body=card(app, fields, f"app-{app.id}-{event.id}")))
    return notices


def card(app: Application, fields: dict, task_id: str, verify: bool = False) -> dict:
    """A button_interaction card: 通过 / 退回补充 / 不予出具 for cadres, 属实 / 不符 for the grid worker."""
    if verify:
        buttons = [{"text": t("card_confirm"), "style": 1, "key": f"app:confirm:{app.number}"},
                   {"text": t("card_mismatch"), "style": 2, "key": f"app:mismatch:{app.number}"}]
    else:
        buttons = [{"text": t("card_approve"), "style": 1, "key": f"app:approve:{app.number}"},
                   {"text": t("card_return"), "style": 2, "key": f"app:return:{app.number}"},
                   {"text": t("card_refuse"), "style": 2, "key": f"app:refuse:{app.number}"}]
    content = [{"keyname": t("card_applicant"), "value": f"{app.applicant_name} {app.id_masked}".strip()[:60]},
               {"keyname": t("card_due"), "value": fields["due"]}]
    if not verify and app.verify_result:
        content.append({"keyname": t("card_verify"), "value": verify_line(app)[:60]})
    return {"card_type": "button_interaction",
            "main_title": {"title": t("card_title", number=app.number), "desc": app.certificate_name},
            "sub_title_text": fields["roster"][:100],
            "horizontal_content_list": content, "task_id": task_id, "button_list": buttons}


def card_update(app: Application, response_code: str) -> dict:
    """Make a clicked card say where the application stands (its buttons no longer apply)."""
    return {"response_code": response_code, "button": {"replace_name": t(f"card_done_{app.status}")}}


def _to_applicant(app: Application, event: ApplicationEvent, text: str) -> Notice:
    return Notice(app.applicant_userid, text, f"app:{app.id}:ev{event.id}:applicant", channel=app.applicant_channel)


def verify(session: Session, app: Application, person: Person, confirmed: bool, note: str,
           now: datetime | None = None) -> list[Notice]:
    """The grid worker's 核实: 属实, or 不符 with the reason. Either way it goes on to the cadres, who decide."""
    now = now or utcnow()
    if not may_verify(app, person):
        raise ApplicationError("not_verifier", number=app.number)
    if not confirmed and not note:
        raise ApplicationError("need_mismatch_reason", number=app.number)
    event = _move(session, app, person, "verify", note, now)
    app.verify_result = "confirmed" if confirmed else "mismatch"
    app.verify_note = note or None
    app.verified_at = now
    notices = _to_deciders(session, app, event, "push_verified")
    # the resident hears where it went, not what the grid worker found: the cadres decide on it
    notices.append(_to_applicant(app, event, t("told_verified" if confirmed else "told_to_committee",
                                               number=app.number, certificate=app.certificate_name)))
    return notices


def next_register_number(session: Session, app: Application, now: datetime) -> None:
    """楼冈〔2026〕第0012号: per village, per (China) year, in approval order."""
    year = to_local(now).year
    short = app.village
    for suffix in REGISTER_SUFFIXES:
        if short.endswith(suffix) and len(short) > len(suffix):
            short = short[: -len(suffix)]
            break
    for _ in range(20):
        seq = (session.scalar(select(func.max(Application.register_seq)).where(
            Application.village == app.village, Application.register_year == year)) or 0) + 1
        try:
            with session.begin_nested():
                app.register_year, app.register_seq = year, seq
                app.register_number = t("register_number", village=short, year=year, seq=f"{seq:04d}")
                session.flush()
            return
        except Exception as exc:  # a concurrent approval took the number: take the next
            from bot.db import is_unique_violation

            if not is_unique_violation(exc):
                raise
    raise RuntimeError("could not allocate a register number")


def approve(session: Session, app: Application, person: Person, now: datetime | None = None) -> list[Notice]:
    """通过: number it in the register, fill in the certificate, send the .docx to this cadre, tell the resident."""
    now = now or utcnow()
    if not may_decide(session, app, person):
        raise ApplicationError("not_allowed", number=app.number)
    try:
        with session.begin_nested():   # a template that cannot be rendered leaves the application as it was
            event = _move(session, app, person, "approve", None, now)
            app.decided_by, app.decided_at = person.userid, now
            next_register_number(session, app, now)
            app.document = documents.render(app, now)
            app.document_name = documents.file_name(app)
            session.flush()
    except documents.DocumentError as exc:
        raise ApplicationError("template_error", number=app.number, problem=str(exc)) from None
    form = form_of(app)
    collect = (form.collect if form else t("collect_default")).replace("{village}", app.village)
    key = f"app:{app.id}:ev{event.id}:{person.userid}"
    return [
        Notice(person.userid, t("approved_cadre", number=app.number, register_number=app.register_number,
                                certificate=app.certificate_name), f"{key}:text"),
        Notice(person.userid, dedupe_key=f"{key}:file", msgtype="file", body={"application": app.id}),
        _to_applicant(app, event, t("told_approved", number=app.number, certificate=app.certificate_name,
                                    register_number=app.register_number, collect=collect)),
    ]


def return_for_more(session: Session, app: Application, person: Person, missing: str,
                    now: datetime | None = None) -> list[Notice]:
    """退回补充: the resident is told what is missing and how to send it."""
    now = now or utcnow()
    if not may_decide(session, app, person):
        raise ApplicationError("not_allowed", number=app.number)
    if not missing:
        raise ApplicationError("need_missing", number=app.number)
    event = _move(session, app, person, "return", missing, now)
    app.status_notes = missing
    return [_to_applicant(app, event, t("told_returned", number=app.number, certificate=app.certificate_name,
                                        missing=missing))]


def refuse(session: Session, app: Application, person: Person, reason: str,
           now: datetime | None = None) -> list[Notice]:
    """不予出具, with the reason."""
    now = now or utcnow()
    if not may_decide(session, app, person):
        raise ApplicationError("not_allowed", number=app.number)
    if not reason:
        raise ApplicationError("need_reason", number=app.number)
    event = _move(session, app, person, "refuse", reason, now)
    app.status_notes = reason
    app.decided_by, app.decided_at = person.userid, now
    return [_to_applicant(app, event, t("told_refused", number=app.number, certificate=app.certificate_name,
                                        reason=reason))]


def resubmit(session: Session, app: Application, note: str, photos: list, actor: Person | str,
             now: datetime | None = None) -> list[Notice]:
    """The resident's 补充: back to the cadres, the time limit counted afresh."""
    now = now or utcnow()
    event = _move(session, app, actor, "resubmit", note or None, now)
    added = [ApplicationMedia(application=app, material="supplement", media_id=media_id or None,
                              pic_url=pic_url or None, added_at=now) for media_id, pic_url in photos]
    session.add_all(added)
    session.flush()
    for media in added:
        evidence.note_saved(session, media)
    form = form_of(app)
    app.due_at = add_working_days(now, form.days if form else 3)
    session.flush()
    return _to_deciders(session, app, event, "push_supplemented", media=added,
                        supplement=privacy.mask(note) or t("supplement_photos_only"))


def collect(session: Session, app: Application, person: Person, now: datetime | None = None) -> list[Notice]:
    """已领取: the resident collected the stamped certificate."""
    now = now or utcnow()
    if not may_decide(session, app, person):
        raise ApplicationError("not_allowed", number=app.number)
    event = _move(session, app, person, "collect", None, now)
    app.collected_at = now
    return [_to_applicant(app, event, t("told_collected", number=app.number, certificate=app.certificate_name))]


def detail(session: Session, app: Application, userid: str, person: Person | None) -> str:
    """查询 #A<n>: where it stands; the village's cadres see the full ID-card number."""
    full = may_decide(session, app, person)
    staff = full or may_verify(app, person) or (person is not None and person.role == "cadre")
    fields = _fields(session, app, full_id=full)
    # the applicant sees where it stands; what the grid worker found and the roster check are the committee's
    more = [fields["roster"], fields["verify"]] if staff else []
    more += [t("detail_notes", notes=fields["notes"]) if fields["notes"] and app.status in ("returned", "refused") else "",
             t("detail_register", register_number=app.register_number) if app.register_number else ""]
    history = "\n".join(
        t("history_line", when=fmt_local(e.at), action=t(f"action_{e.action}"),
          note=privacy.mask(e.note) if e.note and (staff or e.action != "verify") else "").rstrip()
        for e in app.events)
    return t("detail", history=history, more="\n".join(x for x in more if x), **fields).replace("\n\n", "\n")


def erase_closed(session: Session, cutoff: datetime, now: datetime, limit: int = 500) -> int:
    """Erase ID numbers, answers, the document and photo references of applications closed before ``cutoff``
    (or returned for more and never supplemented since); the register keeps name, masked ID, certificate,
    dates and register number."""
    closed = Application.closed_at.is_not(None) & (Application.closed_at < cutoff)
    abandoned = (Application.status == "returned") & (Application.updated_at < cutoff)
    apps = list(session.scalars(select(Application).where(closed | abandoned, Application.erased_at.is_(None))
                                .order_by(Application.id).limit(limit)))
    for app in apps:
        app.id_number = None
        app.fields = {}
        app.document = None
        app.verify_note = None
        app.erased_at = now
        for media in list(app.media):
            evidence.forget(media)
            session.delete(media)
        for event in app.events:
            if event.action in ("resubmit", "verify"):
                event.note = None
    session.flush()
    return len(apps)
