"""The demo (one process, SQLite, no Redis) runs the whole application: through /sim, the cadre's
approval ends in a .docx file message that the stand-in issued and can hand back for download."""
import io
import threading
import time

import pytest
import requests
from docx import Document
from werkzeug.serving import make_server

from bot import runtime
from bot.db import dispose_all
from tests.test_applications_e2e import SAMPLE_ID
from tests.test_demo import _free_port


@pytest.fixture
def demo(tmp_path, monkeypatch):
    """The demo app served on a free port: (base URL, the stand-in's state)."""
    for name in ("WECOM_CORP_ID", "WECOM_SECRET", "WECOM_TOKEN", "WECOM_AES_KEY", "WECOM_AGENT_ID", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)
    from bot.demo import build

    port = _free_port()
    app = build(port, f"sqlite:///{tmp_path}/demo.sqlite3", sweep_interval=0)
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{port}", app.extensions["qingche.standin"]
    server.shutdown()
    server.server_close()
    runtime.reset()   # the page's record of what people typed belongs to that app and goes with it
    dispose_all()


def _say(base, userid, text=None, kind="text"):
    body = {"userid": userid, "type": kind}
    if text is not None:
        body["text"] = text
    assert requests.post(f"{base}/sim/send", json=body, timeout=10).json() == {"status": 200}


def _bot_messages(base, userid):
    return [m for m in requests.get(f"{base}/sim/messages", params={"userid": userid}, timeout=5).json()
            if m["from"] == "bot"]


def _wait(base, userid, predicate, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = [m for m in _bot_messages(base, userid) if predicate(m)]
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"not received by {userid}: {_bot_messages(base, userid)[-3:]}")


def test_demo_application_ends_in_a_downloadable_file(demo):
    base, standin = demo
    assert runtime.get().config.embedded
    steps = ["我要开居住证明", "陈美玲", SAMPLE_ID, "楼冈路幸福花园2栋301", "2023年9月", "2", "孩子上楼冈小学",
             None, "好了", None, "好了", "没有"]   # None: a photo
    for text in steps:
        before = len(_bot_messages(base, "chenayi"))
        _say(base, "chenayi", text, kind="image" if text is None else "text")
        _wait(base, "chenayi", lambda m, before=before: len(_bot_messages(base, "chenayi")) > before)
    _say(base, "chenayi", "确认")
    _wait(base, "chenayi", lambda m: "#A1" in m["text"])
    _say(base, "liang.wg", "核实 #A1 属实")
    _wait(base, "fang.lougang", lambda m: m["msgtype"] == "template_card")
    _say(base, "fang.lougang", "通过 #A1")
    _wait(base, "fang.lougang", lambda m: m["msgtype"] == "file")
    _wait(base, "chenayi", lambda m: "已通过" in m["text"])
    [sent] = [p for p in standin.sent if p["msgtype"] == "file"]
    media_id = sent["file"]["media_id"]
    doc = Document(io.BytesIO(standin.media[media_id]))   # what /sim offers for download
    assert SAMPLE_ID in "\n".join(p.text for p in doc.paragraphs)
