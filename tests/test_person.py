"""转人工: a resident who asks for a person gets one, through /wecom/callback (real Redis, rq, stand-in)."""
import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Ticket


def _tickets(config):
    with session_scope(config.DATABASE_URL) as s:
        return [(t.service_code, t.description) for t in s.scalars(select(Ticket).order_by(Ticket.id))]


@pytest.mark.parametrize("ask", ["转人工", "人工", "人工客服", "我要找真人", "可唔可以同工作人员讲呀"])
def test_asking_for_a_person_then_a_question_forwards_the_question(chat, config, ask):
    [reply] = chat("newbie5", ask)
    assert "转给工作人员" in reply and "问题在哪里" not in reply   # 人工 is not a wage complaint here
    [forwarded] = chat("newbie5", "阿妈想问下老人证点样办")
    assert "已把您的问题转给村（居）委会" in forwarded
    assert _tickets(config) == [("consultation", "阿妈想问下老人证点样办")]


def test_asking_for_a_person_then_a_report_files_it_for_the_grid_worker(chat, config):
    chat("newbie5", "转人工")
    assert "在哪里" in chat("newbie5", "楼下路灯坏咗成个礼拜")[-1]
    chat("newbie5", "东河市场门口")
    [filed] = chat("newbie5", "确认")
    assert "网格员吴丽华" in filed
    assert [code for code, _ in _tickets(config)] == ["streetlight"]


def test_asking_twice_forwards_the_request_itself_so_someone_calls_back(chat, config):
    chat("newbie5", "我要找真人")
    [forwarded] = chat("newbie5", "转人工")
    assert "已把您的问题转给" in forwarded
    assert _tickets(config) == [("consultation", "转人工")]


@pytest.mark.parametrize("text", ["老板两个月冇俾人工", "工作人员几点上班"])
def test_a_sentence_with_those_words_is_not_a_request_for_a_person(chat, text):
    assert "转给工作人员。请用一句话" not in chat("newbie5", text)[-1]
