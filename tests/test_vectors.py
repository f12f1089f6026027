"""The official WeCom test vectors pass through /wecom/callback.

The vectors are kept in the repository (tests/data/wecom_vectors.json, see tests/data/README.md), so a
fresh clone runs these tests on its own."""
import dataclasses
import json
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import create_app, runtime
from bot.crypto import CallbackCrypto
from bot.db import session_scope
from bot.models import InboundMessage

REPO = Path(__file__).resolve().parents[1]
VECTOR_PATH = Path(__file__).resolve().parent / "data" / "wecom_vectors.json"
VECTORS = json.loads(VECTOR_PATH.read_text(encoding="utf-8"))
SETS = VECTORS["sets"]


@pytest.fixture(params=SETS, ids=[s["name"] for s in SETS])
def vector_app(request, config):
    vec = request.param
    cfg = dataclasses.replace(config, WECOM_CORP_ID=vec["corp_id"], WECOM_TOKEN=vec["token"],
                              WECOM_AES_KEY=vec["encoding_aes_key"])
    app = create_app(cfg)
    yield app, vec
    runtime.reset()


def test_vectors_file_is_there():
    assert VECTOR_PATH.exists()
    assert len(SETS) == 2


def test_vectors_live_in_the_repository():
    """A clone without anything beside it has the vectors, and says where they come from."""
    assert VECTOR_PATH.is_relative_to(REPO)
    assert "WXBizMsgCrypt" in VECTORS["about"]
    assert [s["source"] for s in SETS] == ["doc 90968 / weworkapi_golang sample.go",
                                           "weworkapi_python callback/Sample.py"]
    assert "wecom_vectors.json" in (VECTOR_PATH.parent / "README.md").read_text(encoding="utf-8")


def test_url_verification_returns_the_plaintext_alone(vector_app):
    app, vec = vector_app
    v = vec["verify_url"]
    resp = app.test_client().get("/wecom/callback", query_string={
        "msg_signature": v["msg_signature"], "timestamp": v["timestamp"], "nonce": v["nonce"], "echostr": v["echostr"]})
    assert resp.status_code == 200
    assert resp.get_data(as_text=True) == v["expected_plaintext"]


def test_message_decryption_records_the_message(vector_app, redis_conn):
    app, vec = vector_app
    d = vec["decrypt_message"]
    resp = app.test_client().post("/wecom/callback", data=d["post_data"].encode(), content_type="text/xml",
                                  query_string={"msg_signature": d["msg_signature"], "timestamp": d["timestamp"],
                                                "nonce": d["nonce"]})
    assert resp.status_code == 200
    assert resp.get_data() == b""
    expected = CallbackCrypto(vec["token"], vec["encoding_aes_key"], vec["corp_id"])
    plain = expected.decrypt_post(d["post_data"].encode(), d["msg_signature"], d["timestamp"], d["nonce"])
    with session_scope(app.config["QINGCHE"].DATABASE_URL) as s:
        rows = s.scalars(select(InboundMessage)).all()
        assert [r.payload["Content"] for r in rows] == [plain["Content"]]
        assert rows[0].user_id == plain["FromUserName"]
    assert "<Content>" in d["expected_plaintext"] or "Content" in d["expected_plaintext"]


@pytest.mark.parametrize("vec", SETS, ids=[s["name"] for s in SETS])
def test_decrypted_plaintext_matches_the_vector(vec):
    crypto = CallbackCrypto(vec["token"], vec["encoding_aes_key"], vec["corp_id"])
    d = vec["decrypt_message"]
    from bot.crypto import parse_xml

    plain = crypto.decrypt(parse_xml(d["post_data"])["Encrypt"])
    assert plain == d["expected_plaintext"]


@pytest.mark.parametrize("vec", SETS, ids=[s["name"] for s in SETS])
def test_encrypt_round_trips(vec):
    crypto = CallbackCrypto(vec["token"], vec["encoding_aes_key"], vec["corp_id"])
    body, params = crypto.build_post(vec["encrypt_message_input"], "12345", timestamp="1409659813")
    again = crypto.decrypt_post(body, params["msg_signature"], params["timestamp"], params["nonce"])
    assert again["Content"] in vec["encrypt_message_input"]
