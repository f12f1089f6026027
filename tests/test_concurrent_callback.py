"""The same callback posted at once from several threads over real HTTP has one effect."""
import threading

import pytest
import requests
from sqlalchemy import func, select
from werkzeug.serving import make_server

from bot.db import session_scope
from bot.models import InboundMessage
from bot.standin import callbacks
from tests.conftest import CORP_ID

THREADS = 8


@pytest.fixture
def live_url(app):
    """The app on a threaded HTTP server on 127.0.0.1, as gunicorn's threads would run it."""
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/wecom/callback"
    server.shutdown()
    server.server_close()


def _post_together(url: str, body: bytes, params: dict) -> list[int]:
    barrier = threading.Barrier(THREADS)
    statuses: list[int] = []

    def post():
        barrier.wait()
        resp = requests.post(url, params=params, data=body, headers={"Content-Type": "text/xml"}, timeout=30)
        statuses.append(resp.status_code)

    threads = [threading.Thread(target=post) for _ in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    return statuses


def _inbound(config) -> int:
    with session_scope(config.DATABASE_URL) as s:
        return s.scalar(select(func.count()).select_from(InboundMessage))


@pytest.mark.parametrize("kind", ["text", "event"])
def test_same_callback_from_many_threads_has_one_effect(kind, live_url, crypto, config, wecom, wecom_api):
    if kind == "text":
        xml = callbacks.text_xml(CORP_ID, "chenayi", "你好", msg_id=424242)
    else:
        xml = callbacks.event_xml(CORP_ID, "chenayi", "enter_agent", create_time=1700000123, EventKey="")
    # WeCom's retries carry the same message under new nonces; the test sends one signed copy
    # from every thread, and a differently signed copy afterwards.
    body, params = crypto.build_post(xml, callbacks.new_nonce())
    assert _post_together(live_url, body, params) == [200] * THREADS
    body2, params2 = crypto.build_post(xml, callbacks.new_nonce())
    assert requests.post(live_url, params=params2, data=body2, timeout=30).status_code == 200
    assert _inbound(config) == 1
    assert wecom.queued_jobs() == 1
    wecom.run()
    assert len(wecom_api.texts_to("chenayi")) == 1
    assert wecom_api.duplicates == []


def test_different_callbacks_together_are_each_recorded_and_answered_once(live_url, crypto, config, wecom,
                                                                          wecom_api):
    # Arriving together, they share INSERTs (bot.groupcommit); repeats inside one batch still count once.
    users = [f"resident{i}" for i in range(THREADS)]
    posts = []
    for i, user in enumerate(users):
        xml = callbacks.text_xml(CORP_ID, user, "你好", msg_id=500000 + i)
        posts += [crypto.build_post(xml, callbacks.new_nonce()) for _ in range(2)]
    barrier = threading.Barrier(len(posts))
    statuses: list[int] = []

    def post(body, params):
        barrier.wait()
        statuses.append(requests.post(live_url, params=params, data=body, timeout=30).status_code)

    threads = [threading.Thread(target=post, args=p) for p in posts]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert statuses == [200] * len(posts)
    assert _inbound(config) == THREADS
    assert wecom.queued_jobs() == THREADS
    wecom.run()
    assert all(len(wecom_api.texts_to(user)) == 1 for user in users)
    assert wecom_api.duplicates == []
