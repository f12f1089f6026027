"""The demo's chat page: pick a user from the roster, type, and watch what the bot sends back.

The page's server side builds each message as WeCom does, encrypts and signs it with the app's
Token and EncodingAESKey, and POSTs it to /wecom/callback over HTTP; the bot's answers arrive
through the local API stand-in and show in that user's chat.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from pathlib import Path

import requests
from flask import Blueprint, Response, current_app, jsonify, request
from sqlalchemy import select

from bot import limits
from bot.crypto import CallbackCrypto
from bot.db import session_scope
from bot.models import Person
from bot.standin import callbacks
from bot.standin import kf as standin_kf

bp = Blueprint("sim", __name__)
PAGE = Path(__file__).with_name("sim.html")
_log_lock = threading.Lock()
_user_log: list[dict] = []   # what the people typed (the bot's side is in the stand-in state)
DEMO_WECHAT = {"userid": "wmDemo001", "name": "微信居民", "role": "resident", "patch": None,
               "jurisdiction": None, "department": None, "channel": "kf"}   # writes through 微信客服
DEMO_OPEN_KFID = "wkQingcheDemo01"


@bp.get("/sim")
def page():
    """The chat page."""
    return Response(PAGE.read_text(encoding="utf-8"), mimetype="text/html")


@bp.get("/sim/roster")
def roster():
    """The people one can play."""
    cfg = current_app.config["QINGCHE"]
    with session_scope(cfg.DATABASE_URL) as s:
        people = s.scalars(select(Person).order_by(Person.role, Person.userid)).all()
        shown = [{"userid": p.userid, "name": p.name or "微信居民", "role": p.role, "patch": p.patch,
                  "jurisdiction": p.jurisdiction, "department": p.department, "channel": p.channel}
                 for p in people]
    if not any(p["userid"] == DEMO_WECHAT["userid"] for p in shown):
        shown.insert(0, DEMO_WECHAT)
    return jsonify(shown)


@bp.post("/sim/send")
def send():
    """Encrypt a message as WeCom would and POST it to our own callback."""
    cfg = current_app.config["QINGCHE"]
    data = request.get_json(force=True, silent=True) or {}
    userid = str(data.get("userid", ""))
    kind = data.get("type", "text")
    if not userid:
        return jsonify({"error": "请选择用户"}), 400
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
        xml = callbacks.event_xml(corp, userid, "template_card_event", EventKey=str(data.get("key", "")),
                                  TaskId=str(data.get("task_id", "")), CardType="button_interaction",
                                  ResponseCode=f"sim-rc-{uuid.uuid4().hex}",
                                  agent_id=agent)
        shown = f"[点击] {data.get('label', data.get('key', ''))}"
    else:
        return jsonify({"error": "未知消息类型"}), 400
    crypto = CallbackCrypto(cfg.WECOM_TOKEN, cfg.WECOM_AES_KEY, cfg.WECOM_CORP_ID)
    body, params = crypto.build_post(xml, callbacks.new_nonce(), agent_id=agent)
    with _log_lock:
        _user_log.append({"userid": userid, "text": shown, "at": time.time()})
    resp = requests.post(request.host_url.rstrip("/") + "/wecom/callback", params=params, data=body,
                         headers={"Content-Type": "text/xml"}, timeout=10)
    return jsonify({"status": resp.status_code})


@bp.get("/sim/messages")
def messages():
    """One user's chat: what they typed and what the bot sent them, in order."""
    userid = request.args.get("userid", "")
    state = current_app.extensions["qingche.standin"]
    with _log_lock:
        mine = [{"from": "me", "text": m["text"], "at": m["at"]} for m in _user_log if m["userid"] == userid]
    with state.lock:
        theirs = [{"from": "bot", "at": p.get("_at", 0), "msgtype": p["msgtype"],
                   "text": p[p["msgtype"]].get("content", "") if p["msgtype"] in ("text", "markdown") else "",
                   "card": p.get("template_card"), "kf": p.get("_kf", False)}
                  for p in state.sent + state.kf_sent
                  if userid in str(p.get("touser", "")).split("|")]
        # A clicked card that WeCom would redraw in place is shown again, as it now looks.
        theirs += [{"from": "bot", "at": u["_at"], "msgtype": "template_card" if "template_card" in u else "text",
                    "text": f"[卡片已更新] {u.get('button', {}).get('replace_name', '')}",
                    "card": u.get("template_card"), "kf": False}
                   for u in state.card_updates if userid in u.get("userids", [])]
    chat = sorted(mine + theirs, key=lambda m: m["at"])
    return Response(json.dumps(chat, ensure_ascii=False), mimetype="application/json")


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
    with _log_lock:
        _user_log.append({"userid": userid, "text": shown, "at": time.time()})
    resp = requests.post(request.host_url.rstrip("/") + "/wecom/callback", params=params, data=body,
                         headers={"Content-Type": "text/xml"}, timeout=10)
    return jsonify({"status": resp.status_code})
