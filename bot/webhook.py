"""The WeCom callback: verify, decrypt, record, enqueue, answer 200. No business logic here."""
from __future__ import annotations

import logging

from flask import Blueprint, Response, current_app, request
from sqlalchemy.exc import InterfaceError, OperationalError
from werkzeug.exceptions import RequestEntityTooLarge

from bot import intake
from bot.crypto import CallbackCrypto
from bot.errors import RejectedCallback

log = logging.getLogger("bot.webhook")
bp = Blueprint("wecom", __name__)


def _crypto() -> CallbackCrypto:
    crypto = current_app.extensions.get("qingche.crypto")
    if crypto is None:
        cfg = current_app.config["QINGCHE"]
        crypto = CallbackCrypto(cfg.WECOM_TOKEN, cfg.WECOM_AES_KEY, cfg.WECOM_CORP_ID)
        current_app.extensions["qingche.crypto"] = crypto
    return crypto


def _reject(exc: RejectedCallback) -> Response:
    log.warning("callback rejected: %s %s from %s", exc.status, exc.reason, request.remote_addr)
    return Response("", status=exc.status)


@bp.get("/wecom/callback")
def verify_url():
    """URL verification: return the decrypted echostr alone."""
    args = request.args
    try:
        plain = _crypto().verify_url(args.get("msg_signature", ""), args.get("timestamp", ""),
                                     args.get("nonce", ""), args.get("echostr", ""))
    except RejectedCallback as exc:
        return _reject(exc)
    return Response(plain, mimetype="text/plain")


@bp.post("/wecom/callback")
def receive():
    """A message or event: record it durably, enqueue it, and answer an empty 200 at once."""
    limit = current_app.config["QINGCHE"].MAX_CALLBACK_BYTES
    if request.content_length is not None and request.content_length > limit:
        return _reject(RejectedCallback(413, f"body of {request.content_length} bytes"))
    try:
        body = request.get_data(cache=False)
    except RequestEntityTooLarge:
        return _reject(RejectedCallback(413, "body over the limit"))
    if len(body) > limit:
        return _reject(RejectedCallback(413, f"body of {len(body)} bytes"))
    args = request.args
    try:
        msg = _crypto().decrypt_post(body, args.get("msg_signature", ""), args.get("timestamp", ""),
                                     args.get("nonce", ""))
        intake.accept(msg)
    except RejectedCallback as exc:
        return _reject(exc)
    except (OperationalError, InterfaceError) as exc:
        # Not recorded, so not acknowledged: WeCom resends (three tries within about 15 s).
        log.warning("callback not recorded: database unavailable (%s); WeCom will resend", type(exc).__name__)
        return Response("", status=503)
    return Response("", status=200)
