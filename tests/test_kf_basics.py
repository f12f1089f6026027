"""微信客服: sync, dedupe, cursor, replies through kf/send_msg, the welcome, and the village."""
import pytest
from sqlalchemy import select

from bot.db import session_scope
from bot.models import InboundMessage, KfCursor, Person
from bot.standin import kf as standin_kf
from tests.kf_helpers import OPEN_KFID, WeChatResident


@pytest.fixture
def resident(wecom, wecom_api):
    return WeChatResident(wecom, wecom_api, "wmDemo001")


def test_customer_message_is_pulled_answered_and_remembered(resident, wecom_api, config):
    [answer] = resident.write("你好")
    assert "办事小助手" in answer
    [sent] = wecom_api.kf_sent
    assert sent["open_kfid"] == OPEN_KFID and sent["touser"] == "wmDemo001"
    assert sent["msgid"].startswith("qc")
    assert wecom_api.sent == []                    # nothing through the app's message/send
    syncs = [c["payload"] for c in wecom_api.calls if c["path"] == "kf/sync_msg"]
    assert syncs[0]["open_kfid"] == OPEN_KFID and syncs[0]["token"]
    with session_scope(config.DATABASE_URL) as s:
        person = s.scalar(select(Person).where(Person.userid == "wmDemo001"))
        assert (person.role, person.channel) == ("resident", "kf")
        [row] = s.scalars(select(InboundMessage).where(InboundMessage.channel == "kf")).all()
        assert row.status == "done" and row.payload["Content"] == "你好"
        assert s.scalar(select(KfCursor.cursor).where(KfCursor.open_kfid == OPEN_KFID)) == "1"


def test_repeated_callbacks_and_pages_answer_each_message_once(resident, wecom, wecom_api, config):
    for text in ("你好", "帮助", "在吗"):
        standin_kf.customer_writes(wecom_api, "wmDemo001", OPEN_KFID, text)
    resident.notify()
    resident.notify()          # a second notification for the same messages
    wecom.run()
    resident.notify()          # and one after they were answered
    wecom.run()
    assert len(wecom_api.kf_sent) + len(wecom_api.duplicates) <= 3   # merged answers may be fewer
    assert wecom_api.duplicates == []
    with session_scope(config.DATABASE_URL) as s:
        rows = s.scalars(select(InboundMessage).where(InboundMessage.channel == "kf")).all()
        assert [r.payload["Content"] for r in rows] == ["你好", "帮助", "在吗"]


def test_sync_follows_has_more(resident, wecom, wecom_api, config, monkeypatch):
    from bot.kf import api

    monkeypatch.setattr(api, "SYNC_LIMIT", 2)
    for n in range(5):
        standin_kf.customer_writes(wecom_api, f"wmPage{n}", OPEN_KFID, "你好")
    resident.notify()
    wecom.run()
    assert sum(1 for c in wecom_api.calls if c["path"] == "kf/sync_msg") == 3
    assert {p["touser"] for p in wecom_api.kf_sent} == {f"wmPage{n}" for n in range(5)}


def test_app_token_cannot_pull(wecom_api, config, app):
    from bot import runtime
    from bot.errors import WeComError
    from bot.kf import api

    with pytest.raises(WeComError) as exc:
        api.sync_msg(runtime.get().wecom, OPEN_KFID, token=standin_kf.issue_token(wecom_api, OPEN_KFID))
    assert exc.value.errcode == 48002


def test_enter_session_gets_the_welcome_with_the_code(resident, wecom_api):
    code = resident.enter()
    [welcome] = [p for p in wecom_api.kf_sent if p.get("_welcome")]
    assert welcome["code"] == code
    assert "办事小助手" in welcome["text"]["content"]
    assert "我住在" in welcome["text"]["content"]      # asked where they live


def test_resident_tells_their_village_once(resident, config):
    [answer] = resident.write("我住在大沙墟社区")
    assert "大沙墟社区居委会" in answer
    with session_scope(config.DATABASE_URL) as s:
        person = s.scalar(select(Person).where(Person.userid == "wmDemo001"))
        assert person.village == "大沙墟社区居委会"
        assert person.patch is not None
    [menu] = resident.write("帮助")
    assert "大沙墟社区居委会" in menu


def test_village_with_two_patches_sets_no_patch_and_unknown_place_is_explained(resident, config):
    resident.write("我住在楼冈社区")
    with session_scope(config.DATABASE_URL) as s:
        person = s.scalar(select(Person).where(Person.userid == "wmDemo001"))
        assert (person.village, person.patch) == ("楼冈社区居委会", None)
    [answer] = resident.write("我住在火星村")
    assert "火星村" in answer and "大沙墟社区" in answer


@pytest.mark.parametrize("text, place", [
    ("我住在大沙墟社区", "大沙墟社区"),
    ("住喺南屏村", "南屏村"),
    ("我系楼冈社区嘅居民", "楼冈社区"),
    ("我家在东河社区", "东河社区"),
])
def test_said_place(text, place):
    from bot.kf.village import said_place

    assert said_place(text)[0] == place


@pytest.mark.parametrize("text", ["我住在大沙墟社区，门口路灯坏了", "开居住证明要带什么", "在吗"])
def test_not_a_statement_of_place(text):
    from bot.kf.village import said_place

    assert said_place(text) is None



def test_image_and_location_are_normalised_like_app_messages(resident, config):
    assert resident.send("image", {"media_id": "kfmedia1"})
    assert resident.send("location", {"latitude": 22.293, "longitude": 112.447, "name": "大沙市场",
                                      "address": "开平市大沙镇"})
    with session_scope(config.DATABASE_URL) as s:
        image, location = s.scalars(select(InboundMessage).where(InboundMessage.channel == "kf")
                                    .order_by(InboundMessage.id)).all()
        assert (image.msg_type, image.payload["MediaId"]) == ("image", "kfmedia1")
        assert (location.payload["Location_X"], location.payload["Location_Y"]) == (22.293, 112.447)
        assert location.payload["Label"] == "大沙市场 开平市大沙镇"


def test_old_backlog_is_recorded_but_not_answered(resident, wecom, wecom_api, config):
    import time

    standin_kf.customer_writes(wecom_api, "wmDemo001", OPEN_KFID, "三天前的消息", send_time=time.time() - 72 * 3600)
    resident.notify()
    wecom.run()
    assert wecom_api.kf_sent == []
    with session_scope(config.DATABASE_URL) as s:
        [row] = s.scalars(select(InboundMessage).where(InboundMessage.channel == "kf")).all()
        assert row.status == "done" and "window" in row.error
