"""Certificate applications: the jurisdiction's list (filters, export), one application's page and
the committee's actions — 通过, 退回补充, 不予出具, 已领取.

The actions are the chat's own service functions (``bot.applications.service.approve`` and its
siblings), with the chat's rule: only the village's cadres decide (``service.may_decide``); the
town's cadres see but do not act. ID-card numbers are masked everywhere except on the page of an
application its own village's cadres decide, as ``查询 #A12`` shows them. Pushes are outbox rows in
the same transaction, delivered after the commit.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from urllib.parse import quote

from flask import Response, abort, flash, redirect, request, url_for
from sqlalchemy import func, select

from bot import privacy
from bot.applications import service, states
from bot.applications.service import ApplicationError
from bot.delivery import enqueue_rows
from bot.models import Application, Person
from bot.timeutil import fmt_local, utcnow
from bot.workbench import bp, export
from bot.workbench.auth import current_person, db, log_action, page, paginate, refuse, require, wt
from bot.workbench.tickets import CODE, PERIODS, _excel_time, _iso, names_of, period_bounds, queue_notices

PAGE_SIZE = 50
EXPORT_MAX = 100_000
ACTIONS = ("approve", "return", "refuse", "collect")


@dataclass
class Filters:
    """The list's filters from the query string: a state (or "active"), a certificate id, a filing period."""

    status: str = ""
    certificate: str = ""
    period: str = ""
    start: str = ""
    end: str = ""

    @classmethod
    def from_args(cls, args) -> Filters:
        status = args.get("status", "")
        f = cls(status=status if status in states.STATE_TYPES or status == "active" else "",
                certificate=args.get("certificate", "") if CODE.fullmatch(args.get("certificate", "")) else "",
                period=args.get("period", "") if args.get("period", "") in PERIODS else "")
        if f.period == "custom":
            f.start, f.end = _iso(args.get("from", "")), _iso(args.get("to", ""))
        return f

    def args(self) -> dict:
        out = {k: v for k, v in asdict(self).items() if v and k not in ("start", "end")}
        if self.start:
            out["from"] = self.start
        if self.end:
            out["to"] = self.end
        return out


def in_view(person: Person):
    """The applications a cadre sees: their village's, or every village's in their town."""
    return service.in_jurisdiction(person.jurisdiction)


def application_query(person: Person, f: Filters, now: datetime):
    """The applications ``person`` sees that match ``f``, newest first."""
    q = select(Application).where(in_view(person))
    if f.status == "active":
        q = q.where(Application.status.in_(states.of_type("open") + states.of_type("waiting")))
    elif f.status:
        q = q.where(Application.status == f.status)
    if f.certificate:
        q = q.where(Application.certificate_id == f.certificate)
    start, end = period_bounds(f, now)
    if start is not None:
        q = q.where(Application.requested_at >= start)
    if end is not None:
        q = q.where(Application.requested_at < end)
    return q.order_by(Application.number.desc())


def _overdue(app: Application, now: datetime) -> bool:
    return states.STATE_TYPES.get(app.status) == "open" and app.due_at is not None and app.due_at < now


def _rows(apps: list[Application], now: datetime) -> list[dict]:
    people = names_of(db(), [a.decided_by for a in apps] + [a.verifier_userid for a in apps])
    return [{"app": a, "number": a.number, "certificate": a.certificate_name, "status": service.status_name(a.status),
             "applicant": a.applicant_name, "id": a.id_masked, "village": a.village,
             "verifier": people[a.verifier_userid].name if a.verifier_userid in people else "",
             "decided_by": people[a.decided_by].name if a.decided_by in people else (a.decided_by or ""),
             "requested": fmt_local(a.requested_at), "due": fmt_local(a.due_at) if a.due_at else "",
             "overdue": _overdue(a, now), "register_number": a.register_number or "",
             "notes": privacy.mask(a.status_notes or "")} for a in apps]


def _certificates(person: Person) -> list[tuple[str, str]]:
    return list(db().execute(select(Application.certificate_id, func.max(Application.certificate_name))
                             .where(in_view(person)).group_by(Application.certificate_id)
                             .order_by(Application.certificate_id)).all())


@bp.get("/applications")
@require("applications")
def applications_page():
    """The jurisdiction's applications, filtered, 50 a page."""
    person, now = current_person(), utcnow()
    f = Filters.from_args(request.args)
    apps, total, page_no, pages = paginate(application_query(person, f, now), PAGE_SIZE)
    return page("applications.html", rows=_rows(apps, now), filters=f, total=total, page_no=page_no,
                pages=pages, certificates=_certificates(person),
                statuses=[(st, service.status_name(st)) for st in states.STATE_TYPES],
                export_url=url_for("workbench.applications_export", **f.args()),
                page_url=lambda n: url_for("workbench.applications_page", page=n, **f.args()))


@bp.get("/applications/export")
@require("applications")
def applications_export() -> Response:
    """The filtered list as .xlsx (ID-card numbers masked, as in the register)."""
    person, now = current_person(), utcnow()
    f = Filters.from_args(request.args)
    rows = _rows(list(db().scalars(application_query(person, f, now).limit(EXPORT_MAX))), now)
    log_action("export_applications")
    return export.xlsx_response("applications", wt("sheet_applications"), export.columns("export_applications"), (
        [f"A{r['number']}", r["certificate"], r["status"], r["applicant"], r["id"], r["village"], r["verifier"],
         _excel_time(r["app"].requested_at), _excel_time(r["app"].due_at), wt("word_yes") if r["overdue"] else "",
         r["decided_by"], r["register_number"], r["notes"]] for r in rows))


def _find_visible(number: int):
    """(session, person, application) or an error response."""
    s, person = db(), current_person()
    app = service.find(s, number)
    if app is None:
        return None, refuse(404, wt("app_not_found", number=number))
    if not service.can_view(s, app, person.userid, person):
        return None, refuse(403, wt("app_forbidden", number=number))
    return (s, person, app), None


@bp.get("/applications/<int:number>")
@require("applications")
def application_detail(number: int):
    """One application: the answers, materials, roster and verification, its history and the actions."""
    found, error = _find_visible(number)
    if error is not None:
        return error
    s, person, app = found
    log_action("view_application", number)
    decides = service.may_decide(s, app, person)
    people = names_of(s, [e.actor for e in app.events] + [app.verifier_userid, app.decided_by])
    history = [{"when": fmt_local(e.at), "who": _who(e.actor, people), "action": service.t(f"action_{e.action}"),
                "status": service.status_name(e.to_status) if e.to_status and e.to_status != e.from_status else "",
                "note": privacy.mask(e.note or "")} for e in app.events]
    allowed = {a: decides and (app.status, a) in states.TRANSITIONS for a in ACTIONS}
    return page("application.html", app=app, status=service.status_name(app.status),
                fields=service.field_lines(app, full_id=decides).splitlines(),
                materials=service.materials_line(app), roster=service.roster_line(s, app),
                verify=service.verify_line(app), verifier=_who(app.verifier_userid, people) if app.verifier_userid else "",
                requested=fmt_local(app.requested_at), due=service.due_text(app), overdue=_overdue(app, utcnow()),
                notes=privacy.mask(app.status_notes or ""), history=history, may=allowed, decides=decides,
                document=decides and app.document is not None)


def _who(userid: str | None, people: dict[str, Person]) -> str:
    if userid == service.SYSTEM:
        return wt("system")
    person = people.get(userid or "")
    return person.name if person and person.name else wt("unknown_person")


@bp.post("/applications/<int:number>/<action>")
@require("applications")
def application_action(number: int, action: str):
    """通过, 退回补充 (``note``: what is missing), 不予出具 (``note``: why) or 已领取; back to its page."""
    if action not in ACTIONS:
        abort(404)
    found, error = _find_visible(number)
    if error is not None:
        return error
    s, person, app = found
    if not service.may_decide(s, app, person):
        return refuse(403, wt("app_forbidden_action", number=number))
    note = (request.form.get("note") or "").strip()[:500]
    if action in ("return", "refuse") and not note:
        flash(wt("app_need_missing", number=number) if action == "return" else wt("app_need_reason", number=number),
              "error")
        return redirect(url_for("workbench.application_detail", number=number))
    now = utcnow()
    try:
        if action == "approve":
            notices = service.approve(s, app, person, now)
        elif action == "return":
            notices = service.return_for_more(s, app, person, note, now)
        elif action == "refuse":
            notices = service.refuse(s, app, person, note, now)
        else:
            notices = service.collect(s, app, person, now)
    except ApplicationError as exc:
        s.rollback()
        log_action(f"application_{action}", number, outcome="refused")
        flash(exc.message, "error")
        return redirect(url_for("workbench.application_detail", number=number))
    rows = queue_notices(s, notices)
    s.commit()
    enqueue_rows(rows)
    log_action(f"application_{action}", number)
    flash(wt(f"app_done_{action}", number=number, register_number=app.register_number or ""))
    return redirect(url_for("workbench.application_detail", number=number))


@bp.get("/applications/<int:number>/document")
@require("applications")
def application_document(number: int):
    """The filled certificate (.docx) of an approved application, for the cadres who decide it."""
    found, error = _find_visible(number)
    if error is not None:
        return error
    s, person, app = found
    if not service.may_decide(s, app, person) or app.document is None:
        return refuse(404, wt("app_no_document", number=number))
    log_action("application_document", number)
    name = app.document_name or f"A{app.number}.docx"
    return Response(app.document, mimetype="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
                    headers={"Content-Disposition": f"attachment; filename=\"A{app.number}.docx\"; "
                                                    f"filename*=UTF-8''{quote(name)}",
                             "Cache-Control": "private, no-store"})
