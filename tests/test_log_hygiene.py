"""Logs at INFO carry no secrets, tokens or message contents, and never a whole mobile or ID number."""
import io
import logging
import re

import pytest

from bot.logs import MaskingFilter
from bot.standin import callbacks
from tests.conftest import AES_KEY, CORP_ID, KF_SECRET, SECRET, TOKEN

MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
SAID = ["楼下路灯坏了三天了，我电话13912345678", "我身份证440783199001011234要开居住证明", "没有", "确认",
        "开无犯罪记录证明要带什么"]


@pytest.fixture
def logged(caplog):
    """Every record at INFO and above, raw (caplog) and as the app's masking handler writes it."""
    caplog.set_level(logging.INFO)
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(MaskingFilter())
    logging.getLogger().addHandler(handler)
    yield caplog, stream
    logging.getLogger().removeHandler(handler)


def _flows(chat, wecom, wecom_api, client, crypto):
    for text in SAID:
        chat("chenayi", text)
    chat("liang.wg", "我的工单")
    chat("liang.wg", "接单 #1")
    wecom_api.fail("message/send", -1, 45009, "http500", 42001)
    chat("lisuk", "你好")
    wecom_api.expire_tokens = True
    chat("lisuk", "帮助")
    sealed = crypto.encrypt("echo-13900001111", callbacks.new_nonce())
    client.get("/wecom/callback", query_string={"msg_signature": sealed["msg_signature"],
                                                "timestamp": sealed["timestamp"], "nonce": sealed["nonce"],
                                                "echostr": sealed["encrypt"]})
    client.get("/wecom/callback", query_string={"msg_signature": "0" * 40, "timestamp": "1", "nonce": "2",
                                                "echostr": sealed["encrypt"]})
    body, params = crypto.build_post(callbacks.text_xml(CORP_ID, "chenayi", "13912345678"), "77")
    client.post("/wecom/callback", query_string={**params, "msg_signature": "1" * 40}, data=body)


def test_no_secrets_contents_or_personal_numbers_in_logs(logged, chat, wecom, wecom_api, client, crypto):
    caplog, stream = logged
    _flows(chat, wecom, wecom_api, client, crypto)
    tokens = list(wecom_api.tokens)
    raw = "\n".join(r.getMessage() for r in caplog.records)
    written = stream.getvalue()
    assert caplog.records, "the flows logged nothing at INFO: the test would prove nothing"
    for secret in [AES_KEY, TOKEN, SECRET, KF_SECRET, *tokens]:
        assert secret not in raw
        assert secret not in written
    for said in SAID + wecom_api.texts_to("chenayi") + wecom_api.texts_to("liang.wg"):
        assert said not in raw, said
    assert MOBILE.findall(written) == []
    assert ID_NUMBER.findall(written) == []


def test_raw_log_messages_carry_no_personal_numbers_either(logged, chat, wecom, wecom_api, client, crypto):
    """The masking filter is the safety net; the messages themselves should not need it."""
    caplog, _ = logged
    _flows(chat, wecom, wecom_api, client, crypto)
    raw = "\n".join(r.getMessage() for r in caplog.records)
    assert MOBILE.findall(raw) == []
    assert ID_NUMBER.findall(raw) == []
