"""KF's window: 5 messages within 48 hours of the resident's last message; what can't go now is held."""
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from bot.db import session_scope
from bot.delivery import enqueue_rows
from bot.kf.send import msgid_for
from bot.models import KfCustomer, Outbox
from bot.outbox import queue_text
from bot.standin import kf as standin_kf
from bot.timeutil import utcnow
from tests.kf_helpers import OPEN_KFID, WeChatResident


@pytest.fixture
def resident(wecom, wecom_api):
    return WeChatResident(wecom, wecom_api, "wmDemo001")


def push(config, wecom, *texts, reply=False):
    """Queue texts to the resident as another user's context would (a ticket update), and deliver."""
    with session_scope(config.DATABASE_URL) as s:
        rows = [r for t in texts for r in queue_text(s, "wmDemo001", t, channel="kf",
                                                     open_kfid=OPEN_KFID if reply else None)]
    enqueue_rows(rows)
    wecom.run()


def statuses(config):
    with session_scope(config.DATABASE_URL) as s:
        return [r.status for r in s.scalars(select(Outbox).where(Outbox.to_user == "wmDemo001")
                                             .order_by(Outbox.id))]


def test_pushes_use_four_slots_then_are_held_until_the_resident_writes(resident, wecom, wecom_api, config):
    resident.write("你好")                                   # 1 sent: the answer
    for n in range(5):
        push(config, wecom, f"工单进展 {n}")
    assert resident.texts()[1:] == ["工单进展 0", "工单进展 1", "工单进展 2"]   # 4 of 5 in all
    assert statuses(config)[-2:] == ["held", "held"]
    texts = resident.write("在吗")
    # the held updates go first, merged with the answer into one message
    assert len(texts) == 1
    assert texts[0].startswith("工单进展 3\n\n工单进展 4\n\n") and "办事小助手" in texts[0]
    assert set(statuses(config)) == {"sent"}


def test_a_reply_may_take_the_last_slot(resident, wecom, wecom_api, config):
    resident.write("你好")
    push(config, wecom, "更新 1")
    push(config, wecom, "更新 2")
    push(config, wecom, "更新 3")
    push(config, wecom, "更新 4")                            # held: the last slot is for replies
    push(config, wecom, "回答", reply=True)
    assert resident.texts()[-1] == "回答"
    assert statuses(config) == ["sent", "sent", "sent", "sent", "held", "sent"]
    assert len(wecom_api.kf_sent) == 5


def test_after_48_hours_updates_wait_for_the_resident(resident, wecom, wecom_api, config):
    resident.write("你好")
    long_ago = utcnow() - timedelta(hours=49)
    with session_scope(config.DATABASE_URL) as s:
        s.execute(update(KfCustomer).values(last_customer_msg_at=long_ago))
    for m in wecom_api.kf_messages:
        m["_t"] = m["send_time"] = m["send_time"] - 49 * 3600
    push(config, wecom, "您反映的问题已办结")
    assert statuses(config)[-1] == "held"
    assert len(resident.texts()) == 1
    [merged] = resident.write("你好")
    assert merged.startswith("您反映的问题已办结")


def test_wechat_refusal_holds_the_message_and_a_new_msgid_is_used(resident, wecom, wecom_api, config):
    resident.write("你好")
    wecom_api.fail("kf/send_msg", 95001)
    push(config, wecom, "工单进展")
    with session_scope(config.DATABASE_URL) as s:
        row = s.scalars(select(Outbox).order_by(Outbox.id.desc())).first()
        assert row.status == "held" and msgid_for(row) == f"qc{row.id}t1"
        assert s.scalar(select(KfCustomer.sent_since)) == 5   # nothing more until the resident writes
    [merged] = resident.write("你好")
    assert merged.startswith("工单进展")


def test_msg_send_fail_event_holds_or_fails_the_row(resident, wecom, wecom_api, config):
    resident.write("你好")
    push(config, wecom, "进展 A")
    push(config, wecom, "进展 B")
    a, b = [p["msgid"] for p in wecom_api.kf_sent[-2:]]
    standin_kf.system_event(wecom_api, OPEN_KFID, {"event_type": "msg_send_fail", "external_userid": "wmDemo001",
                                                   "fail_msgid": a, "fail_type": 6})
    standin_kf.system_event(wecom_api, OPEN_KFID, {"event_type": "msg_send_fail", "external_userid": "wmDemo001",
                                                   "fail_msgid": b, "fail_type": 10})   # the user refuses
    resident.notify()
    wecom.run()
    assert statuses(config)[-2:] == ["held", "failed"]
    [again] = resident.write("你好")
    assert again.startswith("进展 A") and "进展 B" not in again


def test_a_resend_after_a_crash_is_dropped_by_msgid(resident, wecom, wecom_api, config, app):
    from bot import runtime
    from bot.kf.send import send_kf

    resident.write("你好")
    with session_scope(config.DATABASE_URL) as s:
        [row] = queue_text(s, "wmDemo001", "只发一次", channel="kf")
        row_id = row.id
    with session_scope(config.DATABASE_URL) as s:
        first = send_kf(runtime.get(), s.get(Outbox, row_id))
        s.rollback()                       # the worker died before committing "sent"
    with session_scope(config.DATABASE_URL) as s:
        assert send_kf(runtime.get(), s.get(Outbox, row_id)) == first
    assert resident.texts().count("只发一次") == 1
    assert len(wecom_api.duplicates) == 1


def test_welcome_is_not_held_and_not_counted(resident, wecom_api, config):
    resident.enter()
    [welcome] = wecom_api.kf_sent
    assert welcome["_welcome"]
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalar(select(KfCustomer)) is None     # entering opens no window
