"""Working days as 12345 counts them, from the maintained holiday calendar (weekends and 调休 right)."""
from datetime import date, datetime

from bot.workdays import add_working_days, is_workday, working_days_between


def test_national_day_and_its_make_up_saturday_2026():
    assert not is_workday(date(2026, 10, 1))      # 国庆
    assert not is_workday(date(2026, 10, 7))
    assert is_workday(date(2026, 2, 14))           # 调休: a Saturday that is a working day


def test_two_working_days_from_the_eve_of_national_day_end_after_the_holiday():
    # received 2026-09-30 10:00 China time; 1 October to 7 October are holidays
    due = add_working_days(datetime(2026, 9, 30, 2, 0), 2)
    assert due == datetime(2026, 10, 9, 15, 59, 59)   # 23:59:59 on 9 October, China time


def test_a_friday_request_with_two_working_days_is_due_on_tuesday():
    due = add_working_days(datetime(2026, 11, 20, 2, 0), 2)   # Friday 20 November 2026
    assert due.date() == date(2026, 11, 24)


def test_working_days_between():
    assert working_days_between(datetime(2026, 11, 20, 2, 0), datetime(2026, 11, 24, 2, 0)) == 2


def test_a_year_without_data_counts_monday_to_friday(caplog):
    due = add_working_days(datetime(2099, 1, 2, 2, 0), 1)   # Friday 2 January 2099
    assert due.date() == date(2099, 1, 5)
    assert "no data for 2099" in caplog.text
