"""The cadres' daily digest: yesterday in and 办结, open and overdue now, the 三率, the patches that
need attention and the questions the catalogue could not answer — one markdown push per cadre per day.

``send_due`` is a sweep step: from ``QINGCHE_DIGEST_TIME`` (China time) on, each cadre with a
jurisdiction gets today's digest once (a ``DigestSent`` row, unique per cadre and day, written in
the same transaction as the outbox row). A worker that was down at that time catches up later.
``QINGCHE_DIGEST_TIME=off`` sends none.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import alerts, outbox, runtime, stats, texts
from bot.applications.summary import line as applications_line
from bot.db import add_unique, session_scope
from bot.delivery import enqueue_rows
from bot.models import CatalogueMiss, DigestSent, Patch, Person
from bot.timeutil import to_local, utcnow
from bot.visits import service as visits

RATE_WINDOW = timedelta(days=30)
ATTENTION_MAX = 3
MISSES_MAX = 5


def t(key: str, **fields) -> str:
    """A digest text."""
    return texts.t(f"cadre.{key}", **fields)


def attention(session: Session, jurisdiction: str, now: datetime) -> list[tuple[str, int, int, int]]:
    """(patch name, overdue now, unsatisfied in the window, open now) for the patches most in need."""
    names = {p.code: p.name for p in stats.patches_in(session, jurisdiction)}
    rows: dict[str | None, list[int]] = {}
    for tk in stats.open_tickets(session, jurisdiction):
        row = rows.setdefault(tk.patch_code, [0, 0, 0])
        row[0] += stats.is_overdue(tk, now)
        row[2] += 1
    for tk in stats.filed_between(session, now - RATE_WINDOW, now, jurisdiction):
        if tk.rating is not None and tk.rating < stats.SATISFIED_MIN:
            rows.setdefault(tk.patch_code, [0, 0, 0])[1] += 1
    ranked = sorted(rows.items(), key=lambda kv: (-kv[1][0], -kv[1][1], -kv[1][2], kv[0] or "~"))
    return [(names.get(code) or code or t("no_patch"), *counts) for code, counts in ranked
            if counts[0] or counts[1]][:ATTENTION_MAX]


def _is_town(session: Session, jurisdiction: str) -> bool:
    return session.scalar(select(Patch.id).where(Patch.town == jurisdiction).limit(1)) is not None


def misses(session: Session, jurisdiction: str, start: datetime, end: datetime) -> list[tuple[str, int, int]]:
    """(question, times asked, its number for 教 #n) that the catalogue could not answer, asked in [start, end) by residents
    of the jurisdiction (a town also sees those whose place is unknown), most asked first."""
    patches = {p.code for p in stats.patches_in(session, jurisdiction)}
    villages = {p.village for p in stats.patches_in(session, jurisdiction)} | {jurisdiction}
    town = _is_town(session, jurisdiction)
    counted: dict[str, list] = {}
    for miss in session.scalars(select(CatalogueMiss).where(CatalogueMiss.created_at >= start,
                                                            CatalogueMiss.created_at < end)
                                .order_by(CatalogueMiss.id)):
        person = session.scalar(select(Person).where(Person.userid == miss.user_id))
        located = person is not None and (person.patch or person.village)
        mine = person is not None and (person.patch in patches or person.village in villages)
        if mine or (town and not located):
            key = miss.normalized or miss.text
            counted.setdefault(key, [miss.text, 0, miss.id])[1] += 1
    ranked = sorted(counted.values(), key=lambda v: -v[1])
    return [(text, n, number) for text, n, number in ranked][:MISSES_MAX]


def compose(session: Session, cadre: Person, now: datetime) -> str:
    """The digest markdown for one cadre as of ``now``."""
    j = cadre.jurisdiction
    today = stats.local_today(now)
    start, end = stats.day_bounds(today - timedelta(days=1))
    open_now = stats.open_tickets(session, j)
    window = stats.tally(stats.filed_between(session, now - RATE_WINDOW, now, j), now)
    parts = [t("digest_title", jurisdiction=j, day=(today - timedelta(days=1)).strftime("%m月%d日")),
             t("digest_counts", filed=len(stats.filed_between(session, start, end, j)),
               resolved=stats.resolved_between(session, start, end, j), open=len(open_now),
               overdue=sum(stats.is_overdue(tk, now) for tk in open_now)),
             t("digest_rates", days=RATE_WINDOW.days, filed=window.filed,
               response=stats.fmt_rate(window.response_rate), resolve=stats.fmt_rate(window.resolve_rate),
               satisfaction=stats.fmt_rate(window.satisfaction_rate))]
    needy = attention(session, j, now)
    if needy:
        parts.append(t("digest_attention_header") + "\n" + "\n".join(
            t("digest_attention_line", patch=name, overdue=o, unsatisfied=u, open=n) for name, o, u, n in needy))
    parts += [block for block in [visits.coverage_lines(session, j, now, style="digest")] if block]  # 走访率, 三必到
    asked = misses(session, j, start, end)
    if asked:
        parts.append(t("digest_misses_header") + "\n" + "\n".join(
            t("digest_misses_line", text=text[:40], count=n, number=number) for text, n, number in asked))
    parts += [line for line in [applications_line(session, j, start, end, now)] if line]  # certificate applications
    parts.append(t("digest_footer"))
    return "\n\n".join(parts)


def due_day(now: datetime, digest_time: str) -> date | None:
    """Today's China date if the digest time has come, else None (always None when it is ``off``)."""
    if digest_time == "off":
        return None
    local = to_local(now)
    hour, minute = (int(x) for x in digest_time.split(":"))
    return local.date() if (local.hour, local.minute) >= (hour, minute) else None


def send_due(now: datetime | None = None) -> int:
    """Sweep step: send today's digest to each cadre who has not had it; return how many were sent."""
    rt = runtime.get()
    url = rt.config.DATABASE_URL
    now = now or utcnow()
    day = due_day(now, rt.config.QINGCHE_DIGEST_TIME)
    if day is None:
        return 0
    with session_scope(url) as s:
        done = set(s.scalars(select(DigestSent.cadre_userid).where(DigestSent.day == day)))
        cadres = [p.userid for p in s.scalars(select(Person).where(
            Person.role == "cadre", Person.jurisdiction.is_not(None)).order_by(Person.id)) if p.jurisdiction]
    sent = 0
    for userid in cadres:
        if userid in done:
            continue
        with session_scope(url) as s:
            rows = _send_one(s, userid, day, now)
        enqueue_rows(rows)
        sent += bool(rows)
    return sent


def _send_one(session: Session, userid: str, day: date, now: datetime) -> list:
    if not add_unique(session, DigestSent(cadre_userid=userid, day=day, created_at=now)):
        return []
    cadre = session.scalar(select(Person).where(Person.userid == userid))
    rows = outbox.queue_markdown(session, userid, compose(session, cadre, now), dedupe_key=f"digest:{userid}:{day}")
    alerts.mark_pushed(session, userid, now)
    return rows


