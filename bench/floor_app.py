"""The baseline plus one piece of durable work, to find what an acknowledgement costs at least.

    FLOOR_STEP=rpush  gunicorn ... bench.floor_app:app   # + one Redis RPUSH
    FLOOR_STEP=insert gunicorn ... bench.floor_app:app   # + one INSERT into inbound_message, autocommit
    FLOOR_STEP=both   gunicorn ... bench.floor_app:app   # + both

Like ``bench.baseline_app`` it verifies and decrypts with wechatpy, then does the step with the
drivers alone (psycopg, redis-py: no SQLAlchemy, no rq, one connection per thread) and answers 200.
It is the cheapest form of "recorded before acknowledged"; Qingche's figure is measured against it.
"""
from __future__ import annotations

import json
import os
import threading
import uuid

import psycopg
import redis
from flask import Flask, Response, request
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.work.crypto import WeChatCrypto

from bench.common import AES_KEY, CORP_ID, TOKEN

STEP = os.environ.get("FLOOR_STEP", "both")
INSERT = ("INSERT INTO inbound_message (dedupe_key, channel, user_id, msg_type, payload, status, attempts,"
          " received_at) VALUES (%s, 'app', %s, 'text', %s, 'pending', 0, now())"
          " ON CONFLICT (dedupe_key) DO NOTHING RETURNING id")

app = Flask(__name__)
crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)
local = threading.local()


def _pg() -> psycopg.Connection:
    conn = getattr(local, "pg", None)
    if conn is None:
        url = os.environ["DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        conn = local.pg = psycopg.connect(url, autocommit=True)
    return conn


_redis = redis.Redis.from_url(os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/12"))


@app.post("/wecom/callback")
def receive():
    """Verify and decrypt, do the step, answer an empty 200."""
    args = request.args
    try:
        xml = crypto.decrypt_message(request.get_data(), args.get("msg_signature", ""), args.get("timestamp", ""),
                                     args.get("nonce", ""))
    except InvalidSignatureException:
        return Response("", status=403)
    key = f"floor:{uuid.uuid4().hex}"
    if STEP in ("insert", "both"):
        _pg().execute(INSERT, (key, "floor", json.dumps({"xml": xml}))).fetchone()
    if STEP in ("rpush", "both"):
        _redis.rpush("qingche:bench:floor", key)
    return Response("", status=200)
