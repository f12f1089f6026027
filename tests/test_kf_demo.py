"""The demo's /sim page: the sample WeChat resident writes through 微信客服."""
import requests

from tests.test_demo import _wait_for_reply, demo_server  # noqa: F401  (the embedded demo fixture)


def test_sim_wechat_resident_goes_through_kf(demo_server):  # noqa: F811
    base = demo_server
    roster = requests.get(f"{base}/sim/roster", timeout=5).json()
    assert roster[0]["userid"] == "wmDemo001" and roster[0]["channel"] == "kf"
    resp = requests.post(f"{base}/sim/send", json={"userid": "wmDemo001", "type": "text", "text": "你好"},
                         timeout=10)
    assert resp.json() == {"status": 200}
    chat = _wait_for_reply(base, "wmDemo001", 1)
    assert chat[0]["text"] == "你好"
    assert chat[1]["kf"] is True and "轻车" in chat[1]["text"]
    roster = requests.get(f"{base}/sim/roster", timeout=5).json()
    assert [p["userid"] for p in roster].count("wmDemo001") == 1
