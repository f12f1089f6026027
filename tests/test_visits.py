"""四必访 by chat: households imported, visits logged in one message, 转工单, the Monday list,
the monthly ledger, and who may see which household.

End to end through /wecom/callback, a real Redis, a real rq worker and the WeCom API stand-in.
The sample households (knowledge/sample/households.csv): on LG-01 (梁晓敏) 陈阿姨 (党员家庭),
two 黄婆婆 (特殊家庭 at 幸福花园1栋201, 村（居）民代表 at 楼冈路18号), 冯生 (重点人员), 区伯; on
LG-02 (周志强) 李姑娘 (特殊家庭) and 周叔.
"""
from datetime import datetime, timedelta

import pytest
from click.testing import CliRunner
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from bot.cli_import import import_group
from bot.cli_report import report
from bot.db import get_engine, session_scope
from bot.models import Base, Ticket
from bot.roster import SAMPLE_DIR, import_patches, read_rows
from bot.timeutil import utcnow
from bot.visits import jobs, rules
from bot.visits.models import Household, Visit, VisitReminderSent


def _visits(config):
    with session_scope(config.DATABASE_URL) as s:
        return [(s.get(Household, v.household_id).address, v.note, v.followup, v.ticket_number, v.lat, v.photo_media_id)
                for v in s.scalars(select(Visit).order_by(Visit.id))]


# --- import ---------------------------------------------------------------------------------------

@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path}/households.sqlite3"
    Base.metadata.create_all(get_engine(url))
    with session_scope(url) as s:
        import_patches(s, read_rows(SAMPLE_DIR / "patches.csv"))
    return url


def _invoke(db, *args):
    return CliRunner().invoke(import_group, list(args), env={"DATABASE_URL": db})


def _count(db):
    with session_scope(db) as s:
        return s.scalar(select(func.count()).select_from(Household))


def test_import_households_reports_every_bad_row_and_imports_nothing(db, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("patch,name,address,kind,phone,note\n"
                   "LG-01,陈阿姨,幸福花园2栋302,党员家庭,,\n"
                   "XX-09,王伯,某路1号,党员家庭,,\n"
                   "LG-01,黄婆婆,幸福花园1栋201,低收入,,\n"
                   "LG-01,,楼冈路3号,特殊家庭,abc,\n"
                   "LG-01,陈阿姨,幸福花园2栋302,特殊家庭,,\n", encoding="utf-8")
    result = _invoke(db, "households", str(bad))
    assert result.exit_code == 1
    out = result.output
    assert "第3行: patch XX-09 不存在" in out
    assert "第4行: kind '低收入' 应为 党员家庭、村（居）民代表、特殊家庭、重点人员 之一" in out
    assert "第5行: name 不能为空" in out and "第5行: phone 'abc' 不是电话号码" in out
    assert "第6行: 与第2行是同一户" in out
    assert "未导入任何数据" in out and _count(db) == 0


def test_import_households_from_excel_then_again_updates(db, tmp_path):
    path = tmp_path / "households.xlsx"
    wb = Workbook()
    ws = wb.active
    for row in (["patch", "name", "address", "kind", "phone", "note"],
                ["LG-01", "陈阿姨", "幸福花园2栋302", "党员家庭", "13800001001", ""],
                ["LG-01", "冯生", "楼冈路22号", "重点人员", None, ""],
                ["NP-01", "谭伯", "南屏村五巷2号", "居民代表", None, "别名也认"]):
        ws.append(row)
    wb.save(path)
    result = _invoke(db, "households", str(path))
    assert result.exit_code == 0, result.output
    assert "新增 3 条，更新 0 条" in result.output
    wb = load_workbook(path)
    wb.active["D3"] = "特殊家庭"
    wb.save(path)
    result = _invoke(db, "households", str(path))
    assert "新增 0 条，更新 3 条" in result.output and _count(db) == 3
    with session_scope(db) as s:
        kinds = dict(s.execute(select(Household.name, Household.kind)).all())
    assert kinds == {"陈阿姨": "party", "冯生": "special", "谭伯": "representative"}


def test_visit_rules_validation_names_the_file_and_key():
    good = {"kinds": [{"id": k, "name": k, "every_days": 30} for k in rules.KIND_IDS]}
    assert rules.parse(good).interval("special") == 30
    cases = [
        ({"kinds": good["kinds"][:3]}, "visits.yaml: kinds: key_person missing"),
        ({"kinds": [*good["kinds"][:3], {"id": "key_person", "name": "重点人员", "every_days": "两周"}]},
         "visits.yaml: kinds.key_person.every_days: '两周' is not a positive whole number of days"),
        ({**good, "towns": {"大沙镇": {"special": 0}}}, "visits.yaml: towns.大沙镇.special: 0 is not"),
        ({**good, "towns": {"大沙镇": {"elderly": 10}}}, "visits.yaml: towns.大沙镇.elderly: not a kind"),
    ]
    for data, message in cases:
        with pytest.raises(rules.VisitRulesError) as exc:
            rules.parse(data)
        assert message in str(exc.value)
    shipped = rules.load()
    assert shipped.interval("special") == 30 and shipped.interval("special", "大沙镇") == 15
    assert shipped.interval("key_person") == 14 and shipped.is_sensitive("special") and not shipped.is_sensitive("party")


# --- logging visits -------------------------------------------------------------------------------

def test_a_visit_in_one_message_then_a_photo_and_a_location(chat, wecom, wecom_api, config):
    [logged] = chat("liang.wg", "走访 陈阿姨 身体还好，反映楼道灯不亮")
    assert "已记录走访：陈阿姨（幸福花园2栋302）｜党员家庭" in logged
    assert "身体还好，反映楼道灯不亮" in logged and "转工单" in logged
    wecom.image("liang.wg", media_id="visit-photo")
    wecom.run()
    assert "照片" in wecom_api.texts_to("liang.wg")[-1]
    wecom.location("liang.wg", 22.3822, 112.6906, "幸福花园")
    wecom.run()
    assert "位置" in wecom_api.texts_to("liang.wg")[-1]
    [(address, note, followup, number, lat, photo)] = _visits(config)
    assert (address, note, followup, number, lat, photo) == ("幸福花园2栋302", "身体还好，反映楼道灯不亮", "", None,
                                                             22.3822, "visit-photo")
    # written without a space, the name is still found
    [logged] = chat("liang.wg", "走访冯生情绪稳定")
    assert "冯生" in logged and "重点人员" in logged and "情绪稳定" in logged


def test_two_households_with_the_same_name_get_a_menu(chat, config):
    [menu] = chat("liang.wg", "走访 黄婆婆 精神不错")
    assert "几户叫“黄婆婆”" in menu
    assert "1. 黄婆婆（幸福花园1栋201）" in menu and "2. 黄婆婆（楼冈路18号）" in menu
    [again] = chat("liang.wg", "5")
    assert "1 到 2" in again
    [logged] = chat("liang.wg", "2")
    assert "黄婆婆（楼冈路18号）" in logged and "精神不错" in logged
    assert [(a, n) for a, n, *_ in _visits(config)] == [("楼冈路18号", "精神不错")]


def test_an_unknown_name_and_a_household_on_another_patch(chat, config):
    [unknown] = chat("liang.wg", "走访 王大爷 身体好")
    assert "没有叫“王大爷”的走访户" in unknown
    [elsewhere] = chat("liang.wg", "走访 李姑娘 情况稳定")
    assert "“李姑娘”不在你负责的网格" in elsewhere
    assert "特殊家庭" not in elsewhere            # another patch's household: never its kind
    [usage] = chat("liang.wg", "走访")
    assert "走访 姓名 情况" in usage
    assert _visits(config) == []


def test_a_concern_raised_in_a_visit_becomes_a_ticket(chat, wecom, wecom_api, config):
    chat("liang.wg", "走访 陈阿姨 身体还好，反映楼道灯不亮")
    wecom.image("liang.wg", media_id="dark-stairs")
    wecom.run()
    replies = chat("liang.wg", "转工单")
    filed = [r for r in replies if "已转为工单" in r]
    assert filed and "#1" in filed[0] and "陈阿姨" in filed[0]
    push = next(r for r in replies if r.startswith("【新工单 #1】"))
    assert "网格员梁晓敏代报：幸福花园2栋302陈阿姨" in push
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket))
        assert (ticket.service_code, ticket.reporter_userid, ticket.assignee_userid, ticket.on_behalf_of) == \
            ("streetlight", "liang.wg", "liang.wg", "幸福花园2栋302陈阿姨")
        assert ticket.description == "身体还好，反映楼道灯不亮" and ticket.patch_code == "LG-01"
        assert [(m.kind, m.media_id) for m in ticket.media] == [("photo", "dark-stairs")]   # the visit's photo
    [(_a, _n, followup, number, *_)] = _visits(config)
    assert (followup, number) == ("已转工单 #1", 1)
    [again] = chat("liang.wg", "转工单")
    assert "没有找到可以转工单的走访记录" in again


# --- the Monday list ------------------------------------------------------------------------------

MONDAY_0900 = datetime(2024, 5, 6, 1, 0)   # Monday 6 May 2024, 09:00 China time


def _visit(config, name, address, at):
    with session_scope(config.DATABASE_URL) as s:
        h = s.scalar(select(Household).where(Household.name == name, Household.address == address))
        s.add(Visit(household_id=h.id, worker_userid="liang.wg", visited_at=at, note="示例"))


def test_monday_list_of_households_due_once_a_week(app, config, wecom, wecom_api):
    config.QINGCHE_DIGEST_TIME = "08:00"
    _visit(config, "陈阿姨", "幸福花园2栋302", MONDAY_0900 - timedelta(days=10))       # party: due in 80 days
    _visit(config, "冯生", "楼冈路22号", MONDAY_0900 - timedelta(days=10))              # key person: due Thursday
    _visit(config, "黄婆婆", "幸福花园1栋201", MONDAY_0900 - timedelta(days=40))        # special: overdue
    assert jobs.send_weekly(MONDAY_0900 - timedelta(hours=2)) == 0        # 07:00: not yet
    assert jobs.send_weekly(MONDAY_0900 + timedelta(days=1)) == 0         # a Tuesday: no list
    assert jobs.send_weekly(MONDAY_0900) == 4                             # every worker with households
    assert jobs.send_weekly(MONDAY_0900 + timedelta(hours=3)) == 0        # once a week
    wecom.run()
    [week] = wecom_api.texts_to("liang.wg")
    assert "本周要走访 4 户（其中逾期 3 户）" in week
    assert "黄婆婆（幸福花园1栋201）｜特殊家庭｜应在 04月26日 前走访，已逾期" in week
    assert "冯生（楼冈路22号）｜重点人员｜本周 05月10日 前" in week
    assert "区伯（幸福花园1栋101）｜村（居）民代表｜未走访过" in week
    assert "陈阿姨" not in week
    assert week.index("黄婆婆（楼冈路18号）") < week.index("冯生")        # never visited first, then by date
    zhou = wecom_api.texts_to("zhou.wg")[0]
    assert "李姑娘" in zhou and "黄婆婆" not in zhou                       # each worker their own patch
    assert wecom_api.texts_to("mei.wg") == []                             # no households on DS-01
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalar(select(func.count()).select_from(VisitReminderSent)) == 4
    assert jobs.send_weekly(MONDAY_0900 + timedelta(days=7)) == 4         # next Monday


def test_digest_time_off_sends_no_monday_list(app, config):
    config.QINGCHE_DIGEST_TIME = "off"
    assert jobs.send_weekly(MONDAY_0900) == 0


# --- coverage and the ledger ------------------------------------------------------------------------

def test_coverage_in_today_and_the_digest_shows_counts_never_names(chat, app, config):
    from bot import digest
    from bot.models import Person

    chat("liang.wg", "走访 陈阿姨 身体还好")
    chat("liang.wg", "走访 冯生 情绪稳定")
    [today] = chat("fang.lougang", "今日")
    assert "走访率：2/7 户（28.6%），逾期 5 户" in today
    assert "楼冈社区第一网格（梁晓敏）：2/5 户，40.0%，逾期 3 户" in today
    assert "楼冈社区第二网格（周志强）：0/2 户，0.0%，逾期 2 户" in today
    with session_scope(config.DATABASE_URL) as s:
        town = digest.compose(s, s.scalar(select(Person).where(Person.userid == "guan.changsha")), utcnow())
        other = digest.compose(s, s.scalar(select(Person).where(Person.userid == "lu.donghe")), utcnow())
    assert "走访率 2/7 户（28.6%）" in town and "梁晓敏）：2/5 户" in town
    assert "走访率 0/2 户" in other
    for text in (today, town, other):
        for secret in ("陈阿姨", "冯生", "黄婆婆", "李姑娘", "特殊家庭", "重点人员"):
            assert secret not in text


def test_the_monthly_ledger_opens_with_a_sheet_per_patch(chat, app, config, tmp_path):
    chat("liang.wg", "走访 陈阿姨 身体还好，反映楼道灯不亮")
    chat("liang.wg", "转工单")
    chat("liang.wg", "走访 黄婆婆 精神不错")
    chat("liang.wg", "1")
    chat("zhou.wg", "走访 李姑娘 康复训练按时")
    out = tmp_path / "ledger.xlsx"
    today = utcnow().date()
    result = CliRunner().invoke(report, ["visits", "--from", (today - timedelta(days=3)).isoformat(),
                                         "--to", (today + timedelta(days=1)).isoformat(), "--format", "xlsx",
                                         "--out", str(out)], env={"DATABASE_URL": config.DATABASE_URL})
    assert result.exit_code == 0, result.output
    assert "3 次走访" in result.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["东河社区第一网格", "楼冈社区第一网格", "楼冈社区第二网格", "南屏村网格", "走访率"]
    ws = wb["楼冈社区第一网格"]
    assert ws["A1"].value.startswith("楼冈社区第一网格 走访台账")
    assert [c.value for c in ws[2]] == ["日期", "户（姓名）", "类别", "走访情况", "跟进", "工单号"]
    rows = [r for r in ws.iter_rows(min_row=3, values_only=True)]
    assert [r[1:] for r in rows] == [("陈阿姨（幸福花园2栋302）", "党员家庭", "身体还好，反映楼道灯不亮", "已转工单 #1", 1),
                                     ("黄婆婆（幸福花园1栋201）", "特殊家庭", "精神不错", None, None)]
    assert rows[0][0][:4].isdigit()
    assert [r[1:] for r in wb["楼冈社区第二网格"].iter_rows(min_row=3, values_only=True)] == \
        [("李姑娘（碧桂园5座1203）", "特殊家庭", "康复训练按时", None, None)]
    coverage = {r[0]: r for r in wb["走访率"].iter_rows(min_row=2, values_only=True)}
    assert coverage["LG-01"][2:7] == ("梁晓敏", 5, 2, 0.4, 3)
    assert coverage["LG-02"][2:7] == ("周志强", 2, 1, 0.5, 1)


# --- care -------------------------------------------------------------------------------------------

def test_logs_never_carry_household_names_or_kinds(caplog, chat, app, config):
    import logging

    caplog.set_level(logging.DEBUG)
    config.QINGCHE_DIGEST_TIME = "08:00"
    chat("liang.wg", "走访 黄婆婆 独居，身体还好")
    chat("liang.wg", "1")
    chat("liang.wg", "转工单 楼道灯不亮")
    chat("zhou.wg", "走访 李姑娘 情况稳定")
    jobs.send_weekly(MONDAY_0900)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("黄婆婆", "李姑娘", "特殊家庭", "重点人员", "独居"):
        assert secret not in logged


def test_knowledge_check_checks_the_visit_rules(monkeypatch, tmp_path):
    from bot.cli_knowledge import knowledge

    result = CliRunner().invoke(knowledge, ["check"])
    assert result.exit_code == 0, result.output
    assert "4 kinds of household to visit" in result.output
    broken = tmp_path / "visits.yaml"
    broken.write_text("kinds:\n  - {id: party, name: 党员家庭, every_days: 0}\n", encoding="utf-8")
    monkeypatch.setattr(rules, "RULES_FILE", broken)
    result = CliRunner().invoke(knowledge, ["check"])
    assert result.exit_code == 1
    assert "visits.yaml: kinds.party.every_days: 0 is not a positive whole number of days" in result.output
    rules.reload()


def test_visit_records_show_sensitive_households_only_to_their_worker_and_village(chat, config):
    chat("liang.wg", "走访 黄婆婆 独居，身体还好")
    chat("liang.wg", "1")
    chat("liang.wg", "走访 陈阿姨 反映楼道灯不亮")
    chat("zhou.wg", "走访 李姑娘 康复训练按时")
    [own] = chat("liang.wg", "走访记录")
    assert "最近 2 次" in own and "黄婆婆（幸福花园1栋201）｜特殊家庭｜独居，身体还好" in own
    assert "李姑娘" not in own
    [village] = chat("fang.lougang", "走访记录")
    assert "最近 3 次" in village and "黄婆婆" in village and "李姑娘（碧桂园5座1203）｜特殊家庭" in village
    [town] = chat("guan.changsha", "走访记录")
    assert "陈阿姨（幸福花园2栋302）｜党员家庭｜反映楼道灯不亮" in town
    assert town.count("特殊关注户") == 2
    for secret in ("黄婆婆", "李姑娘", "特殊家庭", "独居", "康复"):
        assert secret not in town
    [one] = chat("fang.lougang", "走访记录 周志强")
    assert "周志强，最近 1 次" in one and "李姑娘" in one
    [outside] = chat("lu.donghe", "走访记录 梁晓敏")
    assert "梁晓敏不是东河社区居委会的网格员" in outside
    [none] = chat("lu.donghe", "走访记录")
    assert "还没有走访记录" in none
    [refused] = chat("ou.lz", "走访记录")
    assert "只有网格员和村（社区）、镇街干部" in refused


def test_the_ledger_as_csv_has_the_patch_first(chat, app, config, tmp_path):
    chat("liang.wg", "走访 冯生 情绪稳定")
    out = tmp_path / "ledger.csv"
    today = utcnow().date()
    result = CliRunner().invoke(report, ["visits", "--from", today.isoformat(), "--to",
                                         (today + timedelta(days=1)).isoformat(), "--format", "csv",
                                         "--out", str(out)], env={"DATABASE_URL": config.DATABASE_URL})
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0] == "网格,日期,户（姓名）,类别,走访情况,跟进,工单号"
    assert lines[1].startswith("LG-01,") and lines[1].endswith(",冯生（楼冈路22号）,重点人员,情绪稳定,,")
