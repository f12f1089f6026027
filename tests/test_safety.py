"""Nothing lost, nothing leaked, never silent: the defects an outside client and a security review
found, each through /wecom/callback with a real worker and the WeCom stand-in (SQLite and PostgreSQL).
"""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Outbox, Ticket, TicketMedia
from bot.standin import callbacks
from bot.standin.api import StandInState
from tests.conftest import CORP_ID
from tests.intake_driver import file_ticket

ERROR_TEXT = "系统刚才出了点问题"
PHONE = "13912345678"
ID_NUMBER = "440783199001011234"


def _tickets(config):
    with session_scope(config.DATABASE_URL) as s:
        return s.scalars(select(Ticket).order_by(Ticket.id)).all()


# --- 1. WeCom's duplicate check never swallows a legitimate repeat ---------------------------------

def test_the_same_question_twice_gets_the_same_answer_twice(chat, wecom_api):
    first = chat("lisuk", "开居住证明要带什么")
    second = chat("lisuk", "开居住证明要带什么")
    assert first and second == first
    assert wecom_api.duplicates == []
    assert all("enable_duplicate_check" not in p for p in wecom_api.calls_to("message/send"))


def test_a_question_asked_again_after_cancelling_is_asked_again(chat, wecom_api):
    [ask] = chat("chenayi", "楼下路灯坏了三天了")
    chat("chenayi", "取消")
    [again] = chat("chenayi", "楼下路灯坏了三天了")
    assert again == ask
    assert wecom_api.duplicates == []


def test_a_resend_after_an_unknown_outcome_asks_wecom_to_drop_a_duplicate(app, config, wecom, wecom_api):
    from bot import delivery, runtime
    from bot.outbox import queue_text

    with session_scope(config.DATABASE_URL) as s:
        [row] = queue_text(s, "lisuk", "只发一次")
        row_id = row.id
    rt = runtime.get()
    with session_scope(config.DATABASE_URL) as s:   # the worker died after WeCom accepted the send
        row = s.get(Outbox, row_id)
        delivery._send_row(rt, s, row)
        s.rollback()
    with session_scope(config.DATABASE_URL) as s:
        assert s.get(Outbox, row_id).in_flight_since is not None
    delivery.deliver_to("app", "lisuk")
    sends = wecom_api.calls_to("message/send")
    assert [p.get("enable_duplicate_check") for p in sends] == [None, 1]
    assert wecom_api.texts_to("lisuk") == ["只发一次"] and len(wecom_api.duplicates) == 1
    with session_scope(config.DATABASE_URL) as s:
        row = s.get(Outbox, row_id)
        assert (row.status, row.in_flight_since) == ("sent", None)


def test_the_stand_in_drops_what_wecom_drops():
    import requests

    from bot.standin import StandInServer

    server = StandInServer(StandInState("wwx", {"s": "app"})).start()
    try:
        token = requests.get(server.base_url + "gettoken", params={"corpid": "wwx", "corpsecret": "s"}).json()
        url = server.base_url + "message/send?access_token=" + token["access_token"]
        body = {"touser": "a", "msgtype": "text", "agentid": 1, "text": {"content": "同一句"}}
        for _ in range(2):
            assert requests.post(url, json={**body, "enable_duplicate_check": 1}).json()["errcode"] == 0
        assert len(server.state.sent) == 1 and len(server.state.duplicates) == 1
        for n in range(31):
            requests.post(url, json={**body, "text": {"content": f"第{n}条"}})
        assert len(server.state.sent) == 30 and len(server.state.rate_dropped) == 2
    finally:
        server.stop()


# --- 2. Deep nesting is refused with 400 before anything recurses ----------------------------------

@pytest.mark.parametrize("where", ["envelope", "ciphertext"])
def test_deeply_nested_xml_is_a_400_not_a_500(client, crypto, config, caplog, where):
    deep = "<a>" * 1000 + "x" + "</a>" * 1000
    if where == "envelope":
        body, params = f"<xml>{deep}<Encrypt>abc</Encrypt></xml>".encode(), {"msg_signature": "0" * 40,
                                                                          "timestamp": "1", "nonce": "1"}
    else:
        body, params = crypto.build_post(f"<xml><FromUserName>x</FromUserName>{deep}</xml>", "7")
    with caplog.at_level(logging.WARNING):
        resp = client.post("/wecom/callback", query_string=params, data=body, content_type="text/xml")
    assert resp.status_code == 400
    assert "Traceback" not in caplog.text and "RecursionError" not in caplog.text


def test_too_many_elements_is_a_400(client, crypto):
    body, params = crypto.build_post("<xml>" + "<A>1</A>" * 2000 + "</xml>", "8")
    assert client.post("/wecom/callback", query_string=params, data=body, content_type="text/xml").status_code == 400


# --- 3. Residents never read each other's words ----------------------------------------------------

def _file_with_personal_numbers(chat):
    file_ticket(chat, "chenayi", f"楼下路灯坏了三天了，有事打我电话{PHONE}，身份证{ID_NUMBER}", place="1")


def test_the_same_problem_offer_shows_category_place_and_status_only(chat, config):
    _file_with_personal_numbers(chat)
    offer = chat("wxstranger", "楼冈市场那边路灯坏了")
    text = "\n".join(offer)
    assert "同一件事" in text and "#1" in text and "路灯" in text and "楼冈社区第一网格" in text
    for private in (PHONE, "三天", "身份证", ID_NUMBER[:6] + "1990"):
        assert private not in text
    assert "已关注工单 #1" in chat("wxstranger", "1")[-1]
    [view] = chat("wxstranger", "查询 #1")
    assert "路灯" in view and "状态" in view
    assert PHONE not in view and "三天" not in view and "身份证" not in view


def test_no_offer_from_another_patch(chat, config):
    _file_with_personal_numbers(chat)
    replies = file_ticket(chat, "lisuk", "家门口的路灯坏了", place="1")
    assert not any("同一件事" in t for t in replies)
    assert len(_tickets(config)) == 2


def test_nearby_means_a_few_hundred_metres_of_a_sent_location(chat, wecom, wecom_api, config):
    def report(user, lat):
        chat(user, "这里路灯坏了")
        before = len(wecom_api.texts_to(user))
        wecom.location(user, lat, 112.6905, "")
        wecom.run()
        return wecom_api.texts_to(user)[before:]

    report("u.first", 22.3821)
    chat("u.first", "确认")
    assert len(_tickets(config)) == 1
    assert any("同一件事" in t for t in report("u.near", 22.3830))       # 100 m away
    assert not any("同一件事" in t for t in report("u.far", 22.3921))   # 1.1 km away


def test_phone_numbers_only_for_the_assigned_grid_worker_and_id_numbers_for_nobody(chat, wecom_api):
    _file_with_personal_numbers(chat)
    push = "\n".join(wecom_api.texts_to("liang.wg"))
    assert PHONE in push and ID_NUMBER not in push and "440783********1234" in push
    [worker_view] = chat("liang.wg", "查询 #1")
    assert PHONE in worker_view and ID_NUMBER not in worker_view
    cadre_view = "\n".join(chat("fang.lougang", "查询 #1"))
    assert "139****5678" in cadre_view and PHONE not in cadre_view and ID_NUMBER not in cadre_view
    [own_view] = chat("chenayi", "查询 #1")
    assert ID_NUMBER not in own_view


# --- 4. Every value fits its column: nothing is lost at 确认 -------------------------------------

def test_a_very_long_address_is_cut_with_a_mark_and_the_ticket_filed(chat, config):
    address = "开平市长沙街道某某路" + "很长的地址描述" * 56       # 403 characters
    assert len(address) > 300
    replies = file_ticket(chat, "u.long", "路灯坏了", place=address)
    assert any("已提交" in t for t in replies)
    [ticket] = _tickets(config)
    assert len(ticket.address) == 300 and ticket.address.endswith("…")


def test_an_impossible_media_id_gets_a_clear_message_and_the_draft_stays(chat, wecom, wecom_api, config):
    chat("chenayi", "楼下路灯坏了三天了")
    wecom.image("chenayi", media_id="m" * 300)
    wecom.run()
    assert "图片没能收到" in wecom_api.texts_to("chenayi")[-1]
    replies = file_ticket(chat, "chenayi", "1", place="1")
    assert any("已提交" in t for t in replies)
    [ticket] = _tickets(config)
    assert "路灯" in ticket.service_name


def test_a_long_picture_link_keeps_the_photo(chat, wecom, wecom_api, config):
    chat("chenayi", "楼下路灯坏了三天了")
    wecom.image("chenayi", media_id="photo-ok", pic_url="https://wework.qpic.cn/" + "p" * 600)
    wecom.run()
    file_ticket(chat, "chenayi", "1", place="1")
    assert len(_tickets(config)) == 1
    with session_scope(config.DATABASE_URL) as s:
        [media] = s.scalars(select(TicketMedia)).all()
        assert media.media_id == "photo-ok" and len(media.pic_url) == 623


def test_a_long_location_label_fits(chat, wecom, wecom_api, config):
    chat("u.label", "这里路灯坏了")
    wecom.location("u.label", 22.3821, 112.6905, "楼冈路" * 150)
    wecom.run()
    chat("u.label", "确认")
    [ticket] = _tickets(config)
    assert len(ticket.address) == 300


# --- 5. Odd but valid input gets a clear reply, never the generic error ------------------------------

def test_a_location_off_the_globe(chat, wecom, wecom_api):
    chat("chenayi", "楼下路灯坏了三天了")
    wecom.post_xml(callbacks.message_xml(CORP_ID, "chenayi", "location", Location_X="1e999", Location_Y="nan",
                                         Scale="15", Label=""))
    wecom.run()
    reply = wecom_api.texts_to("chenayi")[-1]
    assert "位置读不出来" in reply and ERROR_TEXT not in reply
    assert any("已提交" in t for t in file_ticket(chat, "chenayi", "1", place="1"))


def test_a_card_click_for_a_ticket_number_no_column_holds(wecom, wecom_api):
    wecom.event("liang.wg", "template_card_event", EventKey="ticket:acknowledge:" + "9" * 30,
                TaskId="t", CardType="button_interaction", ResponseCode="rc")
    wecom.run()
    [reply] = wecom_api.texts_to("liang.wg")
    assert "没有找到工单" in reply and ERROR_TEXT not in reply
