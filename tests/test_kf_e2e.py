"""A WeChat resident through 微信客服 gets the same answers and tickets as a WeCom member.

End to end: the encrypted kf_msg_or_event callback, kf/sync_msg, a real Redis and rq worker,
kf/send_msg on the API stand-in; the grid worker answers from the WeCom app.
"""
import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.models import Ticket
from tests.kf_helpers import WeChatResident


@pytest.fixture
def resident(wecom, wecom_api):
    return WeChatResident(wecom, wecom_api, "wmDemo001")


def test_wechat_resident_asks_files_hears_back_and_rates(resident, chat, wecom_api, config):
    resident.enter()
    assert "我住在" in resident.texts()[-1]
    [saved] = resident.write("我住在大沙墟社区")
    assert "大沙墟社区网格" in saved

    [answer] = resident.write("开居住证明要带什么")
    assert "住情况证明" in answer and "身份证" in answer

    [ask_where] = resident.write("路灯坏了三天了")
    assert "大沙墟社区网格" in ask_where
    [ask_photo] = resident.write("1")
    assert "照片" in ask_photo
    [summary] = resident.write("没有")
    assert "确认" in summary
    [filed] = resident.write("确认")
    assert "#1" in filed and "梅少芬" in filed
    [ticket] = _tickets(config)
    assert (ticket.reporter_userid, ticket.reporter_channel, ticket.patch_code) == ("wmDemo001", "kf", "DS-01")
    assert wecom_api.texts_to("mei.wg")[0].startswith("【新工单 #1】")

    chat("mei.wg", "接单 #1")
    chat("mei.wg", "办结 #1 已更换灯泡")
    told = resident.texts()
    assert "接单" in told[-2] and "已更换灯泡" in told[-1] and "满意" in told[-1]

    [thanks] = resident.write("满意")
    assert "5分" in thanks
    [ticket] = _tickets(config)
    assert (ticket.status, ticket.rating) == ("closed", 5)
    assert "群众评价：5分" in wecom_api.texts_to("mei.wg")[-1]
    assert all(p["open_kfid"] == resident.open_kfid for p in wecom_api.kf_sent)
    assert wecom_api.texts_to("wmDemo001") == []          # nothing went through the app API


def _tickets(config):
    with session_scope(config.DATABASE_URL) as s:
        return s.scalars(select(Ticket).order_by(Ticket.id)).all()
