"""The baseline: a minimal Flask app that only verifies, decrypts and acknowledges (wechatpy).

    gunicorn -w 2 -b 127.0.0.1:8802 bench.baseline_app:app
"""
from __future__ import annotations

from flask import Flask, Response, request
from wechatpy.exceptions import InvalidSignatureException
from wechatpy.work.crypto import WeChatCrypto

from bench.common import AES_KEY, CORP_ID, TOKEN

app = Flask(__name__)
crypto = WeChatCrypto(TOKEN, AES_KEY, CORP_ID)


@app.post("/wecom/callback")
def receive():
    """Verify and decrypt the callback, then answer an empty 200."""
    args = request.args
    try:
        crypto.decrypt_message(request.get_data(), args.get("msg_signature", ""), args.get("timestamp", ""),
                               args.get("nonce", ""))
    except InvalidSignatureException:
        return Response("", status=403)
    return Response("", status=200)
