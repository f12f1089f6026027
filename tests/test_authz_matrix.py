"""Who may do what: every ticket and cadre command × every role × the ticket's own area or another.

The ticket (#n) is a street-light complaint in 楼冈社区第一网格 (LG-01, 楼冈社区居委会, 长沙街道), filed by
chenayi and assigned to its grid worker liang.wg. Each actor sends the command; the test checks the
effect in the database and at the WeCom stand-in, not the wording of the reply.
"""
from datetime import timedelta

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Outbox, Patch, Ticket
from bot.tickets import categories, routing, service
from bot.timeutil import utcnow

OWN = {"liang.wg": "grid worker, assigned", "fang.lougang": "cadre of the village", "guan.changsha": "cadre of the town",
       "chenayi": "resident, reporter", "ou.lz": "building head of the patch"}
OTHER = {"zhou.wg": "grid worker, other patch, same village", "wu.wg": "grid worker, other village",
         "lu.donghe": "cadre of another village", "situ.sanbu": "cadre of another town",
         "lisuk": "resident, not the reporter", "cg.liaison": "department liaison (no whistle)",
         "stranger.x": "not on the roster"}
ACTORS = list(OWN) + list(OTHER)
CHANGERS = {"liang.wg", "fang.lougang", "guan.changsha"}       # the assignee and the area's cadres
AREA_CADRES = {"fang.lougang", "guan.changsha"}
CADRES = {"fang.lougang", "guan.changsha", "lu.donghe", "situ.sanbu"}


def _file_ticket(config, overdue: bool = False) -> int:
    """A fresh LG-01 ticket straight through the service (no chat); return its number."""
    with session_scope(config.DATABASE_URL) as s:
        patch = s.scalar(select(Patch).where(Patch.code == "LG-01"))
        route = routing.Route(patch=patch, village=patch.village, town=patch.town, how="registered")
        category = categories.classify("路灯坏了")
        ticket, _ = service.create_ticket(s, reporter="chenayi", category=category, description="楼下路灯坏了三天了",
                                          route=route)
        if overdue:
            ticket.acknowledge_by = utcnow() - timedelta(hours=1)
            ticket.resolve_by = utcnow() - timedelta(minutes=30)
        return ticket.number


def _ticket(config, number: int) -> Ticket:
    with session_scope(config.DATABASE_URL) as s:
        return s.scalar(select(Ticket).where(Ticket.number == number))


def _nudges_to(config, userid: str) -> int:
    with session_scope(config.DATABASE_URL) as s:
        return len(s.scalars(select(Outbox.id).where(Outbox.to_user == userid,
                                                     Outbox.dedupe_key.like("nudge:%"))).all())


def _changed(before: Ticket, after: Ticket) -> bool:
    return (before.status, before.assignee_userid) != (after.status, after.assignee_userid)


CHANGE_COMMANDS = {
    "接单 #{n}": CHANGERS,
    "办结 #{n} 已换灯泡": CHANGERS,
    "退单 #{n} 不属于本网格": CHANGERS,
    "派单 #{n} zhou.wg": AREA_CADRES,
}


@pytest.mark.parametrize("command", list(CHANGE_COMMANDS))
def test_who_may_change_a_ticket(command, chat, config):
    allowed = CHANGE_COMMANDS[command]
    outcome = {}
    for actor in ACTORS:
        n = _file_ticket(config)
        before = _ticket(config, n)
        chat(actor, command.format(n=n))
        outcome[actor] = _changed(before, _ticket(config, n))
    assert {a for a, changed in outcome.items() if changed} == allowed


def test_who_may_read_a_ticket(chat, config):
    n = _file_ticket(config)
    seen = {actor: any("楼下路灯坏了三天了" in t for t in chat(actor, f"查询 #{n}")) for actor in ACTORS}
    assert {a for a, ok in seen.items() if ok} == {"chenayi"} | CHANGERS


def test_who_may_nudge(chat, config):
    outcome = {}
    for actor in ACTORS:
        n = _file_ticket(config)
        before = _nudges_to(config, "liang.wg")
        chat(actor, f"催办 #{n}")
        outcome[actor] = _nudges_to(config, "liang.wg") > before
    assert {a for a, nudged in outcome.items() if nudged} == AREA_CADRES


def test_who_may_blow_the_whistle_and_who_may_report(chat, config):
    from bot import whistles

    blown = {}
    for actor in ACTORS:
        n = _file_ticket(config)
        chat(actor, f"吹哨 #{n} 城管局 路灯杆被占道摊档挡住")
        with session_scope(config.DATABASE_URL) as s:
            blown[actor] = bool(whistles.active_for(s, s.scalar(select(Ticket).where(Ticket.number == n))))
    assert {a for a, ok in blown.items() if ok} == CHANGERS

    n = _file_ticket(config)
    chat("fang.lougang", f"吹哨 #{n} 城管局 路灯杆被占道摊档挡住")
    reported = {}
    for actor in [*ACTORS, "sl.liaison"]:
        with session_scope(config.DATABASE_URL) as s:
            before = [w.status for w in whistles.active_for(s, s.scalar(select(Ticket).where(Ticket.number == n)))]
        chat(actor, f"报到 #{n}")
        with session_scope(config.DATABASE_URL) as s:
            after = [w.status for w in whistles.active_for(s, s.scalar(select(Ticket).where(Ticket.number == n)))]
        reported[actor] = before != after
    assert {a for a, ok in reported.items() if ok} == {"cg.liaison"}


def test_my_tickets_shows_only_ones_own(chat, config):
    n = _file_ticket(config)
    listed = {actor: any(f"#{n}" in t for t in chat(actor, "我的工单")) for actor in ACTORS}
    assert listed["chenayi"] and listed["liang.wg"]
    assert {a for a in OTHER if listed[a]} == set()


@pytest.mark.parametrize("command", ["今日", "超时"])
def test_area_reports_are_for_cadres_and_only_their_area(command, chat, config):
    n = _file_ticket(config, overdue=True)
    answers = {actor: "\n".join(chat(actor, command)) for actor in ACTORS}
    from bot import texts

    refusal = texts.t("cadre.only_cadres")
    assert {a for a, text in answers.items() if refusal not in text} == CADRES
    if command == "超时":
        assert {a for a in CADRES if f"#{n}" in answers[a]} == AREA_CADRES
