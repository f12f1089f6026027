"""The embedded demo: one process, SQLite, no Redis; /sim posts encrypted callbacks over HTTP."""
import socket
import threading
import time

import pytest
import requests
from werkzeug.serving import make_server

from bot import runtime
from bot.db import dispose_all


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def demo_server(tmp_path, monkeypatch):
    for name in ("WECOM_CORP_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY", "WECOM_AGENT_ID", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    from bot.demo import build

    port = _free_port()
    app = build(port, f"sqlite:///{tmp_path}/demo.sqlite3", sweep_interval=0)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}"
    server.shutdown()
    server.server_close()
    runtime.reset()
    dispose_all()


def _wait_for_reply(base, userid, n, timeout=15):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        chat = requests.get(f"{base}/sim/messages", params={"userid": userid}, timeout=5).json()
        bot = [m for m in chat if m["from"] == "bot"]
        if len(bot) >= n:
            return chat
        time.sleep(0.1)
    raise AssertionError(f"no reply for {userid}: {chat}")


def test_demo_chat_round_trip(demo_server):
    base = demo_server
    assert runtime.get().config.embedded
    page = requests.get(f"{base}/sim", timeout=5)
    assert page.status_code == 200 and "轻车" in page.text
    roster = requests.get(f"{base}/sim/roster", timeout=5).json()
    assert {p["role"] for p in roster} >= {"resident", "grid_worker", "cadre"}
    resp = requests.post(f"{base}/sim/send", json={"userid": "chenayi", "type": "text", "text": "你好"}, timeout=10)
    assert resp.json() == {"status": 200}
    chat = _wait_for_reply(base, "chenayi", 1)
    assert (chat[0]["from"], chat[0]["text"]) == ("me", "你好")
    assert "轻车" in chat[1]["text"]
    assert requests.get(f"{base}/healthz", timeout=5).status_code == 200


def test_demo_card_click_redraws_the_card(demo_server):
    base = demo_server

    def say(userid, text, replies):
        requests.post(f"{base}/sim/send", json={"userid": userid, "type": "text", "text": text}, timeout=10)
        return _wait_for_reply(base, userid, replies)

    say("chenayi", "楼下路灯坏了三天了", 1)
    say("chenayi", "1", 2)
    say("chenayi", "没有", 3)
    say("chenayi", "确认", 4)
    chat = _wait_for_reply(base, "liang.wg", 2)
    [pushed] = [m for m in chat if m.get("msgtype") == "template_card"]
    card = pushed["card"]
    accept = card["button_list"][0]
    requests.post(f"{base}/sim/send", json={"userid": "liang.wg", "type": "click", "key": accept["key"],
                                            "task_id": card["task_id"], "label": accept["text"]}, timeout=10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        chat = requests.get(f"{base}/sim/messages", params={"userid": "liang.wg"}, timeout=5).json()
        cards = [m for m in chat if m.get("msgtype") == "template_card"]
        if cards[0]["updates"]:
            break
        time.sleep(0.1)
    # the same message, redrawn as the update says (WeCom changes the clicked card in place)
    assert [m["id"] for m in cards] == [pushed["id"]]
    assert [b["text"] for b in cards[0]["card"]["button_list"]] == ["办结"]


def test_sim_send_with_a_bad_latitude_is_a_400_not_a_500(demo_server):
    resp = requests.post(demo_server + "/sim/send", json={"userid": "chenayi", "type": "location", "lat": "abc",
                                                          "lng": 112.69, "label": "x"}, timeout=10)
    assert resp.status_code == 400 and "经纬度" in resp.json()["error"]


def test_sim_send_refuses_an_empty_text(demo_server):
    resp = requests.post(demo_server + "/sim/send", json={"userid": "chenayi", "type": "text", "text": "  "}, timeout=10)
    assert resp.status_code == 400
    assert requests.get(f"{demo_server}/sim/messages", params={"userid": "chenayi"}, timeout=5).json() == []
