"""A question that also tells of something to report: answered, and offered as a report, through
/wecom/callback (real Redis, rq, stand-in)."""
import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Ticket
from bot.tickets.words import report_shapes
from handlers.complaint import reports_too

OFFER = "请回复“反映问题”"


def _tickets(config):
    with session_scope(config.DATABASE_URL) as s:
        return [(t.service_code, t.description) for t in s.scalars(select(Ticket).order_by(Ticket.id))]


@pytest.mark.parametrize("text, shape", [("单位半年冇交社保，工伤都冇得赔", "owed"),
                                         ("老细唔俾我买社保", "owed"),
                                         ("我要搵佢讨个说法", "redress"),
                                         ("呢间铺呃秤，我想告佢", "unfair")])
def test_social_insurance_withheld_and_seeking_redress_have_the_shape_of_a_report(text, shape):
    assert shape in report_shapes(text)


@pytest.mark.parametrize("text", ["我想告诉你一件事", "医保费点交", "居住证明点开"])
def test_a_question_alone_does_not_report(text):
    assert not reports_too(text)


def test_a_question_that_also_reports_is_answered_and_反映问题_files_the_report(chat, config):
    [answer] = chat("newbie5", "老板拖欠工资三个月，低保点申请")
    assert answer.startswith("【低保申请】") and OFFER in answer
    assert "在哪里" in chat("newbie5", "反映问题")[-1]
    chat("newbie5", "东河市场门口")
    [filed] = chat("newbie5", "确认")
    assert "已提交" in filed
    assert _tickets(config) == [("labour", "老板拖欠工资三个月，低保点申请")]


def test_after_a_retained_certificate_both_申请_and_反映问题_stand(chat, config):
    [answer] = chat("newbie5", "房东唔退押金，我要搬走，居住证明点开")
    assert "回复“申请”" in answer and OFFER in answer
    assert "在哪里" in chat("newbie5", "投诉")[-1]
    assert _tickets(config) == []        # nothing filed before the place and the confirmation
    chat("newbie6", "房东唔退押金，我要搬走，居住证明点开")
    assert "申请【居（租）住情况证明】" in "\n".join(chat("newbie6", "申请"))


def test_a_plain_question_offers_no_report_and_反映问题_after_it_reports_nothing_of_it(chat, config):
    [answer] = chat("newbie5", "低保点申请")
    assert OFFER not in answer
    chat("newbie5", "反映问题")
    assert all("低保" not in description for _, description in _tickets(config))
