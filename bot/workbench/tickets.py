"""Tickets: the list (filters, pages, export), a ticket's page (history, photos) and its actions.

The actions are the chat's own: 派单 ``service.dispatch``, 催办 ``service.nudge``, 吹哨
``whistles.blow``. Their pushes are outbox rows in the same transaction, delivered after the
commit (``bot.delivery.enqueue_rows``), exactly as when a cadre types the command.
"""
from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta

from flask import Response, abort, flash, redirect, request, url_for
from sqlalchemy import and_, or_, select

from bot import evidence, outbox, privacy, stats, whistles
from bot.delivery import enqueue_rows
from bot.models import Patch, Person, Ticket, TicketMedia, Whistle
from bot.tickets import categories, service, states
from bot.tickets.service import TicketError
from bot.timeutil import fmt_local, to_local, utcnow
from bot.workbench import bp, export, rights
from bot.workbench.auth import current_person, db, log_action, page, paginate, refuse, require, wt

PAGE_SIZE = 50
EXPORT_MAX = 100_000
PERIODS = ("7d", "30d", "month", "last_month", "custom")
CODE = re.compile(r"[A-Za-z0-9_.-]{1,40}")
OPEN_STATES = [s for s, kind in states.STATE_TYPES.items() if kind == "open"]
ACTIONS = ("dispatch", "nudge", "whistle")


@dataclass
class Filters:
    """The list's filters, from the query string (codes and dates only: no personal data in URLs)."""

    status: str = ""        # a state, "active" (every open state), or "" for all
    overdue: bool = False
    patch: str = ""
    category: str = ""
    period: str = ""
    start: str = ""         # YYYY-MM-DD, China time, with period "custom"
    end: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        status = args.get("status", "")
        f = cls(status=status if status in states.STATE_TYPES or status == "active" else "",
                overdue=args.get("overdue") in ("1", "on", "true"),
                patch=args.get("patch", "") if CODE.fullmatch(args.get("patch", "")) else "",
                category=args.get("category", "") if CODE.fullmatch(args.get("category", "")) else "",
                period=args.get("period", "") if args.get("period", "") in PERIODS else "")
        if f.period == "custom":
            f.start, f.end = _iso(args.get("from", "")), _iso(args.get("to", ""))
        return f

    def args(self) -> dict:
        """The filters as query arguments (for links, pages and the export)."""
        out = {k: v for k, v in asdict(self).items() if v and k not in ("start", "end", "overdue")}
        if self.overdue:
            out["overdue"] = "1"
        if self.start:
            out["from"] = self.start
        if self.end:
            out["to"] = self.end
        return out


def _iso(value: str) -> str:
    try:
        return date.fromisoformat(value).isoformat()
    except ValueError:
        return ""


def _month_start(day: date) -> date:
    return day.replace(day=1)


def period_bounds(f: Filters, now: datetime) -> tuple[datetime | None, datetime | None]:
    """The filing period as naive-UTC [start, end); None for an open end."""
    today = stats.local_today(now)
    if f.period == "7d":
        return now - timedelta(days=7), None
    if f.period == "30d":
        return now - timedelta(days=30), None
    if f.period == "month":
        return stats.day_bounds(_month_start(today))[0], None
    if f.period == "last_month":
        first = _month_start(today)
        return stats.day_bounds(_month_start(first - timedelta(days=1)))[0], stats.day_bounds(first)[0]
    if f.period == "custom":
        start = stats.day_bounds(date.fromisoformat(f.start))[0] if f.start else None
        end = stats.day_bounds(date.fromisoformat(f.end))[1] if f.end else None
        return start, end
    return None, None


def overdue_clause(now: datetime):
    """``bot.stats.is_overdue`` as SQL: open, not waiting, past the acknowledge or resolve deadline."""
    running = [s for s in OPEN_STATES if s != "waiting"]
    return and_(Ticket.status.in_(running), or_(
        and_(Ticket.status.in_(stats.UNACKNOWLEDGED), Ticket.acknowledge_by < now), Ticket.resolve_by < now))


def ticket_query(person: Person, f: Filters, now: datetime):
    """The tickets ``person`` sees that match ``f``, newest first."""
    q = rights.scope_tickets(select(Ticket), person, unplaced=True)
    if f.status == "active":
        q = q.where(Ticket.status.in_(OPEN_STATES))
    elif f.status:
        q = q.where(Ticket.status == f.status)
    if f.overdue:
        q = q.where(overdue_clause(now))
    if f.patch:
        q = q.where(Ticket.patch_code == f.patch)
    if f.category:
        q = q.where(Ticket.service_code == f.category)
    start, end = period_bounds(f, now)
    if start is not None:
        q = q.where(Ticket.requested_at >= start)
    if end is not None:
        q = q.where(Ticket.requested_at < end)
    return q.order_by(Ticket.number.desc())


def names_of(session, userids) -> dict[str, Person]:
    """Roster entries for these userids, in one query."""
    ids = {u for u in userids if u}
    if not ids:
        return {}
    return {p.userid: p for p in session.scalars(select(Person).where(Person.userid.in_(ids)))}


def status_label(status: str) -> str:
    return wt(f"status_{status}")


def deadline_of(ticket: Ticket) -> datetime | None:
    """The deadline that matters now: acknowledge while unacknowledged, else resolve."""
    if ticket.status in stats.UNACKNOWLEDGED and ticket.acknowledge_by is not None:
        return ticket.acknowledge_by
    return ticket.resolve_by


def _place(ticket: Ticket, patch_names: dict[str, str], viewer: Person) -> str:
    if ticket.address:
        return privacy.for_viewer(ticket.address, viewer.userid == ticket.assignee_userid)
    return patch_names.get(ticket.patch_code or "", "") or ticket.village or ticket.town or ""


def _rows(session, person: Person, tickets: list[Ticket], now: datetime) -> list[dict]:
    people = names_of(session, [tk.assignee_userid for tk in tickets])
    patch_names = dict(session.execute(select(Patch.code, Patch.name)).all())
    return [{"ticket": tk, "number": tk.number, "category": tk.service_name, "status": status_label(tk.status),
             "status_code": tk.status, "place": _place(tk, patch_names, person),
             "patch": patch_names.get(tk.patch_code or "", tk.patch_code or ""),
             "assignee": (people[tk.assignee_userid].name if tk.assignee_userid in people else tk.assignee_userid) or "",
             "requested": fmt_local(tk.requested_at), "deadline": fmt_local(deadline_of(tk)),
             "overdue": stats.is_overdue(tk, now), "rating": tk.rating} for tk in tickets]


@bp.get("/tickets")
@require("tickets")
def ticket_list():
    """The list of tickets in the person's area, filtered, 50 a page."""
    s, person, now = db(), current_person(), utcnow()
    f = Filters.from_args(request.args)
    tickets, total, page_no, pages = paginate(ticket_query(person, f, now), PAGE_SIZE)
    return page("tickets.html", rows=_rows(s, person, tickets, now), filters=f, total=total, page_no=page_no,
                pages=pages, patches=rights.patches_for(s, person), categories=categories.categories(),
                statuses=[(st, status_label(st)) for st in states.STATE_TYPES],
                export_url=url_for("workbench.ticket_export", **f.args()),
                page_url=lambda n: url_for("workbench.ticket_list", page=n, **f.args()))


@bp.get("/tickets/export")
@require("tickets")
def ticket_export() -> Response:
    """The filtered list as .xlsx (every matching ticket, not only the page shown)."""
    s, person, now = db(), current_person(), utcnow()
    f = Filters.from_args(request.args)
    tickets = list(s.scalars(ticket_query(person, f, now).limit(EXPORT_MAX)))
    rows = _rows(s, person, tickets, now)
    log_action("export_tickets")
    return export.xlsx_response("tickets", wt("sheet_tickets"), export.columns("export_tickets"), (
        [r["number"], r["category"], r["status"], r["patch"], r["ticket"].village or "", r["place"], r["assignee"],
         _excel_time(r["ticket"].requested_at), _excel_time(deadline_of(r["ticket"])),
         wt("word_yes") if r["overdue"] else "", r["rating"] or ""] for r in rows))


def _excel_time(dt: datetime | None):
    """China time, naive (Excel has no time zones)."""
    return to_local(dt).replace(tzinfo=None) if dt else None


def _find_visible(number: int, action: str = "view"):
    """(session, person, ticket) or an error response."""
    s, person = db(), current_person()
    ticket = service.find(s, number)
    if ticket is None:
        return None, refuse(404, wt("not_found", number=number))
    if not rights.may(s, person, action, ticket):
        return None, refuse(403, wt("forbidden_ticket", number=number) if action == "view"
                             else wt("forbidden_action", number=number))
    return (s, person, ticket), None


@bp.get("/tickets/<int:number>")
@require("tickets")
def ticket_detail(number: int):
    """One ticket: what, where, who, the deadlines, its history, photos, whistles and the actions."""
    found, error = _find_visible(number)
    if error is not None:
        return error
    s, person, ticket = found
    now = utcnow()
    log_action("view", number)
    people = names_of(s, [e.actor for e in ticket.events] + [ticket.assignee_userid, ticket.reporter_userid]
                      + [e.note for e in ticket.events if e.action == "assign"])
    reporter = people.get(ticket.reporter_userid)
    history = [{"when": fmt_local(e.at), "who": _who(e.actor, people), "role": _event_role(e, people),
                "action": wt(f"action_{e.action}") if _has(f"action_{e.action}") else e.action,
                "status": status_label(e.to_status) if e.to_status and e.to_status != e.from_status else "",
                "note": _event_note(e, people)} for e in ticket.events]
    patch_names = dict(s.execute(select(Patch.code, Patch.name)).all())
    assigned = person.userid == ticket.assignee_userid
    workers = [] if not rights.may(s, person, "dispatch", ticket) else list(s.scalars(
        select(Person).where(Person.role == "grid_worker",
                             Person.patch.in_([p.code for p in rights.patches_for(s, person)]))
        .order_by(Person.patch, Person.id)))
    return page("ticket.html", ticket=ticket, status=status_label(ticket.status), now=now,
                overdue=stats.is_overdue(ticket, now), place=_place(ticket, patch_names, person),
                patch=patch_names.get(ticket.patch_code or "", ticket.patch_code or ""),
                description=service.description_for(ticket, assigned),
                reporter=(reporter.name if reporter and reporter.name else wt("unknown_person")),
                reporter_phone=service.mask_phone(reporter.mobile if reporter else None),
                assignee=_who(ticket.assignee_userid, people) if ticket.assignee_userid else wt("nobody"),
                requested=fmt_local(ticket.requested_at), acknowledge_by=fmt_local(ticket.acknowledge_by),
                resolve_by=fmt_local(ticket.resolve_by), history=history,
                photos=[m for m in ticket.media if m.media_id or m.stored_key or m.pic_url],
                whistles=list(s.scalars(select(Whistle).where(Whistle.ticket_id == ticket.id).order_by(Whistle.id))),
                may={a: rights.may(s, person, a, ticket) for a in ACTIONS}, workers=workers,
                departments=whistles.departments(s), open=stats.is_open(ticket))


def _has(key: str) -> bool:
    from bot import texts

    return texts.has(f"workbench.{key}")


def _who(userid: str | None, people: dict[str, Person]) -> str:
    if not userid or userid == service.SYSTEM:
        return wt("system") if userid == service.SYSTEM else ""
    person = people.get(userid)
    return person.name if person and person.name else wt("unknown_person")


def _event_role(event, people: dict[str, Person]) -> str:
    from bot.workbench.auth import role_name

    person = people.get(event.actor)
    return role_name(person.role if person else event.actor_role)


def _event_note(event, people: dict[str, Person]) -> str:
    if event.action == "assign" and event.note in people:
        return people[event.note].name
    if event.action == "evidence":
        return ""
    return privacy.mask(event.note or "")


# --- actions ----------------------------------------------------------------------------------

def queue_notices(session, notices) -> list:
    """The service's notices as outbox rows in this transaction (as the chat's ``send_notices``)."""
    rows = []
    for n in notices:
        if n.msgtype == "text":
            channel = n.channel or session.scalar(select(Person.channel).where(Person.userid == n.to_user)) or "app"
            rows += outbox.queue_text(session, n.to_user, n.text, channel=channel, dedupe_key=n.dedupe_key)
        else:
            rows.append(outbox.queue_message(session, n.to_user, n.msgtype, n.body, dedupe_key=n.dedupe_key))
    return rows


@bp.post("/tickets/<int:number>/<action>")
@require("tickets")
def ticket_action(number: int, action: str):
    """派单, 催办 or 吹哨 on one ticket, then back to its page with what happened."""
    if action not in ACTIONS:
        abort(404)
    found, error = _find_visible(number, action)
    if error is not None:
        return error
    s, person, ticket = found
    now = utcnow()
    note = (request.form.get("note") or "").strip()[:200]
    try:
        if action == "dispatch":
            worker = s.scalar(select(Person).where(Person.userid == request.form.get("worker", ""),
                                                   Person.role == "grid_worker"))
            if worker is None:
                raise _Refused(wt("dispatch_pick_worker"))
            notices = service.dispatch(s, ticket, person, worker, now)
            done = wt("dispatch_done", number=number, name=worker.name, acknowledge_by=fmt_local(ticket.acknowledge_by))
        elif action == "nudge":
            liaisons = [w.liaison_userid for w in whistles.active_for(s, ticket)]
            notices = service.nudge(s, ticket, person, note, liaisons, now)
            named = names_of(s, [n.to_user for n in notices])
            done = wt("nudge_done", number=number,
                      names="、".join(named[n.to_user].name if n.to_user in named else n.to_user for n in notices))
        else:
            department = (request.form.get("department") or "").strip()[:100]
            whistle, notices = whistles.blow(s, ticket, person, f"{department} {note}".strip(), now)
            done = wt("whistle_done", number=number, department=whistle.department,
                      report_by=fmt_local(whistle.report_by))
    except (TicketError, whistles.WhistleError, _Refused) as exc:
        s.rollback()
        log_action(action, number, outcome="refused")
        flash(exc.message, "error")
        return redirect(url_for("workbench.ticket_detail", number=number))
    rows = queue_notices(s, notices)
    s.commit()
    enqueue_rows(rows)
    log_action(action, number)
    flash(done)
    return redirect(url_for("workbench.ticket_detail", number=number))


class _Refused(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


# --- photos -----------------------------------------------------------------------------------

@bp.get("/photos/<int:media_pk>")
@require("tickets")
def photo(media_pk: int):
    """A ticket photo from durable storage, only for people who may see its ticket."""
    s, person = db(), current_person()
    media = s.get(TicketMedia, media_pk)
    if media is None:
        return refuse(404, wt("photo_missing"))
    if not rights.may(s, person, "photo", media.ticket):
        return refuse(403, wt("forbidden_ticket", number=media.ticket.number))
    if not media.stored_key and media.media_id:
        number = media.ticket.number
        s.rollback()                        # end this read before the fetch writes (SQLite locks)
        evidence.fetch_one(media_pk)        # not fetched yet (the job is behind): fetch it now
        media = s.get(TicketMedia, media_pk)
        log_action("photo_fetch", number)
    if not media.stored_key:
        return refuse(404, wt("photo_not_saved"))
    data = evidence.store().get(media.stored_key)
    if data is None:
        return refuse(404, wt("photo_missing"))
    log_action("photo", media.ticket.number)
    return Response(data, mimetype=media.content_type or "image/jpeg",
                    headers={"Cache-Control": "private, no-store", "Content-Disposition": "inline"})

