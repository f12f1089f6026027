"""The demo's chat page: pick a user from the roster, type, and watch what the bot sends back.

The page's server side builds each message as WeCom does, encrypts and signs it with the app's
Token and EncodingAESKey, and POSTs it to /wecom/callback over HTTP; the bot's answers arrive
through the local API stand-in and show in that user's chat.

What the people typed is kept only here, in memory, for the page (ID-card numbers masked); the
bot's side is the stand-in's state. A card the bot updates through ``message/update_template_card``
is matched to the clicked card by the click's ResponseCode and shown redrawn in place, as WeCom does.
"""
from __future__ import annotations

import itertools
import json
import mimetypes
import threading
import time
import uuid
from collections import deque
from io import BytesIO
from pathlib import Path
from urllib.parse import quote

import requests
from flask import Blueprint, Response, abort, current_app, jsonify, request, send_file
from sqlalchemy import select

from bot import limits, privacy
from bot.crypto import CallbackCrypto
from bot.db import session_scope
from bot.models import Patch, Person
from bot.standin import callbacks
from bot.standin import kf as standin_kf

bp = Blueprint("sim", __name__)
PAGE = Path(__file__).with_name("sim.html")
ROLE_ORDER = ("resident", "grid_worker", "building_head", "cadre", "department")   # the page's groups
LOG_MAX = 5000            # typed messages (and clicks) the page remembers, oldest forgotten first
INLINE_IMAGES = {"image/png", "image/jpeg", "image/gif", "image/webp"}   # shown in the page; anything else downloads
_setup_lock = threading.Lock()


class TypedLog:
    """What the people typed on the page (ID-card numbers masked) and the cards they clicked, in memory only."""

    def __init__(self):
        self.lock = threading.Lock()
        self.entries: deque[dict] = deque(maxlen=LOG_MAX)
        self.clicks: dict[str, tuple[str, str]] = {}   # a click's ResponseCode -> (userid, the clicked card's task_id)
        self._ids = itertools.count(1)

    def add(self, userid: str, shown: str) -> None:
        with self.lock:
            self.entries.append({"id": f"u{next(self._ids)}", "userid": userid,
                                 "text": privacy.mask_ids(shown), "at": time.time()})

    def clicked(self, code: str, userid: str, task_id: str) -> None:
        with self.lock:
            self.clicks[code] = (userid, task_id)
            while len(self.clicks) > LOG_MAX:
                del self.clicks[next(iter(self.clicks))]


def typed_log() -> TypedLog:
    """This app's log (one per demo app, so two apps in one process keep their chats apart)."""
    with _setup_lock:
        return current_app.extensions.setdefault("qingche.sim", TypedLog())
DEMO_WECHAT = {"userid": "wmDemo001", "name": "微信居民", "role": "resident", "patch": None,
               "jurisdiction": None, "department": None, "channel": "kf"}   # writes through 微信客服
DEMO_OPEN_KFID = "wkQingcheDemo01"


@bp.get("/sim")
def page():
    """The chat page."""
    return Response(PAGE.read_text(encoding="utf-8"), mimetype="text/html")


@bp.get("/sim/roster")
def roster():
    """The people one can play: the 微信居民 first, then by role (居民, 网格员, 楼长, 干部, 部门联络员), in roster order."""
    cfg = current_app.config["QINGCHE"]
    with session_scope(cfg.DATABASE_URL) as s:
        people = s.scalars(select(Person).order_by(Person.id)).all()
        shown = [{"userid": p.userid, "name": p.name or "微信居民", "role": p.role, "patch": p.patch,
                  "jurisdiction": p.jurisdiction, "department": p.department, "channel": p.channel}
                 for p in people]
    if not any(p["userid"] == DEMO_WECHAT["userid"] for p in shown):
        shown.insert(0, DEMO_WECHAT)

    def rank(p: dict) -> tuple[int, int]:
        if p["channel"] == "kf":
            return (0, 0)
        return (1, ROLE_ORDER.index(p["role"]) if p["role"] in ROLE_ORDER else len(ROLE_ORDER))

    return jsonify(sorted(shown, key=rank))   # sorted() is stable: roster order within a group


@bp.get("/sim/patches")
def patches():
    """The roster's patches with their centres, for the page's 发位置 and its header."""
    cfg = current_app.config["QINGCHE"]
    with session_scope(cfg.DATABASE_URL) as s:
        rows = s.scalars(select(Patch).order_by(Patch.code)).all()
        return jsonify([{"code": p.code, "name": p.name, "village": p.village, "town": p.town,
                         "lat": p.lat, "lng": p.lng} for p in rows])


@bp.get("/sim/media/<media_id>")
def media(media_id: str):
    """A file or image the bot uploaded through the stand-in's ``media/upload``, under its uploaded name."""
    state = current_app.extensions["qingche.standin"]
    with state.lock:
        data = state.media.get(media_id)
        name = state.media_names.get(media_id) or media_id
    if data is None:
        abort(404)
    ctype = mimetypes.guess_type(name)[0] or _sniff(data)
    resp = send_file(BytesIO(data), mimetype=ctype, download_name=name, as_attachment=ctype not in INLINE_IMAGES)
    resp.headers["X-Content-Type-Options"] = "nosniff"
    return resp


def _sniff(data: bytes) -> str:
    for magic, ctype in ((b"\x89PNG", "image/png"), (b"\xff\xd8\xff", "image/jpeg"), (b"GIF8", "image/gif")):
        if data.startswith(magic):
            return ctype
    return "application/octet-stream"


@bp.post("/sim/send")
def send():
    """Encrypt a message as WeCom would and POST it to our own callback."""
    cfg = current_app.config["QINGCHE"]
    data = request.get_json(force=True, silent=True) or {}
    userid = str(data.get("userid", ""))
    kind = data.get("type", "text")
    if not userid:
        return jsonify({"error": "请选择用户"}), 400
    if kind == "text" and not str(data.get("text", "")).strip():
        return jsonify({"error": "消息是空的"}), 400
    corp, agent = cfg.WECOM_CORP_ID, cfg.WECOM_AGENT_ID
    if kind == "location":
        data["lat"], data["lng"] = limits.coordinate(data.get("lat"), 90), limits.coordinate(data.get("lng"), 180)
        if data["lat"] is None or data["lng"] is None:
            return jsonify({"error": "位置的经纬度不对：纬度在 -90 到 90 之间，经度在 -180 到 180 之间"}), 400
    if _is_wechat(cfg, userid):
        return _send_kf(cfg, userid, kind, data)
    if kind == "text":
        xml = callbacks.text_xml(corp, userid, str(data.get("text", "")), agent_id=agent)
        shown = str(data.get("text", ""))
    elif kind == "image":
        media_id = f"sim-photo-{int(time.time())}"
        xml = callbacks.image_xml(corp, userid, media_id, agent_id=agent)
        shown = "[图片]"
    elif kind == "location":
        xml = callbacks.location_xml(corp, userid, data["lat"], data["lng"],
                                     str(data.get("label", "")), agent_id=agent)
        shown = f"[位置] {data.get('label', '')}"
    elif kind == "click":
        code = f"sim-rc-{uuid.uuid4().hex}"
        xml = callbacks.event_xml(corp, userid, "template_card_event", EventKey=str(data.get("key", "")),
                                  TaskId=str(data.get("task_id", "")), CardType="button_interaction",
                                  ResponseCode=code, agent_id=agent)
        shown = None   # a click is no message in WeCom: the card itself changes
        typed_log().clicked(code, userid, str(data.get("task_id", "")))
    else:
        return jsonify({"error": "未知消息类型"}), 400
    crypto = CallbackCrypto(cfg.WECOM_TOKEN, cfg.WECOM_AES_KEY, cfg.WECOM_CORP_ID)
    body, params = crypto.build_post(xml, callbacks.new_nonce(), agent_id=agent)
    if shown is not None:
        typed_log().add(userid, shown)
    return _post_callback(body, params)


def _post_callback(body, params):
    resp = requests.post(request.host_url.rstrip("/") + "/wecom/callback", params=params, data=body,
                         headers={"Content-Type": "text/xml"}, timeout=10)
    return jsonify({"status": resp.status_code})


@bp.get("/sim/messages")
def messages():
    """One user's chat: what they typed and what the bot sent them, in order; updated cards as they now look."""
    userid = request.args.get("userid", "")
    state = current_app.extensions["qingche.standin"]
    typed = typed_log()
    with typed.lock:
        mine = [{"id": m["id"], "from": "me", "text": m["text"], "at": m["at"]}
                for m in typed.entries if m["userid"] == userid]
        clicks = dict(typed.clicks)
    with state.lock:
        stored, names = set(state.media), dict(state.media_names)
        theirs = [_bot_message(f"{tag}{i}", p, stored, names)
                  for tag, sent in (("s", state.sent), ("k", state.kf_sent)) for i, p in enumerate(sent)
                  if userid in str(p.get("touser", "")).split("|")]
        updates = [u for u in state.card_updates if clicks.get(u.get("response_code"), ("",))[0] == userid]
    for u in updates:
        task_id = clicks[u["response_code"]][1]
        card = next((m for m in reversed(theirs) if (m["card"] or {}).get("task_id") == task_id), None)
        if card is None:
            continue
        card["updates"] += 1
        if "template_card" in u:
            card["card"], card["replace_name"] = u["template_card"], None
        else:
            card["replace_name"] = (u.get("button") or {}).get("replace_name", "")
    chat = sorted(mine + theirs, key=lambda m: m["at"])
    return Response(json.dumps(chat, ensure_ascii=False), mimetype="application/json")


def _bot_message(key: str, p: dict, stored: set, names: dict) -> dict:
    msgtype = p.get("msgtype", "")
    body = p.get(msgtype) if isinstance(p.get(msgtype), dict) else {}
    media_id = str(body.get("media_id", "")) if msgtype in ("image", "file", "voice", "video") else ""
    return {"id": key, "from": "bot", "at": p.get("_at", 0), "msgtype": msgtype,
            "text": body.get("content", "") if msgtype in ("text", "markdown") else "",
            "card": p.get("template_card"), "updates": 0, "replace_name": None,
            "media": {"id": media_id, "name": names.get(media_id) or media_id,
                      "url": f"/sim/media/{quote(media_id, safe='')}" if media_id in stored else None} if media_id else None,
            "kf": p.get("_kf", False)}


def _is_wechat(cfg, userid: str) -> bool:
    if userid == DEMO_WECHAT["userid"]:
        return True
    with session_scope(cfg.DATABASE_URL) as s:
        return s.scalar(select(Person.channel).where(Person.userid == userid)) == "kf"


def _send_kf(cfg, userid: str, kind: str, data: dict):
    """A WeChat resident writes to the 微信客服 account: the message waits in the stand-in, the callback says so."""
    state = current_app.extensions["qingche.standin"]
    if kind == "text":
        standin_kf.customer_writes(state, userid, DEMO_OPEN_KFID, str(data.get("text", "")))
        shown = str(data.get("text", ""))
    elif kind == "image":
        standin_kf.customer_writes(state, userid, DEMO_OPEN_KFID, msgtype="image",
                                   body={"media_id": f"sim-kf-photo-{int(time.time())}"})
        shown = "[图片]"
    elif kind == "location":
        label = str(data.get("label", ""))
        standin_kf.customer_writes(state, userid, DEMO_OPEN_KFID, msgtype="location",
                                   body={"latitude": data["lat"], "longitude": data["lng"],
                                         "name": label, "address": ""})
        shown = f"[位置] {label}"
    else:
        return jsonify({"error": "微信居民不能点卡片按钮"}), 400
    token = standin_kf.issue_token(state, DEMO_OPEN_KFID)
    crypto = CallbackCrypto(cfg.WECOM_TOKEN, cfg.WECOM_AES_KEY, cfg.WECOM_CORP_ID)
    body, params = crypto.build_post(standin_kf.callback_xml(cfg.WECOM_CORP_ID, DEMO_OPEN_KFID, token),
                                     callbacks.new_nonce())
    typed_log().add(userid, shown)
    return _post_callback(body, params)
