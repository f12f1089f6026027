"""End to end through /wecom/callback, a real Redis, a real rq worker and the WeCom API stand-in."""
import threading

import redis as redis_lib
from sqlalchemy import func, select

from bot import runtime
from bot.db import session_scope
from bot.models import InboundMessage, Outbox
from bot.queue import RQQueue
from bot.standin import callbacks
from tests.conftest import CORP_ID, sweep_now


def _rows(config, model):
    with session_scope(config.DATABASE_URL) as s:
        return s.scalars(select(model).order_by(model.id)).all()


def test_text_message_leads_to_message_send(wecom, wecom_api):
    resp = wecom.text("chenayi", "你好")
    assert resp.status_code == 200
    assert resp.get_data() == b""
    assert wecom_api.sent == []          # nothing is sent from the web process
    wecom.run()
    [payload] = wecom_api.messages_to("chenayi")
    assert payload["msgtype"] == "text"
    assert payload["agentid"] == 1000002
    assert "enable_duplicate_check" not in payload   # a first send: a legitimate repeat must arrive
    assert "楼冈社区居委会" in payload["text"]["content"]


def test_same_message_three_times_including_concurrently_one_reply(client, app, wecom, wecom_api, config):
    xml = callbacks.text_xml(CORP_ID, "lisuk", "帮助", msg_id=777000111)
    assert wecom.post_xml(xml).status_code == 200
    statuses = []

    def again():
        statuses.append(app.test_client().post(
            "/wecom/callback", **_post_args(wecom, xml)).status_code)

    threads = [threading.Thread(target=again) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200]
    wecom.run()
    assert len(wecom_api.texts_to("lisuk")) == 1
    assert len(_rows(config, InboundMessage)) == 1


def _post_args(wecom, xml):
    body, params = wecom.crypto.build_post(xml, callbacks.new_nonce())
    return {"query_string": params, "data": body, "content_type": "text/xml"}


def test_repeat_after_processing_is_still_one_reply(wecom, wecom_api):
    xml = callbacks.text_xml(CORP_ID, "lisuk", "你好", msg_id=888)
    wecom.post_xml(xml)
    wecom.run()
    wecom.post_xml(xml)       # WeCom retried after we had already answered
    wecom.run()
    assert len(wecom_api.texts_to("lisuk")) == 1


def test_events_are_deduplicated_by_sender_time_and_event(wecom, wecom_api, config):
    for _ in range(3):
        wecom.event("chenayi", "enter_agent", create_time=1700000000, EventKey="")
    wecom.run()
    assert len(_rows(config, InboundMessage)) == 1
    assert len(wecom_api.texts_to("chenayi")) == 1


def test_redis_down_when_message_arrives_reply_sent_when_back(wecom, wecom_api, config, client):
    rt = runtime.get()
    rt._queue = RQQueue(redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2))
    resp = wecom.text("chenayi", "你好")
    assert resp.status_code == 200         # recorded durably; WeCom is answered anyway
    [row] = _rows(config, InboundMessage)
    assert row.status == "pending"
    assert wecom.queued_jobs() == 0
    rt._queue = None                       # Redis is back
    counts = sweep_now()
    assert counts["inbound"] == 1
    wecom.run()
    assert len(wecom_api.texts_to("chenayi")) == 1
    sweep_now()
    wecom.run()
    assert len(wecom_api.texts_to("chenayi")) == 1   # the sweeper never duplicates


def test_messages_from_one_user_are_handled_in_order(wecom, wecom_api):
    wecom.text("chenayi", "你好")
    wecom.text("chenayi", "取消")
    wecom.text("chenayi", "qwertyuiop")
    wecom.run()
    texts = wecom_api.texts_to("chenayi")
    assert len(texts) == 3
    assert "轻车" in texts[0] and "没有进行中的操作" in texts[1] and "没听懂" in texts[2]


def test_transient_wecom_errors_are_retried_and_delivered_once(wecom, wecom_api, config):
    wecom_api.fail("message/send", -1, 45009, "http500", -1, 45009)
    wecom.text("chenayi", "你好")
    wecom.run()
    assert len(wecom_api.texts_to("chenayi")) == 1
    [row] = _rows(config, Outbox)
    assert row.status == "sent"
    assert row.attempts >= 2


def test_expired_token_is_refreshed_once(wecom, wecom_api):
    wecom.text("chenayi", "你好")
    wecom.run()
    wecom_api.expire_tokens = True
    wecom.text("chenayi", "取消")
    wecom.run()
    assert len(wecom_api.texts_to("chenayi")) == 2
    assert wecom_api.token_requests == 2


def test_access_token_is_shared_through_redis(wecom, wecom_api, config, redis_conn):
    from bot.wecom.client import WeComClient

    wecom.text("chenayi", "你好")
    wecom.run()
    other_process = WeComClient(config.WECOM_API_BASE, config.WECOM_CORP_ID, config.WECOM_SECRET,
                                redis=redis_conn)
    other_process.token()
    assert wecom_api.token_requests == 1


def test_permanent_error_marks_the_row_failed_without_retrying(wecom, wecom_api, config):
    wecom_api.fail("message/send", 81013)
    wecom.text("chenayi", "你好")
    wecom.run()
    [row] = _rows(config, Outbox)
    assert row.status == "failed"
    assert "81013" in row.last_error


def test_sends_are_paced_per_user(app, wecom, wecom_api, config):
    from bot import outbox
    from bot.delivery import enqueue_rows

    with session_scope(config.DATABASE_URL) as s:
        rows = []
        for n in range(35):
            rows += outbox.queue_text(s, "liang.wg", f"通知 {n}")
    enqueue_rows(rows)
    wecom.run(delayed=False)
    assert len(wecom_api.texts_to("liang.wg")) == 28
    with session_scope(config.DATABASE_URL) as s:
        pending = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.status == "pending"))
    assert pending == 7


def test_healthz(client, wecom):
    assert client.get("/healthz").status_code == 200
    rt = runtime.get()
    rt.redis = redis_lib.Redis(host="127.0.0.1", port=1, socket_connect_timeout=0.2)
    resp = client.get("/healthz")
    assert resp.status_code == 503
    assert resp.get_data(as_text=True) == "unavailable"
