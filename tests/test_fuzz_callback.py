"""Property-based tests on /wecom/callback: whatever arrives, no 500, no hang, nothing processed
that should not be."""
import base64
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.crypto import CallbackCrypto, signature
from bot.db import session_scope
from bot.models import InboundMessage
from bot.standin import callbacks
from tests.conftest import AES_KEY, CORP_ID, TOKEN

FUZZ = settings(max_examples=200, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
REJECTED = {400, 403, 413}
KEY = base64.b64decode(AES_KEY + "=")

texts = st.text(st.characters(blacklist_categories=("Cs",)), max_size=300)
params = st.fixed_dictionaries({}, optional={
    "msg_signature": st.one_of(st.text(max_size=60), st.from_regex(r"[0-9a-f]{40}", fullmatch=True)),
    "timestamp": st.text(max_size=20), "nonce": st.text(max_size=20), "echostr": st.text(max_size=80)})


def _count(config) -> int:
    with session_scope(config.DATABASE_URL) as s:
        return s.scalar(select(func.count()).select_from(InboundMessage))


def _post(client, body: bytes, query: dict, content_type: str = "text/xml"):
    return client.post("/wecom/callback", query_string=query, data=body, content_type=content_type)


def _envelope(encrypt: str, nonce: str = "7", timestamp: str = "1700000000", sign: bool = True):
    body = f"<xml><ToUserName><![CDATA[{CORP_ID}]]></ToUserName><Encrypt><![CDATA[{encrypt}]]></Encrypt></xml>"
    sig = signature(TOKEN, timestamp, nonce, encrypt) if sign else "0" * 40
    return body.encode(), {"msg_signature": sig, "timestamp": timestamp, "nonce": nonce}


def _seal(raw: bytes) -> str:
    """AES-CBC over ``raw`` as given (no padding added), base64: for hand-made plaintexts."""
    from wechatpy.crypto.base import WeChatCipher

    return base64.b64encode(WeChatCipher(KEY).encrypt(raw)).decode()


def _pkcs7(data: bytes) -> bytes:
    pad = 32 - len(data) % 32
    return data + bytes([pad]) * pad


def _plaintext(body: bytes, receive_id: bytes = CORP_ID.encode()) -> bytes:
    return b"0123456789abcdef" + struct.pack("!I", len(body)) + body + receive_id


def _assert_nothing_new(client, config, wecom, before: int, resp) -> None:
    assert resp.status_code in REJECTED, resp.status_code
    assert _count(config) == before
    assert wecom.queued_jobs() == before   # one job per recorded message, none for a rejected one


@FUZZ
@given(body=st.binary(max_size=4096), query=params,
       content_type=st.sampled_from(["text/xml", "application/xml", "application/json",
                                     "text/plain; charset=gbk", "application/octet-stream", ""]))
def test_random_bodies_and_parameters_are_rejected(client, config, wecom, body, query, content_type):
    before = _count(config)
    _assert_nothing_new(client, config, wecom, before, _post(client, body, query, content_type))


@FUZZ
@given(inner=texts, encoding=st.sampled_from(["utf-8", "utf-16", "gbk", "latin-1", "utf-32"]),
       wrapper=st.sampled_from(["<xml>{}</xml>", "<xml><Encrypt>{}</Encrypt></xml>", "{}",
                                '<?xml version="1.0" encoding="bogus"?><xml><Encrypt>{}</Encrypt></xml>',
                                "<xml><Encrypt><![CDATA[{}]]></Encrypt><Encrypt>x</Encrypt></xml>"]))
def test_text_in_any_encoding_without_a_valid_signature_is_rejected(client, config, wecom, inner, encoding,
                                                                    wrapper):
    body = wrapper.format(inner).encode(encoding, errors="replace")
    before = _count(config)
    _assert_nothing_new(client, config, wecom, before, _post(client, body, {"msg_signature": "a" * 40,
                                                                           "timestamp": "1", "nonce": "1"}))


@FUZZ
@given(name=st.from_regex(r"[a-z]{1,8}", fullmatch=True), value=st.text(max_size=50),
       where=st.sampled_from(["envelope", "message"]),
       system=st.sampled_from(["", ' SYSTEM "file:///etc/passwd"', ' SYSTEM "http://127.0.0.1:1/x"']))
def test_doctype_and_entities_are_refused_in_envelope_and_message(client, config, wecom, crypto, name, value,
                                                                   where, system):
    value = value.replace('"', "").replace("%", "").replace("&", "")
    definition = system or f' "{value}"'
    decl = f"<!DOCTYPE xml [<!ENTITY {name}{definition}>]>"
    if where == "envelope":
        sealed = crypto.encrypt(callbacks.text_xml(CORP_ID, "chenayi", "你好"), "9")
        body = (f"{decl}<xml><Encrypt>{sealed['encrypt']}</Encrypt><X>&{name};</X></xml>").encode()
        query = {k: sealed[k] for k in ("msg_signature", "timestamp", "nonce")}
    else:
        inner = f"{decl}<xml><FromUserName>&{name};</FromUserName><MsgType>text</MsgType></xml>"
        body, query = crypto.build_post(inner, "9")
    before = _count(config)
    resp = _post(client, body, query)
    assert resp.status_code == 400
    _assert_nothing_new(client, config, wecom, before, resp)


@FUZZ
@given(cut=st.integers(min_value=1, max_value=200), flip=st.integers(min_value=0, max_value=10_000),
       mode=st.sampled_from(["truncate", "flip", "append"]))
def test_damaged_ciphertext_with_a_valid_signature_is_rejected(client, config, wecom, crypto, cut, flip, mode):
    encrypt = crypto.encrypt(callbacks.text_xml(CORP_ID, "chenayi", "我想开居住证明"), "5")["encrypt"]
    raw = bytearray(base64.b64decode(encrypt))
    if mode == "truncate":
        raw = raw[:max(len(raw) - cut, 0)]
    elif mode == "flip":
        raw[-1 - flip % 32] ^= 1 + cut % 255   # damages the padding or the receive id at the end
    else:
        raw += bytes(cut)
    body, query = _envelope(base64.b64encode(bytes(raw)).decode())
    before = _count(config)
    _assert_nothing_new(client, config, wecom, before, _post(client, body, query))


@FUZZ
@given(pad=st.integers(min_value=0, max_value=255), filler=st.binary(min_size=0, max_size=64),
       declared=st.integers(min_value=0, max_value=2**32 - 1))
def test_wrong_padding_or_length_field_is_rejected(client, config, wecom, pad, filler, declared):
    msg = callbacks.text_xml(CORP_ID, "chenayi", "你好").encode()
    content = b"0123456789abcdef" + struct.pack("!I", declared) + msg + CORP_ID.encode() + filler
    if declared == len(msg) and not filler:
        declared += 1
        content = b"0123456789abcdef" + struct.pack("!I", declared) + msg + CORP_ID.encode()
    block = content + bytes([pad]) * (16 - len(content) % 16 or 16)
    body, query = _envelope(_seal(block))
    before = _count(config)
    _assert_nothing_new(client, config, wecom, before, _post(client, body, query))


@FUZZ
@given(receive_id=st.text(st.characters(blacklist_categories=("Cs",)), max_size=40).filter(lambda s: s != CORP_ID))
def test_wrong_receive_id_is_refused(client, config, wecom, receive_id):
    msg = callbacks.text_xml(CORP_ID, "chenayi", "你好").encode()
    body, query = _envelope(_seal(_pkcs7(_plaintext(msg, receive_id.encode()))))
    before = _count(config)
    resp = _post(client, body, query)
    assert resp.status_code == 403
    _assert_nothing_new(client, config, wecom, before, resp)


@FUZZ
@given(inner=texts)
def test_any_signed_plaintext_is_answered_without_error(client, config, wecom, crypto, inner):
    """A correctly signed message whose plaintext is anything: accepted only if it is a real message."""
    body, query = crypto.build_post(inner, "11")
    before = _count(config)
    resp = _post(client, body, query)
    assert resp.status_code in REJECTED
    assert _count(config) == before


@FUZZ
@given(sender=st.text(min_size=1, max_size=400).filter(str.strip),
       msg_id=st.one_of(st.integers(min_value=0, max_value=2**64), st.text(min_size=1, max_size=400)),
       msg_type=st.text(min_size=0, max_size=80), nested=st.booleans())
def test_signed_messages_with_odd_fields_are_recorded_once_or_rejected(client, config, wecom, crypto, sender,
                                                                         msg_id, msg_type, nested):
    from xml.sax.saxutils import escape

    sender_xml = f"<a>{escape(sender)}</a>" if nested else escape(sender)
    inner = (f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>{sender_xml}</FromUserName>"
             f"<CreateTime>1700000000</CreateTime><MsgType>{escape(msg_type)}</MsgType>"
             f"<Content>x</Content><MsgId>{escape(str(msg_id))}</MsgId></xml>")
    body, query = crypto.build_post(inner, "13")
    before = _count(config)
    for _ in range(2):
        resp = _post(client, body, query)
        assert resp.status_code in {200} | REJECTED
    after = _count(config)
    if resp.status_code == 200:
        assert after - before <= 1
    else:
        assert after == before


@FUZZ
@given(length=st.integers(min_value=1, max_value=30_000), char=st.sampled_from(["a", "好", "😀", "\u3000"]))
def test_very_long_text_is_recorded_or_refused_as_too_large(client, config, wecom, crypto, length, char):
    body, query = crypto.build_post(callbacks.text_xml(CORP_ID, "chenayi", char * length), "17")
    before = _count(config)
    resp = _post(client, body, query)
    if len(body) > config.MAX_CALLBACK_BYTES:
        assert resp.status_code == 413
        assert _count(config) == before
    else:
        assert resp.status_code == 200
        assert _count(config) == before + 1


def test_wrong_receive_id_from_another_corp_is_refused(client, config, wecom):
    other = CallbackCrypto(TOKEN, AES_KEY, "wwanothercorp")
    body, query = other.build_post(callbacks.text_xml("wwanothercorp", "chenayi", "你好"), "19")
    resp = _post(client, body, query)
    assert resp.status_code == 403
    assert _count(config) == 0


def test_unknown_xml_encoding_is_a_400_not_a_500(client, config, wecom):
    body = b'<?xml version="1.0" encoding="bogus"?><xml><Encrypt>x</Encrypt></xml>'
    _assert_nothing_new(client, config, wecom, 0, _post(client, body, {}))


@pytest.mark.parametrize("field,value", [("FromUserName", "u" * 101), ("MsgType", "t" * 31),
                                         ("MsgId", "9" * 65)])
def test_fields_longer_than_wecom_sends_are_a_400_not_a_500(client, config, wecom, crypto, field, value):
    fields = {"FromUserName": "chenayi", "MsgType": "text", "MsgId": "1"}
    fields[field] = value
    inner = (f"<xml><ToUserName>{CORP_ID}</ToUserName><FromUserName>{fields['FromUserName']}</FromUserName>"
             f"<CreateTime>1700000000</CreateTime><MsgType>{fields['MsgType']}</MsgType>"
             f"<Content>x</Content><MsgId>{fields['MsgId']}</MsgId></xml>")
    body, query = crypto.build_post(inner, "23")
    _assert_nothing_new(client, config, wecom, 0, _post(client, body, query))
