"""吹哨报到: the department's liaison must report in time, else the town cadre hears; the resident is told."""
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Ticket, Whistle
from tests.cadre_helpers import age, count, file_streetlight, use_drill_sla
from tests.conftest import sweep_now


def _sweep(wecom, times: int = 3) -> None:
    for _ in range(times):
        sweep_now()
        wecom.run()


def test_unanswered_whistle_goes_to_the_town_cadre_once(chat, wecom, wecom_api, config, tmp_path):
    use_drill_sla(tmp_path, "default: {acknowledge: 1h, resolve: 10d}\nwhistle: {report: 20s}\n")
    file_streetlight(chat)
    chat("liang.wg", "接单 #1")
    [done] = chat("liang.wg", "吹哨 #1 城管 灯柱倾斜，需要路灯所处理")
    assert "城管局" in done and "#1" in done
    push = wecom_api.texts_to("cg.liaison")[-1]
    assert "【吹哨 #1】" in push and "报到 #1" in push and "灯柱倾斜" in push
    _sweep(wecom)
    assert wecom_api.texts_to("guan.changsha") == []
    age(config, 1, 25)
    _sweep(wecom)
    assert count(wecom_api.texts_to("guan.changsha"), "【部门未报到 #1】") == 1
    assert wecom_api.texts_to("fang.lougang") == []


def test_answered_whistle_tells_the_resident_and_the_liaison_closes_it(chat, wecom, wecom_api, config, tmp_path):
    use_drill_sla(tmp_path, "default: {acknowledge: 1h, resolve: 10d}\nwhistle: {report: 20s}\n")
    file_streetlight(chat)
    [done] = chat("fang.lougang", "吹哨 #1 路灯一直不亮")       # the category's department: 城管局
    assert "城管局" in done
    [reported] = chat("cg.liaison", "报到 #1")
    assert "已报到 #1" in reported
    assert "城管局接手处理" in wecom_api.texts_to("chenayi")[-1]
    assert "已报到" in wecom_api.texts_to("fang.lougang")[-1]
    age(config, 1, 25)
    _sweep(wecom)
    assert wecom_api.texts_to("guan.changsha") == []
    [closed] = chat("cg.liaison", "办结 #1 已更换整条线路")
    assert "已办结 #1" in closed
    told = wecom_api.texts_to("chenayi")[-1]
    assert "已办结" in told and "已更换整条线路" in told
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket))
        whistle = s.scalar(select(Whistle))
        assert ticket.status == "resolved" and whistle.status == "resolved"
        assert [e.action for e in ticket.events][-3:] == ["report", "whistle_resolve", "resolve"]


def test_whistle_refusals(chat, config):
    file_streetlight(chat)
    [refused] = chat("lu.donghe", "吹哨 #1 城管局 快点")          # another community's cadre
    assert "只有工单 #1 的网格员" in refused
    [refused] = chat("pcs.liaison", "报到 #1")                      # no whistle to 派出所
    assert "没有向您的部门吹哨" in refused
    [refused] = chat("cg.liaison", "办结 #1 好了")                  # not whistled: not theirs to close
    assert "不能修改" in refused
    chat("liang.wg", "吹哨 #1 城管局 灯柱倾斜")
    [again] = chat("liang.wg", "吹哨 #1 城管局 再次")
    assert "已经向城管局吹过哨" in again
