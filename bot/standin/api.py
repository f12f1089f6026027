"""A local stand-in for the WeCom API host (qyapi.weixin.qq.com/cgi-bin/), for the demo and tests.

It speaks the same JSON as WeCom for the calls Qingche makes, keeps what it was sent, applies
WeCom's rules the way WeCom does — ``enable_duplicate_check`` drops a repeat within the interval,
and more than 30 messages a minute to one member are dropped — and can be told to fail (errcodes
or HTTP 500). Both drops are silent, as in WeCom: the call succeeds and nothing arrives.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict, deque

from flask import Blueprint, Response, jsonify, request

PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000" "1f15c4890000000d49444154789c6360f8cf000000030101009d6e2bc30000000049454e44ae426082")


PER_MEMBER_MINUTE = 30   # WeCom: an app may send one member at most 30 messages a minute
ISSUED_PREFIX = "media"    # the stand-in's own media ids; others came in a callback (a member's photo)
MEDIA_LIFETIME = 3 * 86400   # WeCom keeps uploaded and received media for 3 days


def _count_last_minute(sent: list[dict], touser: str, now: float) -> int:
    count = 0
    for p in reversed(sent):
        if now - p["_at"] >= 60:
            break
        if p.get("touser") == touser:
            count += 1
    return count


class StandInState:
    """What the stand-in knows: credentials, tokens, what it received, injected faults."""

    def __init__(self, corp_id: str, secrets: dict[str, str] | None = None):
        self.corp_id = corp_id
        self.secrets = dict(secrets or {})       # secret -> name ("app", "kf")
        self.lock = threading.RLock()
        self.tokens: dict[str, str] = {}         # token -> secret
        self.token_requests = 0
        self.calls: list[dict] = []              # every API call: path, payload, result
        self.sent: list[dict] = []               # message/send payloads delivered to a user
        self.duplicates: list[dict] = []         # dropped by the duplicate check
        self.rate_dropped: list[dict] = []       # dropped: over 30 a minute to one member
        self.faults: dict[str, deque] = defaultdict(deque)  # path -> queue of errcode / "http500"
        self.media: dict[str, bytes] = {}
        self.media_names: dict[str, str] = {}    # media_id -> the uploaded file's name (the demo serves it)
        self.media_issued: dict[str, float] = {}  # media_id -> when media/upload issued it
        self.uploads: list[dict] = []            # media/upload calls: type, filename, media_id
        self.kf_messages: list[dict] = []        # for kf/sync_msg (the 微信客服 module uses these)
        self.kf_sent: list[dict] = []
        self.card_updates: list[dict] = []       # message/update_template_card payloads
        self.expire_tokens = False
        self._ids = itertools.count(1)
        self._recent: dict[tuple, float] = {}
        self.extra_routes: dict[str, callable] = {}
        self.media_born: dict[str, float] = {}   # media id -> when WeCom created it (stand-in clock)
        self.clock_offset = 0.0                  # seconds added to the stand-in's clock (tests move it)

    def fail(self, path: str, *codes) -> None:
        """Make the next calls to ``path`` answer these errcodes (or "http500")."""
        with self.lock:
            self.faults[path].extend(codes)

    def now(self) -> float:
        """The stand-in's clock: real time plus ``clock_offset``."""
        return time.time() + self.clock_offset

    def register_media(self, media_id: str, data: bytes | None = None, at: float | None = None) -> None:
        """Media WeCom holds (a photo a callback carries), created ``at`` (default now)."""
        with self.lock:
            self.media_born[media_id] = self.now() if at is None else at
            if data is not None:
                self.media[media_id] = data

    def next_id(self) -> int:
        return next(self._ids)

    def texts_to(self, userid: str) -> list[str]:
        """The text (and markdown) contents delivered to ``userid``, in order."""
        with self.lock:
            out = []
            for p in self.sent:
                if userid in str(p.get("touser", "")).split("|"):
                    if p.get("msgtype") in ("text", "markdown"):
                        out.append(p[p["msgtype"]]["content"])
                    elif p.get("msgtype") == "template_card":
                        card = p["template_card"]
                        out.append(json.dumps(card, ensure_ascii=False))
            return out

    def calls_to(self, path: str) -> list[dict]:
        """The payloads of every call to ``path`` (``message/send``), in order, dropped ones included."""
        with self.lock:
            return [c["payload"] for c in self.calls if c["path"] == path]

    def messages_to(self, userid: str) -> list[dict]:
        """Every payload delivered to ``userid``, in order."""
        with self.lock:
            return [p for p in self.sent if userid in str(p.get("touser", "")).split("|")]

    def reset(self) -> None:
        with self.lock:
            self.calls.clear()
            self.sent.clear()
            self.duplicates.clear()
            self.rate_dropped.clear()
            self.faults.clear()
            self.kf_messages.clear()
            self.kf_sent.clear()
            self.card_updates.clear()
            self.media_issued.clear()
            self.uploads.clear()
            self._recent.clear()
            self.tokens.clear()
            self.token_requests = 0
            self.expire_tokens = False
            self.media_born.clear()
            self.clock_offset = 0.0
            reset_oauth = getattr(self, "reset_oauth", None)
            if reset_oauth:
                reset_oauth()


def make_blueprint(state: StandInState, name: str = "wecom_standin") -> Blueprint:
    """The stand-in's routes, relative to the API base (``gettoken``, ``message/send``, ...)."""
    bp = Blueprint(name, __name__)

    def _fault(path: str):
        with state.lock:
            queue = state.faults.get(path)
            if queue:
                code = queue.popleft()
                if code == "http500":
                    return Response("internal error", status=500)
                return jsonify({"errcode": int(code), "errmsg": "injected by stand-in"})
        return None

    def _auth():
        token = request.args.get("access_token", "")
        with state.lock:
            if token not in state.tokens:
                return None, jsonify({"errcode": 40014, "errmsg": "invalid access_token"})
            if state.expire_tokens:
                state.tokens.pop(token, None)
                state.expire_tokens = False
                return None, jsonify({"errcode": 42001, "errmsg": "access_token expired"})
            return state.tokens[token], None

    def _refused(path: str):
        """An injected fault or an access-token error for a call to ``path``, else None."""
        fault = _fault(path)
        if fault is not None:
            return fault
        return _auth()[1]

    @bp.get("/gettoken")
    def gettoken():
        fault = _fault("gettoken")
        if fault is not None:
            return fault
        corpid, secret = request.args.get("corpid"), request.args.get("corpsecret")
        with state.lock:
            state.token_requests += 1
            if corpid != state.corp_id or secret not in state.secrets:
                return jsonify({"errcode": 40001, "errmsg": "invalid credential"})
            token = f"tok-{state.secrets[secret]}-{state.next_id()}"
            state.tokens[token] = secret
        return jsonify({"errcode": 0, "errmsg": "ok", "access_token": token, "expires_in": 7200})

    @bp.post("/message/send")
    def message_send():
        refused = _refused("message/send")
        if refused is not None:
            return refused
        payload = request.get_json(force=True, silent=True) or {}
        msgtype = payload.get("msgtype")
        if not payload.get("touser") or msgtype not in payload:
            return jsonify({"errcode": 40008, "errmsg": "invalid message type"})
        if msgtype in ("text", "markdown"):
            content = payload[msgtype].get("content", "")
            if len(content.encode("utf-8")) > 2048:
                return jsonify({"errcode": 45002, "errmsg": "content size out of limit"})
        if msgtype in ("file", "image"):
            # WeCom refuses a media_id it never issued or that has expired (3 days). The stand-in checks
            # ids of its own form; a photo id a member sent in a callback never passed through it.
            media_id = str(payload[msgtype].get("media_id", ""))
            with state.lock:
                issued = state.media_issued.get(media_id)
            if (msgtype == "file" or media_id.startswith(ISSUED_PREFIX)) and (
                    issued is None or state.now() - issued > MEDIA_LIFETIME):
                return jsonify({"errcode": 40007, "errmsg": "invalid media_id"})
        msgid = f"msg{state.next_id()}"
        with state.lock:
            state.calls.append({"path": "message/send", "payload": payload})
            key = (payload["touser"], msgtype, json.dumps(payload[msgtype], sort_keys=True, ensure_ascii=False))
            interval = int(payload.get("duplicate_check_interval", 1800))
            now = time.time()
            if payload.get("enable_duplicate_check") and now - state._recent.get(key, -1e12) < interval:
                state.duplicates.append(payload)
            elif _count_last_minute(state.sent, payload["touser"], now) >= PER_MEMBER_MINUTE:
                state.rate_dropped.append(payload)
            else:
                state._recent[key] = now
                payload["_at"] = now
                state.sent.append(payload)
        return jsonify({"errcode": 0, "errmsg": "ok", "msgid": msgid})

    @bp.post("/message/update_template_card")
    def update_template_card():
        refused = _refused("message/update_template_card")
        if refused is not None:
            return refused
        payload = request.get_json(force=True, silent=True) or {}
        if not payload.get("response_code") or not ("button" in payload or "template_card" in payload):
            return jsonify({"errcode": 40058, "errmsg": "response_code and button or template_card required"})
        with state.lock:
            state.calls.append({"path": "message/update_template_card", "payload": payload})
            state.card_updates.append({**payload, "_at": time.time()})
        return jsonify({"errcode": 0, "errmsg": "ok", "invaliduser": []})

    @bp.get("/media/get")
    def media_get():
        secret, error = _auth()
        if error is not None:
            return error
        fault = _fault("media/get")
        if fault is not None:
            return fault
        media_id = request.args.get("media_id", "")
        with state.lock:
            born = state.media_born.setdefault(media_id, state.now())   # unknown ids: created at first sight
            if state.now() - born > MEDIA_LIFETIME:
                return jsonify({"errcode": 40007, "errmsg": "invalid media_id"})
            state.calls.append({"path": "media/get", "payload": {"media_id": media_id}})
        data = state.media.get(media_id, PNG_1PX)
        return Response(data, mimetype="image/png",
                        headers={"Content-Disposition": f'attachment; filename="{media_id}.png"'})

    @bp.post("/media/upload")
    def media_upload():
        secret, error = _auth()
        if error is not None:
            return error
        upload = request.files.get("media")
        media_id = f"media{state.next_id()}"
        with state.lock:
            state.media_born[media_id] = state.now()
            state.media[media_id] = upload.read() if upload else b""
            state.media_names[media_id] = (upload.filename if upload else "") or media_id
            state.media_issued[media_id] = state.now()
            state.uploads.append({"type": request.args.get("type", "image"), "media_id": media_id,
                                  "filename": upload.filename if upload else ""})
        return jsonify({"errcode": 0, "errmsg": "ok", "type": request.args.get("type", "image"),
                        "media_id": media_id, "created_at": str(int(time.time()))})

    @bp.route("/<path:path>", methods=["GET", "POST"])
    def other(path):
        handler = state.extra_routes.get(path)
        if handler is None:
            return jsonify({"errcode": 60011, "errmsg": f"stand-in does not implement {path}"})
        fault = _fault(path)
        if fault is not None:
            return fault
        secret, error = _auth()
        if error is not None:
            return error
        return handler(state, request.get_json(force=True, silent=True) or {}, secret)

    return bp
