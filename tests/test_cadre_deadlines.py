"""Deadlines in seconds: remind the grid worker, then the community cadre, then the town cadre — once each."""
from sqlalchemy import func, select

from bot import sla
from bot.db import session_scope
from bot.models import CadreAlert, Ticket, TicketEscalation
from tests.cadre_helpers import age, count, file_streetlight, minute_passes, use_drill_sla
from tests.conftest import sweep_now


def _sweep(wecom, times: int = 3) -> None:
    for _ in range(times):
        sweep_now()
        wecom.run()


def test_ticket_gets_deadlines_from_the_sla_file(chat, config, tmp_path):
    use_drill_sla(tmp_path)
    file_streetlight(chat)
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket))
        assert (ticket.acknowledge_by - ticket.requested_at).total_seconds() == 20
        assert (ticket.resolve_by - ticket.requested_at).total_seconds() == 40
        assert ticket.expected_at == ticket.resolve_by


def test_unacknowledged_goes_to_the_community_then_unresolved_to_the_town_once_each(chat, wecom, wecom_api,
                                                                                   config, tmp_path):
    use_drill_sla(tmp_path)
    file_streetlight(chat)
    _sweep(wecom)
    assert count(wecom_api.texts_to("liang.wg"), "接单提醒") == 0
    age(config, 1, 11)                  # past the reminder (half the acknowledge time)
    _sweep(wecom)
    assert count(wecom_api.texts_to("liang.wg"), "【接单提醒 #1】") == 1
    assert wecom_api.texts_to("fang.lougang") == []
    age(config, 1, 10)                  # past the acknowledge deadline
    _sweep(wecom)
    assert count(wecom_api.texts_to("fang.lougang"), "【超时未接单 #1】") == 1
    assert wecom_api.texts_to("guan.changsha") == []
    age(config, 1, 20)                  # past the resolve deadline
    minute_passes(config)
    _sweep(wecom, 4)
    assert count(wecom_api.texts_to("guan.changsha"), "【超时未办结 #1】") == 1
    assert count(wecom_api.texts_to("fang.lougang"), "【超时未接单 #1】") == 1
    assert count(wecom_api.texts_to("fang.lougang"), "超时未办结") == 0
    assert count(wecom_api.texts_to("liang.wg"), "【接单提醒 #1】") == 1
    with session_scope(config.DATABASE_URL) as s:
        kinds = sorted(k.split(":")[0] for k in s.scalars(select(TicketEscalation.kind)))
    assert kinds == ["ack", "remind", "resolve"]


def test_acknowledged_in_time_nobody_is_escalated(chat, wecom, wecom_api, config, tmp_path):
    use_drill_sla(tmp_path)
    file_streetlight(chat)
    chat("liang.wg", "接单 #1")
    age(config, 1, 25)
    _sweep(wecom)
    assert wecom_api.texts_to("fang.lougang") == []
    chat("liang.wg", "办结 #1 已更换灯泡")
    age(config, 1, 50)
    _sweep(wecom)
    assert wecom_api.texts_to("fang.lougang") == [] and wecom_api.texts_to("guan.changsha") == []


def test_waiting_for_the_resident_pauses_the_clock(chat, wecom, wecom_api, config, tmp_path):
    use_drill_sla(tmp_path)
    file_streetlight(chat)
    chat("liang.wg", "接单 #1")
    [asked] = chat("liang.wg", "待补充 #1 请问是几号灯柱？")
    assert "#1" in asked
    assert "几号灯柱" in wecom_api.texts_to("chenayi")[-1]
    with session_scope(config.DATABASE_URL) as s:
        before = s.scalar(select(Ticket)).resolve_by
    age(config, 1, 100)                 # long past every deadline, but paused
    _sweep(wecom)
    assert wecom_api.texts_to("guan.changsha") == []
    [thanks] = chat("chenayi", "门口第三根")
    assert "#1" in thanks
    assert "门口第三根" in wecom_api.texts_to("liang.wg")[-1]
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket))
        assert ticket.status == "acknowledged" and ticket.paused_at is None
        assert ticket.resolve_by > before - __import__("datetime").timedelta(seconds=1)
    _sweep(wecom)
    assert wecom_api.texts_to("guan.changsha") == []


def test_alerts_to_one_cadre_are_batched_into_one_push_a_minute(chat, wecom, wecom_api, config, tmp_path):
    use_drill_sla(tmp_path)
    file_streetlight(chat)
    chat("liang.wg", "办结 #1 已报修")
    chat("chenayi", "不满意")                        # first alert: goes at once
    assert count(wecom_api.texts_to("fang.lougang"), "群众不满意 #1") == 1
    age(config, 1, 25)                               # the reopened ticket is not acknowledged in time
    _sweep(wecom)
    chat("liang.wg", "退单 #1 不属于本网格")          # a third alert within the same minute
    _sweep(wecom)
    assert len(wecom_api.texts_to("fang.lougang")) == 1
    minute_passes(config)
    _sweep(wecom)
    pushes = wecom_api.texts_to("fang.lougang")
    assert len(pushes) == 2
    assert "2条" in pushes[1] and "超时未接单 #1" in pushes[1] and "【退单 #1】" in pushes[1]
    _sweep(wecom)
    assert len(wecom_api.texts_to("fang.lougang")) == 2
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalar(select(func.count()).select_from(CadreAlert).where(CadreAlert.sent_at.is_(None))) == 0


def test_unsatisfied_rating_pushes_the_cadre_once(chat, wecom, wecom_api, config):
    file_streetlight(chat)
    chat("liang.wg", "办结 #1 已报修")
    chat("chenayi", "不满意")
    _sweep(wecom)
    assert count(wecom_api.texts_to("fang.lougang"), "群众不满意 #1") == 1


def test_sla_file_is_validated():
    import pytest

    with pytest.raises(sla.SlaFileError, match="default"):
        sla.parse({"streetlight": {"acknowledge": "1h", "resolve": "2h"}})
    with pytest.raises(sla.SlaFileError, match="30x"):
        sla.parse({"default": {"acknowledge": "30x", "resolve": "2h"}})
    with pytest.raises(sla.SlaFileError, match="category"):
        sla.parse({"default": {"acknowledge": "1h", "resolve": "2h"}, "nosuch": {"resolve": "3h"}}, {"streetlight"})
    parsed = sla.parse({"default": {"acknowledge": "15m", "resolve": "10d"}, "urgency": {"high": {"acknowledge": "30s"}},
                        "streetlight": {"resolve": "3d"}})
    assert parsed.limits("streetlight").resolve.days == 3
    assert parsed.limits("road", "high").acknowledge.total_seconds() == 30
    assert parsed.limits("road").resolve.days == 10


def test_the_shipped_sla_file_is_valid():
    loaded = sla.load()
    assert loaded.default.acknowledge.total_seconds() == 24 * 3600
