"""A short follow-up about the entry just answered, through /wecom/callback (real Redis, rq, stand-in)."""
import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Ticket
from handlers.followup import aspect_of


@pytest.mark.parametrize("text, aspect", [("要几耐", "time"), ("要带咩", "materials"), ("喺边度办", "where"),
                                          ("收费吗", "fee"), ("幾點返工", "hours"), ("可唔可以帮人代办", "who"),
                                          ("居住证明要带什么材料去居委会开，几天有", None)])   # long: about itself
def test_the_aspect_a_short_follow_up_asks(text, aspect):
    assert aspect_of(text) == aspect


def test_follow_ups_after_a_retained_certificate_are_answered_from_its_fields(chat):
    chat("newbie5", "居住证明点开")
    [how_long] = chat("newbie5", "要几耐")
    assert how_long.startswith("关于【居（租）住情况证明】") and "当场办结" in how_long
    [bring] = chat("newbie5", "要带咩")
    assert "租赁合同" in bring and "多久办好" not in bring          # only what was asked
    apply = "\n".join(chat("newbie5", "申请"))                      # the 申请 offer still stands
    assert "申请【居（租）住情况证明】" in apply


def test_an_aspect_no_entry_holds_is_offered_to_a_person_with_the_entry_named(chat, config):
    chat("newbie5", "居住证明点开")
    [offer] = chat("newbie5", "收费吗")
    assert "没有写明" in offer and "回复 1" in offer
    chat("newbie5", "1")
    with session_scope(config.DATABASE_URL) as s:
        [ticket] = s.scalars(select(Ticket)).all()
        assert (ticket.service_code, ticket.description) == ("consultation", "【居（租）住情况证明】收费吗")


def test_a_follow_up_about_another_kind_of_entry_repeats_its_answer(chat):
    chat("newbie5", "低保点申请")
    [again] = chat("newbie5", "喺边度办")
    assert again.startswith("【低保申请】")


@pytest.mark.parametrize("text, expected", [("居住证呢", "【居住证（广东省居住证）】"), ("楼下路灯坏咗", "问题在哪里")])
def test_a_new_question_or_a_report_after_an_answer_is_taken_afresh(chat, text, expected):
    chat("newbie5", "居住证明点开")
    assert expected in chat("newbie5", text)[-1]


def test_without_an_answer_before_it_a_follow_up_is_not_understood_and_offered(chat):
    assert "转给村（居）委会" in chat("newbie5", "要几耐")[-1]
