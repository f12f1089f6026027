"""The daily digest and the monthly report agree with a hand-computed fixture.

Now is 2024-05-02 09:00 China time (01:00 UTC); yesterday is 05-01 (04-30 16:00 to 05-01 16:00 UTC).
Five tickets in 楼冈社区居委会 (长沙街道), one in 东河社区居委会 (三埠街道):

  #1 LG-01 filed yesterday, acknowledged in time, resolved yesterday, rated 5       (closed)
  #2 LG-01 filed yesterday, acknowledge deadline passed, nobody acknowledged       (open, overdue)
  #3 LG-02 filed 04-25, acknowledged late, resolved yesterday, rated 1              (reopened)
  #4 LG-02 filed 04-28, closed at once as a duplicate                              (closed, no resolution)
  #5 LG-01 filed 04-20, acknowledged in time, resolve deadline passed while waiting (waiting)
  #6 DH-01 filed yesterday, acknowledged in time                                   (acknowledged)

For 楼冈: yesterday in 2 (#1 #2), 办结 2 (#1 #3); open 3 (#2 #3 #5), overdue 1 (#2).
响应率 3/5 = 60.0% (#1 #4 #5 on time; #3 late; #2 due, none), 解决率 1/4 = 25.0% (#4 left out;
only #1 resolved), 满意率 1/2 = 50.0% (#1 rated 5, #3 rated 1).
"""
from datetime import datetime

from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from bot import digest, stats
from bot.cli_report import report
from bot.db import session_scope
from bot.models import CatalogueMiss, DigestSent, Person, Ticket

NOW = datetime(2024, 5, 2, 1, 0)


def d(text: str) -> datetime:
    return datetime.fromisoformat(text)


TICKETS = [
    {"number": 1, "patch_code": "LG-01", "village": "楼冈社区居委会", "town": "长沙街道", "assignee_userid": "liang.wg",
         "status": "closed", "requested_at": d("2024-05-01T02:00"), "respond_by": d("2024-05-02T02:00"),
         "acknowledge_by": d("2024-05-02T02:00"), "resolve_by": d("2024-05-04T02:00"),
         "acknowledged_at": d("2024-05-01T03:00"), "resolved_at": d("2024-05-01T10:00"), "closed_at": d("2024-05-01T11:00"),
         "rating": 5},
    {"number": 2, "patch_code": "LG-01", "village": "楼冈社区居委会", "town": "长沙街道", "assignee_userid": "liang.wg",
         "status": "open", "requested_at": d("2024-05-01T05:00"), "respond_by": d("2024-05-01T06:00"),
         "acknowledge_by": d("2024-05-01T06:00"), "resolve_by": d("2024-05-03T05:00")},
    {"number": 3, "patch_code": "LG-02", "village": "楼冈社区居委会", "town": "长沙街道", "assignee_userid": "zhou.wg",
         "status": "reopened", "requested_at": d("2024-04-25T00:00"), "respond_by": d("2024-04-26T00:00"),
         "acknowledge_by": d("2024-05-02T09:00"), "resolve_by": d("2024-05-08T09:00"),
         "acknowledged_at": d("2024-04-26T05:00"), "resolved_at": d("2024-05-01T08:00"), "rating": 1},
    {"number": 4, "patch_code": "LG-02", "village": "楼冈社区居委会", "town": "长沙街道", "assignee_userid": "zhou.wg",
         "status": "closed", "requested_at": d("2024-04-28T00:00"), "respond_by": d("2024-04-29T00:00"),
         "acknowledge_by": d("2024-04-29T00:00"), "resolve_by": d("2024-05-05T00:00"), "closed_at": d("2024-04-28T01:00")},
    {"number": 5, "patch_code": "LG-01", "village": "楼冈社区居委会", "town": "长沙街道", "assignee_userid": "liang.wg",
         "status": "waiting", "requested_at": d("2024-04-20T00:00"), "respond_by": d("2024-04-21T00:00"),
         "acknowledge_by": d("2024-04-21T00:00"), "resolve_by": d("2024-04-25T00:00"),
         "acknowledged_at": d("2024-04-20T01:00"), "paused_at": d("2024-04-22T00:00")},
    {"number": 6, "patch_code": "DH-01", "village": "东河社区居委会", "town": "三埠街道", "assignee_userid": "wu.wg",
         "status": "acknowledged", "requested_at": d("2024-05-01T01:00"), "respond_by": d("2024-05-02T01:00"),
         "acknowledge_by": d("2024-05-02T01:00"), "resolve_by": d("2024-05-04T01:00"),
         "acknowledged_at": d("2024-05-01T02:00")},
]

MISSES = [("chenayi", "老年证怎么办", "2024-05-01T03:00"), ("chenayi", "老年证怎么办", "2024-05-01T04:00"),
          ("lisuk", "渔船证去哪里办", "2024-05-01T05:00"), ("stranger", "养狗要登记吗", "2024-05-01T06:00"),
          ("chenayi", "前天的问题", "2024-04-29T06:00")]


def _fixture(config) -> None:
    with session_scope(config.DATABASE_URL) as s:
        for row in TICKETS:
            s.add(Ticket(service_code="streetlight", service_name="路灯", description=f"问题{row['number']}",
                         reporter_userid="chenayi", urgency="normal", **row))
        for userid, text, at in MISSES:
            s.add(CatalogueMiss(text=text, normalized=text, user_id=userid, created_at=d(at)))


def _cadre(s, userid):
    return s.scalar(select(Person).where(Person.userid == userid))


def test_rates_match_the_hand_computed_fixture(app, config):
    _fixture(config)
    with session_scope(config.DATABASE_URL) as s:
        counts = stats.tally(stats.filed_between(s, d("2024-04-01T00:00"), NOW, "楼冈社区居委会"), NOW)
    assert (counts.filed, counts.response_due, counts.responded_on_time) == (5, 5, 3)
    assert (counts.resolvable, counts.resolved, counts.rated, counts.satisfied) == (4, 1, 2, 1)
    assert (counts.open, counts.overdue) == (3, 1)
    assert [stats.fmt_rate(r) for r in (counts.response_rate, counts.resolve_rate, counts.satisfaction_rate)] == \
        ["60.0%", "25.0%", "50.0%"]


def test_digest_numbers_equal_the_fixture(app, config):
    _fixture(config)
    with session_scope(config.DATABASE_URL) as s:
        text = digest.compose(s, _cadre(s, "fang.lougang"), NOW)
        town = digest.compose(s, _cadre(s, "guan.changsha"), NOW)
        other = digest.compose(s, _cadre(s, "lu.donghe"), NOW)
    assert "楼冈社区居委会 工单日报（05月01日）" in text
    assert "昨日新受理 **2** 件，办结 **2** 件" in text
    assert "目前在办 **3** 件，其中超时 <font color=\"warning\">1</font> 件" in text
    assert "近30天三率**（5 件）" in text
    assert "响应率 60.0%" in text and "解决率 25.0%" in text and "满意率 50.0%" in text
    assert "楼冈社区第一网格：超时 1 件，不满意 0 件，在办 2 件" in text
    assert "楼冈社区第二网格：超时 0 件，不满意 1 件，在办 1 件" in text
    assert text.index("第一网格") < text.index("第二网格")
    assert "老年证怎么办（2次）" in text and "渔船证" not in text and "养狗" not in text and "前天" not in text
    assert "养狗要登记吗（1次）" in town and "老年证怎么办（2次）" in town      # the town also sees unplaced askers
    assert "昨日新受理 **1** 件" in other and "渔船证去哪里办（1次）" in other and "老年证" not in other


def test_digest_is_sent_once_per_cadre_per_day(app, config, wecom, wecom_api):
    config.QINGCHE_DIGEST_TIME = "08:00"
    _fixture(config)
    assert digest.send_due(datetime(2024, 5, 1, 23, 59)) == 0          # 07:59 China time: not yet
    assert digest.send_due(NOW) == 8                                    # every cadre with a jurisdiction
    assert digest.send_due(NOW) == 0
    wecom.run()
    pushes = [m for m in wecom_api.messages_to("fang.lougang") if m["msgtype"] == "markdown"]
    assert len(pushes) == 1 and "响应率 60.0%" in pushes[0]["markdown"]["content"]
    with session_scope(config.DATABASE_URL) as s:
        assert len(s.scalars(select(DigestSent)).all()) == 8


def test_digest_time_off_sends_none(app, config):
    config.QINGCHE_DIGEST_TIME = "off"
    _fixture(config)
    assert digest.send_due(NOW) == 0
    assert digest.due_day(NOW, "08:00") is not None and digest.due_day(NOW, "off") is None


def test_report_opens_in_a_spreadsheet_with_the_same_numbers(app, config, tmp_path):
    _fixture(config)
    out = tmp_path / "may.xlsx"
    result = CliRunner().invoke(report, ["--from", "2024-04-01", "--to", "2024-05-01", "--format", "xlsx",
                                         "--out", str(out)], env={"DATABASE_URL": config.DATABASE_URL})
    assert result.exit_code == 0, result.output
    wb = load_workbook(out)
    assert wb.sheetnames == ["合计", "按网格", "按网格员"]
    patches = {r[1]: r for r in wb["按网格"].iter_rows(min_row=3, values_only=True)}
    assert patches["LG-01"][5:13] == (3, 1, 2, 1, 2 / 3, 1 / 3, 1.0, 1)     # #1 #2 #5
    assert patches["LG-02"][5:13] == (2, 0, 1, 1, 1 / 2, 0.0, 0.0, 1)       # #3 #4
    assert patches["DH-01"][5:9] == (1, 0, 1, 1)                            # past its resolve deadline by now
    workers = {r[1]: r for r in wb["按网格员"].iter_rows(min_row=3, values_only=True)}
    assert workers["zhou.wg"][2] == "周志强" and workers["zhou.wg"][5] == 2
    [total] = list(wb["合计"].iter_rows(min_row=3, values_only=True))
    assert total[5] == 6 and total[9] == 4 / 6 and total[10] == 1 / 5 and total[11] == 1 / 2
    assert wb["按网格"].cell(row=3, column=10).number_format == "0.0%"


def test_report_as_csv(app, config, tmp_path):
    _fixture(config)
    out = tmp_path / "may.csv"
    result = CliRunner().invoke(report, ["--from", "2024-04-01", "--to", "2024-05-01", "--format", "csv",
                                         "--out", str(out)], env={"DATABASE_URL": config.DATABASE_URL})
    assert result.exit_code == 0, result.output
    lines = out.read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].startswith("层级,编号,名称")
    assert any(line.startswith("网格,LG-01,楼冈社区第一网格") and "66.7%,33.3%,100.0%" in line for line in lines)
    assert lines[-1].startswith("合计,,全部")
