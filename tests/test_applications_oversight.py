"""Applications under oversight: deadlines in working days with reminders and escalation, the digest and
今日 lines, the 出具证明登记台账, and the retention period for ID-card numbers and photos."""
from datetime import timedelta

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot import digest, retention, runtime
from bot.applications import deadlines
from bot.cli_report import report
from bot.db import session_scope
from bot.models import Application, ApplicationMedia, Person
from bot.timeutil import utcnow
from tests.cadre_helpers import minute_passes
from tests.test_applications_e2e import REGISTER_1, SAMPLE_ID, SAMPLE_ID_MASKED, _apply_r1


def _file(chat, wecom, wecom_api):
    _apply_r1(chat, wecom, wecom_api)
    chat("chenayi", "确认")


def _sweep_at(wecom, config, when):
    deadlines.check_deadlines(now=when)
    minute_passes(config)
    from bot import alerts

    alerts.flush_due(now=when)
    wecom.run()


def test_reminder_then_village_then_town_once_each(chat, wecom, wecom_api, config):
    _file(chat, wecom, wecom_api)
    with session_scope(config.DATABASE_URL) as s:
        app = s.scalar(select(Application))
        due, requested = app.due_at, app.requested_at
    assert due - requested >= timedelta(days=3)   # 3 working days, to the end of the day
    _sweep_at(wecom, config, requested + timedelta(minutes=5))
    assert not any("核实提醒" in x for x in wecom_api.texts_to("liang.wg"))
    _sweep_at(wecom, config, due - timedelta(hours=2))
    _sweep_at(wecom, config, due - timedelta(hours=1))
    assert sum("【核实提醒】#A1" in x for x in wecom_api.texts_to("liang.wg")) == 1
    _sweep_at(wecom, config, due + timedelta(minutes=1))
    _sweep_at(wecom, config, due + timedelta(minutes=2))
    assert sum("【证明申请超时】#A1" in x for x in wecom_api.texts_to("fang.lougang")) == 1
    assert not any("超时" in x for x in wecom_api.texts_to("guan.changsha"))
    _sweep_at(wecom, config, due + timedelta(days=5))
    _sweep_at(wecom, config, due + timedelta(days=5, minutes=1))
    assert sum("【证明申请超时未办】楼冈社区居委会 #A1" in x for x in wecom_api.texts_to("guan.changsha")) == 1
    assert sum("【证明申请超时】#A1" in x for x in wecom_api.texts_to("fang.lougang")) == 1
    everything = str(wecom_api.messages_to("fang.lougang")) + str(wecom_api.messages_to("guan.changsha"))
    assert SAMPLE_ID not in everything


def test_digest_and_today_show_counts_and_numbers(chat, wecom, wecom_api, config):
    _file(chat, wecom, wecom_api)
    [today] = chat("fang.lougang", "今日")
    assert "证明申请：今日新收 1 件；待办 1 件（#A1）；超时 0 件；待领取 0 件。" in today
    with session_scope(config.DATABASE_URL) as s:
        cadre = s.scalar(select(Person).where(Person.userid == "fang.lougang"))
        text = digest.compose(s, cadre, utcnow() + timedelta(days=1))
        other = digest.compose(s, s.scalar(select(Person).where(Person.userid == "lu.donghe")),
                               utcnow() + timedelta(days=1))
    assert "证明申请：昨日新收 1 件（#A1）；待办 1 件（#A1）；超时 0 件；" in text
    assert "证明申请" not in other
    assert SAMPLE_ID not in text


def test_register_report_and_retention(chat, wecom, wecom_api, config, tmp_path):
    _file(chat, wecom, wecom_api)
    chat("liang.wg", "核实 #A1 属实")
    chat("fang.lougang", "通过 #A1")
    chat("fang.lougang", "已领取 #A1")

    out = tmp_path / "register.xlsx"
    today = (utcnow() + timedelta(hours=8)).date().isoformat()
    result = CliRunner().invoke(report, ["applications", "--from", today, "--to", today, "--out", str(out)],
                                env={"DATABASE_URL": config.DATABASE_URL})
    assert result.exit_code == 0, result.output
    assert "1 件证明申请" in result.output
    wb = load_workbook(out)
    ws = wb["出具证明登记台账"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert rows[0][:5] == ("登记编号", "申请编号", "证明名称", "申请人", "身份证号")
    assert rows[1][:6] == (REGISTER_1, "A1", "居（租）住情况证明", "陈美玲", SAMPLE_ID_MASKED,
                           "楼冈社区居委会")
    assert rows[1][8] == "属实" and rows[1][9] == "方主任" and rows[1][12] == "已领取"

    # within the retention period nothing is erased; after it, the ID, answers, document and photos go
    assert retention.erase_applications() == 0
    days = runtime.get().config.QINGCHE_APPLICATION_DAYS
    assert retention.erase_applications(now=utcnow() + timedelta(days=days + 1)) == 1
    with session_scope(config.DATABASE_URL) as s:
        app = s.scalar(select(Application))
        assert (app.id_number, app.fields, app.document) == (None, {}, None)
        assert s.scalars(select(ApplicationMedia)).all() == []
        assert (app.applicant_name, app.id_masked, app.register_number) == ("陈美玲", SAMPLE_ID_MASKED,
                                                                            REGISTER_1)
    [detail] = chat("fang.lougang", "查询 #A1")
    assert "已按保存期限删除" in detail and SAMPLE_ID not in detail
    result = CliRunner().invoke(report, ["applications", "--from", today, "--to", today, "--format", "csv",
                                         "--out", str(tmp_path / "r.csv")], env={"DATABASE_URL": config.DATABASE_URL})
    assert result.exit_code == 0 and SAMPLE_ID_MASKED in (tmp_path / "r.csv").read_text(encoding="utf-8-sig")


def test_an_application_returned_and_never_supplemented_is_erased_too(chat, wecom, wecom_api, config):
    _file(chat, wecom, wecom_api)
    chat("liang.wg", "核实 #A1 属实")
    chat("fang.lougang", "退回 #A1 缺少租赁合同")
    days = runtime.get().config.QINGCHE_APPLICATION_DAYS
    assert retention.erase_applications(now=utcnow() + timedelta(days=days - 1)) == 0
    assert retention.erase_applications(now=utcnow() + timedelta(days=days + 1)) == 1
    with session_scope(config.DATABASE_URL) as s:
        app = s.scalar(select(Application))
        assert (app.id_number, app.fields, app.status) == (None, {}, "returned")
