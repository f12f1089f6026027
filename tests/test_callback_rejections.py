"""Bad input never reaches the handlers, never returns 500, and leaves no job behind."""
import base64

import pytest
from sqlalchemy import func, select

from bot.crypto import CallbackCrypto, signature
from bot.db import session_scope
from bot.models import InboundMessage
from bot.standin import callbacks
from tests.conftest import AES_KEY, CORP_ID, TOKEN


def _count(config) -> int:
    with session_scope(config.DATABASE_URL) as s:
        return s.scalar(select(func.count()).select_from(InboundMessage))


def _post(client, body: bytes, params: dict):
    return client.post("/wecom/callback", query_string=params, data=body, content_type="text/xml")


def _signed_envelope(encrypt: str, nonce="42", timestamp="1700000000"):
    body = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    params = {"msg_signature": signature(TOKEN, timestamp, nonce, encrypt), "timestamp": timestamp, "nonce": nonce}
    return body.encode(), params


def _raw_cipher(plaintext_block: bytes) -> str:
    """Encrypt raw bytes (already padded) with the app key, to craft bad paddings."""
    from wechatpy.crypto.base import WeChatCipher

    key = base64.b64decode(AES_KEY + "=")
    return base64.b64encode(WeChatCipher(key).encrypt(plaintext_block)).decode()


def _cases(crypto):
    good_xml = callbacks.text_xml(CORP_ID, "chenayi", "你好")
    body, params = crypto.build_post(good_xml, "1")
    other = CallbackCrypto(TOKEN, AES_KEY, "wwsomeoneelse")
    wrong_id_body, wrong_id_params = other.build_post(good_xml, "2")
    doctype_inner_body, doctype_inner_params = crypto.build_post(
        '<!DOCTYPE xml [<!ENTITY a "aaaa">]><xml><FromUserName>&a;</FromUserName></xml>', "3")
    truncated = crypto.encrypt(good_xml, "4")["encrypt"][:-24]
    bad_pad = _raw_cipher(b"0" * 16 + b"\x00\x00\x00\x02<x" + b"\x07" * 6 + b"\x09" * 4)
    return {
        "missing signature": (body, {}, 403),
        "bad signature": (body, {**params, "msg_signature": "0" * 40}, 403),
        "stale nonce changes the signature": (body, {**params, "nonce": "999"}, 403),
        "wrong receive id": (wrong_id_body, wrong_id_params, 403),
        "body over the limit": (b"<xml>" + b"a" * (70 * 1024) + b"</xml>", params, 413),
        "malformed XML": (b"<xml><Encrypt>abc</xml", params, 400),
        "not XML at all": ("随便写的".encode(), params, 400),
        "DOCTYPE in the envelope": (
            b'<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>', params, 400),
        "billion laughs": (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;">]>'
                           b"<xml><Encrypt>&lol2;</Encrypt></xml>", params, 400),
        "no Encrypt element": (b"<xml><ToUserName>x</ToUserName></xml>", params, 400),
        "DOCTYPE inside the ciphertext": (doctype_inner_body, doctype_inner_params, 400),
        "truncated ciphertext": (*_signed_envelope(truncated), 400),
        "wrong padding": (*_signed_envelope(bad_pad), 400),
        "ciphertext not base64": (*_signed_envelope("%%%not-base64%%%"), 400),
    }


CASE_NAMES = list(_cases(CallbackCrypto(TOKEN, AES_KEY, CORP_ID)).keys())


@pytest.mark.parametrize("name", CASE_NAMES)
def test_bad_callback_is_rejected_without_a_job(name, client, crypto, config, wecom, caplog):
    body, params, status = _cases(crypto)[name]
    with caplog.at_level("WARNING", logger="bot.webhook"):
        resp = _post(client, body, params)
    assert resp.status_code == status
    assert _count(config) == 0
    assert wecom.queued_jobs() == 0
    assert any("callback rejected" in r.getMessage() for r in caplog.records)
    assert all(AES_KEY not in r.getMessage() and TOKEN not in r.getMessage() for r in caplog.records)


def test_bad_url_verification_is_403(client, crypto):
    sealed = crypto.encrypt("12345", "7")
    resp = client.get("/wecom/callback", query_string={"msg_signature": "bad", "timestamp": sealed["timestamp"],
                                                        "nonce": "7", "echostr": sealed["encrypt"]})
    assert resp.status_code == 403
    resp = client.get("/wecom/callback")
    assert resp.status_code == 403


def test_url_verification_with_our_own_key(client, crypto):
    sealed = crypto.encrypt("echo-5678", "8")
    resp = client.get("/wecom/callback", query_string={"msg_signature": sealed["msg_signature"], "echostr": sealed["encrypt"],
                                                        "timestamp": sealed["timestamp"], "nonce": "8"})
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == "echo-5678"


def test_unhandled_message_type_gets_a_polite_reply(wecom, wecom_api):
    xml = callbacks.message_xml(CORP_ID, "chenayi", "voice", MediaId="v1", Format="amr")
    assert wecom.post_xml(xml).status_code == 200
    wecom.run()
    [reply] = wecom_api.texts_to("chenayi")
    assert "语音" in reply
