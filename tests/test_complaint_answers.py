"""Residents answer intake questions the way people do: 是 / 好 / 没有, not only the digits we suggest."""
from sqlalchemy import select

from bot.db import session_scope
from bot.models.tickets import Ticket


def test_natural_answers_file_a_clean_ticket(chat, config, wecom_api):
    assert "在哪里" in chat("chenayi", "楼下路灯坏了三天了")[-1]
    assert "照片" in chat("chenayi", "是")[-1]
    assert "请核对" in chat("chenayi", "没有")[-1]
    assert "#1" in chat("chenayi", "确认")[-1]
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket))
        assert ticket.description == "楼下路灯坏了三天了"
        assert ticket.patch_code == "LG-01"
    assert any("#1" in t for t in wecom_api.texts_to("liang.wg"))


def test_a_short_yes_at_the_photo_step_is_not_added_to_the_description(chat, config):
    chat("chenayi", "楼下路灯坏了三天了")
    chat("chenayi", "1")
    chat("chenayi", "好")
    chat("chenayi", "确认")
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalar(select(Ticket.description)) == "楼下路灯坏了三天了"


def test_a_place_starting_with_a_yes_word_is_an_address(chat, config):
    chat("chenayi", "路灯坏了")
    chat("chenayi", "是碧桂园门口")
    chat("chenayi", "没有")
    chat("chenayi", "确认")
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalar(select(Ticket.patch_code)) == "LG-02"
