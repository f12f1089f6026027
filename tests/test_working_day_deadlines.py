"""Resolve deadlines in working days as 12345 counts them (`10wd`), shown to residents as a date."""
from datetime import UTC, date, datetime, timedelta

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot import runtime, sla, workdays
from bot.cli import cli
from bot.db import session_scope
from bot.models import Ticket
from bot.tickets import service
from bot.timeutil import CHINA, WEEKDAYS, fmt_deadline, to_local
from tests.cadre_helpers import age, file_streetlight


def utc(y, mo, d, h, mi=0) -> datetime:
    """A China-time moment as the database keeps it (naive UTC)."""
    return datetime(y, mo, d, h, mi, tzinfo=CHINA).astimezone(UTC).replace(tzinfo=None)


def new_ticket(category: str = "streetlight", urgency: str = "normal") -> Ticket:
    return Ticket(service_code=category, urgency=urgency, status="open")


# --- the file ---------------------------------------------------------------------------------

def test_working_days_are_a_unit_for_resolve():
    parsed = sla.parse({"default": {"acknowledge": "24h", "resolve": "10wd"}, "labour": {"resolve": "15wd"}})
    assert parsed.default.resolve == sla.WorkingDays(10)
    assert parsed.limits("labour").resolve == sla.WorkingDays(15)
    assert parsed.default.acknowledge == timedelta(hours=24)


@pytest.mark.parametrize("entry, message", [
    ("default: {acknowledge: 2wd, resolve: 10wd}", "sla.yaml: default.acknowledge: '2wd': working days (wd) are "
                                                   "for resolve deadlines only; write this one in s, m, h or d"),
    ("default: {acknowledge: 24h, resolve: 10wd, remind: 1wd}", "sla.yaml: default.remind: '1wd': working days"),
    ("default: {acknowledge: 24h, resolve: 10w}", "sla.yaml: default.resolve: '10w' is not a duration such as "
                                                  "30s, 15m, 2h, 10d or 10wd (working days)"),
    ("default: {acknowledge: 24h, resolve: 0wd}", "sla.yaml: default.resolve: '0wd' is not a duration"),
    ("default: {acknowledge: 48h, resolve: 1wd}", "sla.yaml: default: resolve must not be shorter than acknowledge"),
    ("default: {acknowledge: 24h, resolve: 10wd}\nwhistle: {report: 1wd}", "sla.yaml: whistle.report: '1wd'"),
])
def test_a_bad_working_day_entry_names_the_file_and_key(tmp_path, monkeypatch, entry, message):
    bad = tmp_path / "sla.yaml"
    bad.write_text(entry + "\n", encoding="utf-8")
    monkeypatch.setenv("QINGCHE_SLA_FILE", str(bad))
    runtime.reset()
    result = CliRunner().invoke(cli, ["knowledge", "check"])
    assert result.exit_code == 1
    assert message in result.output


def test_the_shipped_file_follows_the_12345_classes():
    loaded = sla.load()
    assert loaded.default.resolve == sla.WorkingDays(10)                    # 求助类
    for category in ("streetlight", "road", "environment", "neighbour", "other"):
        assert loaded.limits(category).resolve == sla.WorkingDays(10), category
    for category in ("illegal_building", "labour", "noise", "pollution", "property", "market"):
        assert loaded.limits(category).resolve == sla.WorkingDays(15), category   # 投诉类、举报类
    assert loaded.limits("utilities").resolve == timedelta(hours=24)        # urgent ones keep their short clocks
    assert loaded.urgency["high"].resolve == timedelta(hours=24)
    assert loaded.limits("fire_hazard").resolve == timedelta(days=3)
    assert {lim.acknowledge for lim in loaded.categories.values()} == {timedelta(hours=24), timedelta(hours=4)}


# --- the clocks -------------------------------------------------------------------------------

def test_ten_working_days_skip_national_day_and_count_its_make_up_saturday():
    ticket = new_ticket()
    received = utc(2026, 9, 29, 10)            # Tuesday; 1-7 October off, Saturday 10 October worked
    sla.start(ticket, received)
    # 30 Sep, 8, 9, 10 (Sat), 12, 13, 14, 15, 16, 19 October
    assert to_local(ticket.resolve_by).replace(tzinfo=None) == datetime(2026, 10, 19, 23, 59, 59)
    assert ticket.expected_at == ticket.resolve_by
    assert ticket.acknowledge_by == received + timedelta(hours=24)    # the acknowledge clock stays in hours
    assert service.expected_text(ticket) == "10月19日（周一）"


def test_a_friday_complaint_gets_fifteen_working_days():
    ticket = new_ticket("labour")
    sla.start(ticket, utc(2026, 11, 20, 16))    # Friday
    assert to_local(ticket.resolve_by).date() == date(2026, 12, 11)   # 23, 24, ... 11 December: 15 working days
    assert workdays.working_days_between(utc(2026, 11, 20, 16), ticket.resolve_by) == 15


def test_urgent_deadlines_stay_in_hours():
    ticket = new_ticket("utilities", "high")
    sla.start(ticket, utc(2026, 11, 20, 15, 30))
    assert ticket.resolve_by == utc(2026, 11, 21, 15, 30)
    assert service.expected_text(ticket) == "11月21日（周六）15:30"


def test_a_wait_over_the_weekend_moves_the_deadline_by_the_working_day_it_reached():
    ticket = new_ticket()
    sla.start(ticket, utc(2026, 11, 16, 9))     # Monday: due Monday 30 November
    due, ack = ticket.resolve_by, ticket.acknowledge_by
    assert to_local(due).date() == date(2026, 11, 30)
    sla.pause(ticket, utc(2026, 11, 20, 17))    # Friday evening
    sla.resume(ticket, utc(2026, 11, 23, 9))    # Monday morning: Monday began while waiting
    assert to_local(ticket.resolve_by).replace(tzinfo=None) == datetime(2026, 12, 1, 23, 59, 59)
    assert ticket.expected_at == ticket.resolve_by
    assert ticket.acknowledge_by == ack + timedelta(hours=64)        # hours move by the time spent waiting


def test_a_wait_within_one_day_keeps_a_working_day_deadline():
    ticket = new_ticket()
    sla.start(ticket, utc(2026, 11, 16, 9))
    due = ticket.resolve_by
    sla.pause(ticket, utc(2026, 11, 17, 10))
    sla.resume(ticket, utc(2026, 11, 17, 15))
    assert ticket.resolve_by == due and ticket.paused_at is None


@pytest.mark.parametrize("moment, text", [
    (datetime(2026, 12, 21, 15, 59, 59), "12月21日（周一）"),       # the end of a day, China time
    (datetime(2026, 1, 4, 7, 30), "1月4日（周日）15:30"),
    (None, ""),
])
def test_deadlines_read_as_people_say_them(moment, text):
    assert fmt_deadline(moment) == text


# --- end to end -------------------------------------------------------------------------------

def test_the_resident_is_told_the_day_and_the_deadline_is_the_end_of_the_tenth_working_day(chat, config):
    chat("chenayi", "楼下路灯坏了三天了")
    chat("chenayi", "1")
    chat("chenayi", "没有")
    replies = chat("chenayi", "确认")
    assert len(replies) == 1, replies
    filed = replies[0]
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket))
        requested, due, expected = ticket.requested_at, ticket.resolve_by, ticket.expected_at
    local_due = to_local(due)
    assert (local_due.hour, local_due.minute, local_due.second) == (23, 59, 59)
    assert workdays.is_workday(local_due.date())
    assert workdays.working_days_between(requested, due) == 10
    assert expected == due
    day = f"{local_due.month}月{local_due.day}日（{WEEKDAYS[local_due.weekday()]}）"
    assert f"预计{day}前办结" in filed
    [detail] = chat("fang.lougang", "查询 #1")
    assert f"办结时限：{day}" in detail


def test_overdue_and_the_digest_counts_work_with_working_day_deadlines(chat, config):
    file_streetlight(chat)
    [today] = chat("fang.lougang", "今日")
    assert "其中超时 0 件" in today
    age(config, 1, 30 * 86400)                  # 30 calendar days: past any 10 working days
    [today] = chat("fang.lougang", "今日")
    assert "其中超时 1 件" in today
    [late] = chat("fang.lougang", "超时")
    assert "#1 路灯" in late


# --- the holiday calendar -------------------------------------------------------------------

def test_knowledge_check_warns_when_next_year_has_no_holiday_data(monkeypatch):
    monkeypatch.setattr(workdays, "covered", lambda year: False)
    result = CliRunner().invoke(cli, ["knowledge", "check"])
    assert result.exit_code == 0, result.output
    assert "Warning: the holiday calendar" in result.output and "has no data for" in result.output
    monkeypatch.setattr(workdays, "covered", lambda year: True)
    result = CliRunner().invoke(cli, ["knowledge", "check"])
    assert result.exit_code == 0 and "Warning" not in result.output
