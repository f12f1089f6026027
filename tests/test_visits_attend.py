"""三必到 and 代报: arrival by location or 到场 #n with its distance, the arrival reminder, a cadre's
专项 #n, a building head reporting for a neighbour, and who may do which across patches.

End to end through /wecom/callback, a real Redis, a real rq worker and the WeCom API stand-in.
The sample patch LG-01 (楼冈社区第一网格, centre 22.3821, 112.6905) has grid worker 梁晓敏
(liang.wg), building head 区伯 (ou.lz) and village cadre 方主任 (fang.lougang).
"""
from datetime import timedelta

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot.cli_report import report
from bot.db import session_scope
from bot.models import Ticket, TicketEscalation
from bot.timeutil import utcnow
from bot.visits import jobs
from tests.intake_driver import file_ticket


def _ticket(config, number=1):
    with session_scope(config.DATABASE_URL) as s:
        tk = s.scalar(select(Ticket).where(Ticket.number == number))
        s.expunge(tk)
        return tk


def _file_dispute(chat, user="chenayi"):
    """A resident reports a dispute with a neighbour at her registered patch."""
    replies = file_ticket(chat, user, "邻居滴水纠纷吵架好多天")
    assert any("#1" in r and "邻里纠纷" in r for r in replies)


def test_a_dispute_is_must_attend_and_a_location_records_the_arrival(chat, wecom, wecom_api, config):
    _file_dispute(chat)
    push = wecom_api.texts_to("liang.wg")[0]
    assert push.startswith("【新工单 #1】邻里纠纷")
    assert "【三必到】须到场处理" in push and "到场 #1" in push
    ticket = _ticket(config)
    assert ticket.arrive_by - ticket.requested_at == timedelta(hours=4)     # sla.yaml: neighbour arrive 4h
    before = len(wecom_api.texts_to("liang.wg"))
    wecom.location("liang.wg", 22.3830, 112.6905, "幸福花园")                 # ~100 m north of the patch centre
    wecom.run()
    [arrived] = wecom_api.texts_to("liang.wg")[before:]
    assert "已记录到场 #1：距工单地点约100米" in arrived and "用时 0分钟" in arrived
    ticket = _ticket(config)
    assert ticket.arrived_at is not None and 95 < ticket.arrival_distance_m < 105
    told = wecom_api.texts_to("fang.lougang")[-1]
    assert "已到场 #1" in told and "梁晓敏" in told and "约100米" in told
    assert [e for e in _events(config) if e[1] == "arrive"] == [("liang.wg", "arrive", "距工单地点约100米")]
    # arrived: a further location is not an arrival any more; it is the complaint intake's
    [again] = chat("liang.wg", "到场 #1")
    assert "已在" in again and "报过到场" in again


def _events(config, number=1):
    with session_scope(config.DATABASE_URL) as s:
        tk = s.scalar(select(Ticket).where(Ticket.number == number))
        return [(e.actor, e.action, e.note) for e in tk.events]


def test_arrival_distance_from_the_tickets_own_location(chat, wecom, wecom_api, config):
    _file_dispute(chat)
    with session_scope(config.DATABASE_URL) as s:
        tk = s.scalar(select(Ticket))
        tk.lat, tk.long = 22.3845, 112.6905          # where the resident said it is, 267 m from the centre
    before = len(wecom_api.texts_to("liang.wg"))
    wecom.location("liang.wg", 22.3854, 112.6905)
    wecom.run()
    [arrived] = wecom_api.texts_to("liang.wg")[before:]
    assert "已记录到场 #1：距工单地点约100米" in arrived
    [again] = chat("liang.wg", "到场")
    assert "没有需要到场的工单" in again


def test_several_must_attend_tickets_get_a_menu(chat, wecom, wecom_api, config):
    _file_dispute(chat)
    _file_streetlight(chat)
    chat("fang.lougang", "专项 #2")                                   # a streetlight made a special task
    before = len(wecom_api.texts_to("liang.wg"))
    wecom.location("liang.wg", 22.3821, 112.6905)
    wecom.run()
    [menu] = wecom_api.texts_to("liang.wg")[before:]
    assert "几件须到场的工单" in menu and "1. #1 邻里纠纷" in menu and "2. #2 路灯" in menu
    [arrived] = chat("liang.wg", "2")
    assert "已记录到场 #2：距工单地点约0米" in arrived
    assert _ticket(config, 1).arrived_at is None and _ticket(config, 2).arrived_at is not None


def test_no_arrival_in_time_reminds_the_worker_and_the_cadre_once(chat, wecom, wecom_api, config):
    _file_dispute(chat)
    ticket = _ticket(config)
    assert jobs.check_arrivals(ticket.requested_at + timedelta(hours=3)) == 0
    assert jobs.check_arrivals(ticket.requested_at + timedelta(hours=5)) == 1
    wecom.run()
    remind = wecom_api.texts_to("liang.wg")[-1]
    assert "【到场提醒】工单 #1" in remind and "到场 #1" in remind
    alert = wecom_api.texts_to("fang.lougang")[-1]
    assert "到场超时 #1" in alert and "梁晓敏" in alert
    sent = len(wecom_api.sent)
    jobs.check_arrivals(ticket.requested_at + timedelta(hours=6))
    wecom.run()
    assert len(wecom_api.sent) == sent
    with session_scope(config.DATABASE_URL) as s:
        assert sorted(s.scalars(select(TicketEscalation.kind))) == ["arrive:cadre", "arrive:worker"]
    [arrived] = chat("liang.wg", "到场")                              # the one must-attend ticket held
    assert "已记录到场 #1：未发送位置" in arrived
    assert _ticket(config).arrival_distance_m is None
    assert jobs.check_arrivals(ticket.requested_at + timedelta(hours=7)) == 0


def test_a_cadre_marks_a_ticket_special_and_time_to_arrival_reaches_the_report(chat, wecom_api, config, tmp_path):
    _file_streetlight(chat)
    [not_needed] = chat("liang.wg", "到场 #1")
    assert "不用报到场" in not_needed
    [refused] = chat("lu.donghe", "专项 #1")                          # another village's cadre
    assert "只有本村（社区）的干部" in refused
    [refused] = chat("guan.changsha", "专项 #1")                      # the town: not the village
    assert "只有本村（社区）的干部" in refused
    [done] = chat("fang.lougang", "专项 #1")
    assert "已把工单 #1 标为专项任务：网格员 梁晓敏 须在" in done
    push = wecom_api.texts_to("liang.wg")[-1]
    assert push.startswith("【专项任务 #1】路灯") and "方主任" in push
    assert _ticket(config).arrive_by - _ticket(config).requested_at < timedelta(hours=1, minutes=1)
    [arrived] = chat("liang.wg", "到场 #1")
    assert "已记录到场 #1" in arrived
    [today] = chat("fang.lougang", "今日")
    assert "三必到（近30天）：须到场 1 件，已到场 1 件，平均用时 0分钟" in today
    out = tmp_path / "report.xlsx"
    day = utcnow().date()
    result = CliRunner().invoke(report, ["--from", (day - timedelta(days=1)).isoformat(), "--to",
                                         (day + timedelta(days=1)).isoformat(), "--out", str(out)],
                                env={"DATABASE_URL": config.DATABASE_URL})
    assert result.exit_code == 0, result.output
    ws = load_workbook(out)["按网格"]
    assert ws.cell(row=2, column=14).value == "平均到场用时（分钟）"
    assert ws.cell(row=3, column=2).value == "LG-01" and ws.cell(row=3, column=14).value == 0


def _file_streetlight(chat, user="chenayi"):
    file_ticket(chat, user, "楼下路灯坏了三天了")


def test_a_building_head_reports_for_a_neighbour_and_hears_the_updates(chat, wecom_api, config):
    replies = file_ticket(chat, "ou.lz", "代报 2栋302陈伯 楼道灯坏了")
    assert "替2栋302陈伯代报" in replies[0] and "在哪里" in replies[1]
    assert "#1" in replies[-1] and "梁晓敏" in replies[-1]
    ticket = _ticket(config)
    # a stairwell light is the building's, not a street light: 物业
    assert (ticket.reporter_userid, ticket.on_behalf_of, ticket.service_code) == ("ou.lz", "2栋302陈伯", "property")
    push = wecom_api.texts_to("liang.wg")[0]
    assert push.splitlines()[1] == "楼长区伯代报：2栋302陈伯"
    assert "【三必到】" not in push
    chat("liang.wg", "接单 #1")
    assert "已由梁晓敏接单" in wecom_api.texts_to("ou.lz")[-1]
    chat("liang.wg", "办结 #1 已换灯管")
    told = wecom_api.texts_to("ou.lz")[-1]
    assert "已办结" in told and "满意" in told                      # the rating request goes to the building head
    [thanks] = chat("ou.lz", "满意")
    assert "5分" in thanks and _ticket(config).rating == 5


def test_who_may_do_what_across_patches(chat, wecom, wecom_api, config):
    [usage] = chat("ou.lz", "代报 楼道灯坏了")
    assert "代报 邻居 问题" in usage
    [refused] = chat("chenayi", "代报 2栋302陈伯 楼道灯坏了")
    assert "只有楼长和网格员可以替邻居代报" in refused
    [refused] = chat("ou.lz", "走访 陈阿姨 身体好")
    assert "只有网格员可以登记走访" in refused
    [refused] = chat("fang.lougang", "走访 陈阿姨 身体好")
    assert "只有网格员可以登记走访" in refused
    [refused] = chat("zhou.wg", "走访 陈阿姨 身体好")                  # LG-01's household, LG-02's worker
    assert "不在你负责的网格" in refused and "党员家庭" not in refused
    _file_dispute(chat)
    [refused] = chat("zhou.wg", "到场 #1")
    assert "不是派给你的" in refused
    [refused] = chat("liang.wg", "专项 #1")
    assert "只有村（社区）干部可以把工单标为专项" in refused
    [refused] = chat("zhou.wg", "转工单")
    assert "没有找到可以转工单的走访记录" in refused
    assert _ticket(config).arrived_at is None
    # a grid worker holding no must-attend ticket: a location is the complaint intake's, as before
    before = len(wecom_api.texts_to("zhou.wg"))
    wecom.location("zhou.wg", 22.3862, 112.6968)
    wecom.run()
    assert "什么问题" in wecom_api.texts_to("zhou.wg")[before]


def test_which_tickets_must_be_attended_and_by_when():
    from bot.visits import attend

    def ticket(code, urgency="normal", special=None):
        return Ticket(service_code=code, urgency=urgency, special_by=special)

    cases = [  # (ticket, must attend, arrive within)
        (ticket("utilities", "high"), True, timedelta(hours=1)),        # urgent: urgency.high's arrive
        (ticket("other", "emergency"), True, timedelta(hours=1)),       # an emergency falls back to high's
        (ticket("neighbour"), True, timedelta(hours=4)),                # a dispute: its own entry
        (ticket("streetlight", special="fang.lougang"), True, timedelta(hours=1)),   # 专项: as urgent
        (ticket("streetlight"), False, None),
    ]
    for tk, must, within in cases:
        assert attend.is_must_attend(tk) is must, tk.service_code
        assert (attend.arrive_limit(tk) if must else None) == within, tk.service_code
    assert attend.distance_text(None) == "未发送位置"
    assert attend.distance_text(86.4) == "距工单地点约86米" and attend.distance_text(2345) == "距工单地点约2.3公里"
