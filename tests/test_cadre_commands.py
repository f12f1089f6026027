"""Cadre commands: 今日, 超时, 查询 #n, 派单 #n, 催办 #n — within the cadre's jurisdiction only."""
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Ticket
from tests.cadre_helpers import age, file_streetlight, use_drill_sla


def test_stats_and_overdue_for_the_community_and_the_town(chat, config, tmp_path):
    use_drill_sla(tmp_path)
    file_streetlight(chat)
    [today] = chat("fang.lougang", "今日")
    assert "楼冈社区居委会今日" in today and "新受理 1 件" in today and "在办 1 件，其中超时 0 件" in today
    assert "响应率 —" in today
    [none] = chat("fang.lougang", "超时")
    assert "没有超时工单" in none
    age(config, 1, 25)
    [late] = chat("guan.changsha", "超时")              # the town sees its villages' tickets
    assert "共 1 件" in late and "#1 路灯" in late and "梁晓敏" in late
    [today] = chat("guan.changsha", "统计")
    assert "其中超时 1 件" in today and "响应率 0.0%" in today
    [other] = chat("lu.donghe", "超时")
    assert "没有超时工单" in other


def test_query_dispatch_and_nudge(chat, wecom_api, config):
    file_streetlight(chat)
    [detail] = chat("fang.lougang", "查询 #1")
    assert "工单 #1（路灯）" in detail and "网格员：梁晓敏" in detail and "提交" in detail
    [nudged] = chat("fang.lougang", "催办 #1 群众又来电话了")
    assert "已催办 #1" in nudged and "梁晓敏" in nudged
    assert "【催办 #1】" in wecom_api.texts_to("liang.wg")[-1] and "群众又来电话了" in wecom_api.texts_to("liang.wg")[-1]
    [moved] = chat("fang.lougang", "派单 #1 周志强")
    assert "已把工单 #1 派给周志强" in moved
    assert any(t.startswith("【新工单 #1】") for t in wecom_api.texts_to("zhou.wg"))
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket))
        assert (ticket.assignee_userid, ticket.status) == ("zhou.wg", "open")
    [by_id] = chat("guan.changsha", "派单 #1 liang.wg")      # the town cadre, by userid
    assert "派给梁晓敏" in by_id


def test_refusals_outside_the_jurisdiction_and_for_non_cadres(chat, wecom_api):
    file_streetlight(chat)
    [refused] = chat("lu.donghe", "查询 #1")
    assert "不在东河社区居委会范围内" in refused
    [refused] = chat("situ.sanbu", "派单 #1 周志强")
    assert "不在三埠街道范围内" in refused
    [refused] = chat("fang.lougang", "派单 #1 吴丽华")         # a worker of another community
    assert "不是楼冈社区居委会的网格员" in refused
    [refused] = chat("fang.lougang", "派单 #1 无此人")
    assert "没有叫“无此人”的网格员" in refused
    [refused] = chat("liang.wg", "催办 #1")
    assert "只有村（社区）、镇（街道）干部" in refused
    [refused] = chat("chenayi", "超时")
    assert "只有村（社区）、镇（街道）干部" in refused
    [resident_view] = chat("chenayi", "查询 #1")             # residents still get TicketCommands' answer
    assert "待处理" in resident_view and "网格员：" not in resident_view
    assert wecom_api.texts_to("zhou.wg") == []


def _file_unplaced(chat, user: str = "passer.by") -> list[str]:
    """A resident nobody registered reports a place no roster knows, and confirms as it is."""
    chat(user, "路灯坏咗好几晚")
    [summary] = chat(user, "幸福楼门口")
    chat(user, "确认")
    return [summary]


def test_an_unplaced_report_is_every_cadres_to_dispatch(chat, wecom_api, config):
    [summary] = _file_unplaced(chat)
    assert "幸福楼门口（对不上是哪个村、社区" in summary and "由干部派给网格员" in summary
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket))
        assert (ticket.village, ticket.town, ticket.assignee_userid) == (None, None, None)
    assert any(t.startswith("【待派单 #1】") for t in wecom_api.texts_to("ye.nanping"))   # pushed to every cadre ...
    [detail] = chat("lu.donghe", "查询 #1")                                                # ... and every cadre may act
    assert "工单 #1（路灯）" in detail
    [moved] = chat("ye.nanping", "派单 #1 谭国良")
    assert "已把工单 #1 派给谭国良" in moved
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket))
        assert (ticket.village, ticket.assignee_userid) == ("南屏村委会", "tan.wg")
    [refused] = chat("lu.donghe", "查询 #1")          # placed now: the other communities' cadres no longer
    assert "不在东河社区居委会范围内" in refused


def test_a_village_named_under_the_summary_places_the_report(chat, config):
    chat("passer.by", "路灯坏咗好几晚")
    chat("passer.by", "幸福楼门口")
    [summary] = chat("passer.by", "南屏")
    assert "地点：南屏 幸福楼门口\n" in summary
    chat("passer.by", "确认")
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket))
        assert ticket.village == "南屏村委会"
