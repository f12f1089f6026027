"""Complaints become tickets for the grid worker; grid workers close them by replying.

End to end through /wecom/callback, a real Redis, a real rq worker and the WeCom API stand-in.
"""
from sqlalchemy import func, select

from bot.db import session_scope
from bot.models import Outbox, Ticket, TicketEvent, TicketFollower, TicketMedia
from bot.standin import callbacks
from tests.conftest import CORP_ID


def _tickets(config):
    with session_scope(config.DATABASE_URL) as s:
        return s.scalars(select(Ticket).order_by(Ticket.id)).all()


def _events(config, number):
    with session_scope(config.DATABASE_URL) as s:
        ticket = s.scalar(select(Ticket).where(Ticket.number == number))
        return [(e.actor, e.action, e.from_status, e.to_status) for e in ticket.events]


def _file_streetlight(chat, user="chenayi"):
    """A resident files "楼下路灯坏了三天了" at her registered patch, without a photo."""
    [ask_where] = chat(user, "楼下路灯坏了三天了")
    assert "问题在哪里" in ask_where and "楼冈社区第一网格" in ask_where
    [ask_photo] = chat(user, "1")
    assert "照片" in ask_photo
    [summary] = chat(user, "没有")
    assert "路灯" in summary and "确认" in summary
    [filed] = chat(user, "确认")
    assert "#1" in filed and "梁晓敏" in filed and "24小时" in filed
    return filed


def test_resident_files_worker_acknowledges_resolves_resident_rates(chat, wecom_api, config):
    _file_streetlight(chat)
    push = wecom_api.texts_to("liang.wg")
    assert push[0].startswith("【新工单 #1】路灯")
    assert "138****1001" in push[0] and "陈阿姨" in push[0]
    assert "接单 #1" in push[0] and "办结 #1" in push[0] and "退单 #1" in push[0]
    card = [m for m in wecom_api.messages_to("liang.wg") if m["msgtype"] == "template_card"]
    assert [b["key"] for b in card[0]["template_card"]["button_list"]] == ["ticket:acknowledge:1",
                                                                          "ticket:resolve:1"]
    assert wecom_api.texts_to("zhou.wg") == []   # another patch's worker hears nothing

    [ack] = chat("liang.wg", "接单 #1")
    assert "已接单 #1" in ack
    assert "已由梁晓敏接单" in wecom_api.texts_to("chenayi")[-1]

    [done] = chat("liang.wg", "办结 #1 已更换灯泡")
    assert "已办结 #1" in done
    told = wecom_api.texts_to("chenayi")[-1]
    assert "已办结" in told and "已更换灯泡" in told and "满意" in told

    [thanks] = chat("chenayi", "满意")
    assert "5分" in thanks
    [ticket] = _tickets(config)
    assert (ticket.status, ticket.rating, ticket.status_notes) == ("closed", 5, "已更换灯泡")
    assert [e[1] for e in _events(config, 1)] == ["create", "assign", "acknowledge", "resolve", "rate", "rate"]
    assert "群众评价：5分" in wecom_api.texts_to("liang.wg")[-1]
