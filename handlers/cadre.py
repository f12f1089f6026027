"""Cadre commands: 今日 / 统计 (the 三率 now), 超时 (overdue list), 查询 #n, 派单 #n 网格员, 催办 #n.

A cadre acts only within their jurisdiction (their village, or the town containing it).
"""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import or_, select

from bot import cadre_words, privacy, stats, texts, whistles
from bot.applications.summary import line as applications_line
from bot.models import Person, Ticket
from bot.tickets import service
from bot.tickets.service import TicketError
from bot.timeutil import fmt_deadline, fmt_local
from bot.visits import service as visits
from handlers.base import Handler, Message
from handlers.tickets import send_notices

CADRE_ONLY = ("stats", "overdue", "dispatch", "nudge")
RATE_WINDOW = timedelta(days=30)
OVERDUE_LIST_MAX = 15
ASSIGNABLE_ROLES = ("grid_worker",)


class CadreCommands(Handler):
    """The cadre's view of their area and the commands that move its tickets."""

    name = "cadre_commands"

    def check(self, msg: Message, ctx) -> bool:
        if not msg.is_text:
            return False
        cmd = cadre_words.parse(msg.text)
        if cmd is None:
            return False
        if cmd.action in CADRE_ONLY:
            return True
        return cmd.action == "query" and ctx.role == "cadre"   # others: TicketCommands answers 查询

    def handle(self, msg: Message, ctx) -> None:
        cmd = cadre_words.parse(msg.text)
        person = ctx.person
        if ctx.role != "cadre":
            ctx.reply(ctx.t("cadre.only_cadres"))
            return
        if not person.jurisdiction:
            ctx.reply(ctx.t("cadre.no_jurisdiction"))
            return
        if cmd.action == "stats":
            ctx.reply(self._stats(ctx, person))
            return
        if cmd.action == "overdue":
            ctx.reply(self._overdue(ctx, person))
            return
        ticket = service.find(ctx.session, cmd.number)
        if ticket is None:
            ctx.reply(ctx.t("tickets.not_found", number=cmd.number))
            return
        if not stats.covers(person.jurisdiction, ticket):
            if cmd.action == "query" and service.can_view(ctx.session, ticket, ctx.user_id, person):
                from handlers.tickets import _COMMANDS

                _COMMANDS._query(ctx, ticket.number)   # their own report, as any resident sees it
                return
            ctx.reply(ctx.t("cadre.outside_jurisdiction", number=ticket.number, jurisdiction=person.jurisdiction))
            return
        getattr(self, f"_{cmd.action}")(ctx, person, ticket, cmd.rest)

    # --- reading -----------------------------------------------------------------------------
    def _stats(self, ctx, person: Person) -> str:
        now = ctx.now
        start, end = stats.day_bounds(stats.local_today(now))
        today = stats.filed_between(ctx.session, start, end, person.jurisdiction)
        window = stats.tally(stats.filed_between(ctx.session, now - RATE_WINDOW, now, person.jurisdiction), now)
        open_now = stats.open_tickets(ctx.session, person.jurisdiction)
        apps = applications_line(ctx.session, person.jurisdiction, start, end, now, "today_line")  # certificates
        return ctx.t("cadre.stats", jurisdiction=person.jurisdiction, filed=len(today),
                     resolved=stats.resolved_between(ctx.session, start, end, person.jurisdiction),
                     open=len(open_now), overdue=sum(stats.is_overdue(tk, now) for tk in open_now),
                     response=stats.fmt_rate(window.response_rate), resolve=stats.fmt_rate(window.resolve_rate),
                     satisfaction=stats.fmt_rate(window.satisfaction_rate), days=RATE_WINDOW.days,
                     window_filed=window.filed) + _visits_block(ctx, person) + (f"\n{apps}" if apps else "")

    def _overdue(self, ctx, person: Person) -> str:
        late = stats.overdue_tickets(ctx.session, ctx.now, person.jurisdiction)
        if not late:
            return ctx.t("cadre.overdue_none", jurisdiction=person.jurisdiction)
        lines = [ctx.t("cadre.overdue_header", jurisdiction=person.jurisdiction, count=len(late))]
        for tk in late[:OVERDUE_LIST_MAX]:
            lines.append(ctx.t("cadre.overdue_line", number=tk.number, category=tk.service_name,
                               place=service.place_of(tk, ctx.session), status=service.status_name(tk.status),
                               assignee=_name(ctx.session, tk.assignee_userid), deadline=fmt_local(_deadline(tk))))
        if len(late) > OVERDUE_LIST_MAX:
            lines.append(ctx.t("cadre.overdue_more", count=len(late) - OVERDUE_LIST_MAX))
        return "\n".join(lines)

    def _query(self, ctx, person: Person, ticket: Ticket, rest: str) -> None:
        whistle_lines = "".join(
            ctx.t("cadre.detail_whistle", department=w.department, status=ctx.t(f"cadre.whistle_status_{w.status}"))
            for w in whistles.active_for(ctx.session, ticket))
        history = "\n".join(_history(ctx, ticket)[-6:])
        ctx.reply(ctx.t("cadre.detail", number=ticket.number, category=ticket.service_name,
                        status=service.status_name(ticket.status), place=service.place_of(ticket, ctx.session),
                        description=service.description_for(ticket), assignee=_name(ctx.session, ticket.assignee_userid),
                        requested=fmt_local(ticket.requested_at), acknowledge_by=fmt_local(ticket.acknowledge_by),
                        resolve_by=fmt_deadline(ticket.resolve_by),
                        overdue=ctx.t("cadre.detail_overdue") if stats.is_overdue(ticket, ctx.now) else "",
                        whistles=whistle_lines, history=history))

    # --- changes -----------------------------------------------------------------------------
    def _dispatch(self, ctx, person: Person, ticket: Ticket, rest: str) -> None:
        if not rest:
            ctx.reply(ctx.t("cadre.dispatch_need_worker", number=ticket.number))
            return
        worker = _find_worker(ctx.session, rest.split()[0])
        if worker is None:
            ctx.reply(ctx.t("cadre.dispatch_no_worker", name=rest.split()[0]))
            return
        try:
            notices = service.dispatch(ctx.session, ticket, person, worker, ctx.now)
        except TicketError as exc:
            ctx.reply(exc.message)
            return
        send_notices(ctx, notices)
        ctx.reply(ctx.t("cadre.dispatch_done", number=ticket.number, name=worker.name,
                        acknowledge_by=fmt_local(ticket.acknowledge_by)))

    def _nudge(self, ctx, person: Person, ticket: Ticket, rest: str) -> None:
        liaisons = [w.liaison_userid for w in whistles.active_for(ctx.session, ticket)]
        try:
            notices = service.nudge(ctx.session, ticket, person, rest, liaisons, ctx.now)
        except TicketError as exc:
            ctx.reply(exc.message)
            return
        send_notices(ctx, notices)
        ctx.reply(ctx.t("cadre.nudge_done", number=ticket.number,
                        names="、".join(_name(ctx.session, n.to_user) for n in notices)))


def _visits_block(ctx, person: Person) -> str:
    """走访率 and 三必到 (bot.visits): counts and rates only."""
    block = visits.coverage_lines(ctx.session, person.jurisdiction, ctx.now)
    return f"\n{block}" if block else ""


def _deadline(ticket: Ticket):
    if ticket.status in stats.UNACKNOWLEDGED and ticket.acknowledge_by is not None:
        return ticket.acknowledge_by
    return ticket.resolve_by


def _name(session, userid: str | None) -> str:
    if not userid:
        return texts.t("cadre.nobody")
    person = session.scalar(select(Person).where(Person.userid == userid))
    return person.name if person and person.name else userid


def _history(ctx, ticket: Ticket) -> list[str]:
    """The ticket's history, one line per entry; a rating and the close it caused are one line."""
    lines, previous = [], None
    for event in ticket.events:
        rated = previous is not None and previous.action == event.action == "rate" and (previous.note or "").isdigit()
        if not rated:
            lines.append(_history_line(ctx, ticket, event))
        previous = event
    return lines


def _history_line(ctx, ticket: Ticket, event) -> str:
    """One history entry as a cadre reads it: names and roles, never a userid, media id or link."""
    return ctx.t("cadre.detail_event", when=fmt_local(event.at), who=_who(ctx.session, event.actor, event.actor_role),
                 action=_action_name(ctx, event.action), note=_event_note(ctx, ticket, event)).rstrip()


def _who(session, userid: str | None, role: str = "") -> str:
    """系统, 梁晓敏（网格员）, 陈阿姨（居民）, 方主任（楼冈社区居委会）, or 微信居民 for a WeChat resident
    without a name."""
    if not userid or userid == service.SYSTEM or role == "system":
        return texts.t("cadre.who_system")
    person = session.scalar(select(Person).where(Person.userid == userid))
    role = person.role if person else (role or "resident")
    if person is not None and person.role == "cadre" and person.jurisdiction:
        label = person.jurisdiction
    elif person is not None and person.role == "department" and person.department:
        label = person.department
    else:
        label = texts.t(f"cadre.role_{role}") if texts.has(f"cadre.role_{role}") else texts.t("cadre.role_other")
    if person is not None and person.name:
        return texts.t("cadre.who", name=person.name, role=label)
    if person is not None and person.channel == "kf":
        return texts.t("cadre.who_wechat")
    return label


def _event_note(ctx, ticket: Ticket, event) -> str:
    """The note: the assignee's name for 派单, the score for 评价, 照片 for a photo; else the masked text."""
    note = event.note or ""
    if not note:
        return ""
    if event.action == "evidence" or _is_photo(ticket, note):
        return ctx.t("cadre.detail_photo")
    if event.action == "assign":
        person = ctx.session.scalar(select(Person).where(Person.userid == note))
        if person is not None:
            return person.name or _who(ctx.session, person.userid, person.role)
    if event.action == "rate" and note.isdigit():
        return ctx.t("cadre.detail_score", score=int(note))
    return _LINK.sub(ctx.t("cadre.detail_link"), privacy.mask(note))[:40]


_LINK = re.compile(r"https?://\S+")


def _is_photo(ticket: Ticket, note: str) -> bool:
    """Whether ``note`` is one of the ticket's photos (a media id or picture URL)."""
    return any(note in (m.media_id, m.pic_url) for m in ticket.media)


def _action_name(ctx, action: str) -> str:
    key = f"cadre.action_{action}"
    return texts.t(key) if texts.has(key) else action


def _find_worker(session, name_or_id: str) -> Person | None:
    """A grid worker by userid or by name."""
    return session.scalar(select(Person).where(Person.role.in_(ASSIGNABLE_ROLES),
                                               or_(Person.userid == name_or_id, Person.name == name_or_id))
                          .order_by(Person.id).limit(1))
