"""The stand-in's 微信客服 routes (``kf/sync_msg``, ``kf/send_msg``, ``kf/send_msg_on_event``) and
helpers that play a WeChat customer: write a message, enter the session, build the callback.

It applies KF's rules: only the KF secret's token may call these; ``sync_msg`` needs the
account and the callback's token and pages by cursor; ``send_msg`` allows 5 messages within
48 hours of the customer's last message (errcode 95001 beyond) and drops a repeated ``msgid``;
a welcome code is good once, for 20 seconds.
"""
from __future__ import annotations

import itertools
import re
import time

from flask import jsonify

from bot.standin.callbacks import _cdata

WINDOW_SECONDS = 48 * 3600
MAX_SENDS = 5
WELCOME_SECONDS = 20
MSGID = re.compile(r"^[0-9a-zA-Z_-]{1,32}$")
_seq = itertools.count(int(time.time()) % 100000 * 1000)


def install_kf_routes(state) -> None:
    """Add the KF routes to a ``StandInState`` (idempotent)."""
    if not hasattr(state, "kf_tokens"):
        state.kf_tokens = {}          # callback token -> open_kfid
    state.extra_routes["kf/sync_msg"] = _sync_msg
    state.extra_routes["kf/send_msg"] = _send_msg
    state.extra_routes["kf/send_msg_on_event"] = _send_msg_on_event


def _error(errcode: int, errmsg: str):
    return jsonify({"errcode": errcode, "errmsg": errmsg})


def _kf_secret(state, secret: str):
    if state.secrets.get(secret) != "kf":
        return _error(48002, "api forbidden: use the customer-service secret's access_token")
    return None


def _sync_msg(state, payload: dict, secret: str):
    refused = _kf_secret(state, secret)
    if refused is not None:
        return refused
    open_kfid, token = str(payload.get("open_kfid") or ""), str(payload.get("token") or "")
    if not open_kfid:
        return _error(95000, "open_kfid missing")
    with state.lock:
        state.calls.append({"path": "kf/sync_msg", "payload": dict(payload)})
        if state.kf_tokens.get(token) != open_kfid:
            return _error(95007, "invalid msg token")
        mine = [m for m in state.kf_messages if m.get("open_kfid") == open_kfid]
        try:
            start = int(payload.get("cursor") or 0)
        except ValueError:
            return _error(95000, "invalid cursor")
        limit = max(1, min(int(payload.get("limit") or 1000), 1000))
        page = mine[start:start + limit]
        end = start + len(page)
        return jsonify({"errcode": 0, "errmsg": "ok", "next_cursor": str(end),
                        "has_more": 1 if end < len(mine) else 0,
                        "msg_list": [{k: v for k, v in m.items() if not k.startswith("_")} for m in page]})


def _last_customer_time(state, touser: str, open_kfid: str) -> float | None:
    times = [m.get("_t", m["send_time"]) for m in state.kf_messages if m.get("origin") == 3 and m.get("msgtype") != "event"
             and m.get("external_userid") == touser and m.get("open_kfid") == open_kfid]
    return max(times) if times else None


def _send_msg(state, payload: dict, secret: str):
    refused = _kf_secret(state, secret)
    if refused is not None:
        return refused
    touser, open_kfid, msgid = (str(payload.get(k) or "") for k in ("touser", "open_kfid", "msgid"))
    msgtype = payload.get("msgtype")
    if not touser or not open_kfid or msgtype not in payload:
        return _error(95000, "touser, open_kfid and the msgtype's body are required")
    if msgid and not MSGID.match(msgid):
        return _error(95000, "invalid msgid")
    if msgtype == "text" and len(str(payload["text"].get("content", "")).encode("utf-8")) > 2048:
        return _error(45002, "content size out of limit")
    now = time.time()
    with state.lock:
        state.calls.append({"path": "kf/send_msg", "payload": dict(payload)})
        if msgid and any(p.get("msgid") == msgid for p in state.kf_sent):
            state.duplicates.append(payload)
            return jsonify({"errcode": 0, "errmsg": "ok", "msgid": msgid})
        last = _last_customer_time(state, touser, open_kfid)
        if last is None or now - last > WINDOW_SECONDS:
            return _error(95001, "send msg count limit: the customer has not written within 48 hours")
        sent = [p for p in state.kf_sent if p.get("touser") == touser and not p.get("_welcome")
                and p["_at"] >= last]
        if len(sent) >= MAX_SENDS:
            return _error(95001, "send msg count limit")
        msgid = msgid or f"kfmsg{state.next_id()}"
        state.kf_sent.append({**payload, "msgid": msgid, "_at": now, "_kf": True})
    return jsonify({"errcode": 0, "errmsg": "ok", "msgid": msgid})


def _send_msg_on_event(state, payload: dict, secret: str):
    refused = _kf_secret(state, secret)
    if refused is not None:
        return refused
    code, msgid = str(payload.get("code") or ""), str(payload.get("msgid") or "")
    if payload.get("msgtype") not in payload:
        return _error(95000, "msgtype's body is required")
    now = time.time()
    with state.lock:
        state.calls.append({"path": "kf/send_msg_on_event", "payload": dict(payload)})
        event = next((m for m in state.kf_messages if m.get("msgtype") == "event"
                      and m["event"].get("welcome_code") == code), None) if code else None
        if event is None or now - event["send_time"] > WELCOME_SECONDS:
            return _error(95018, "send msg session status invalid: welcome code invalid or expired")
        if any(p.get("_welcome_code") == code for p in state.kf_sent):
            return _error(95018, "send msg session status invalid: welcome code already used")
        msgid = msgid or f"kfmsg{state.next_id()}"
        state.kf_sent.append({**payload, "touser": event["event"]["external_userid"],
                              "open_kfid": event["open_kfid"], "msgid": msgid, "_at": now, "_kf": True,
                              "_welcome": True, "_welcome_code": code})
    return jsonify({"errcode": 0, "errmsg": "ok", "msgid": msgid})


# --- playing the WeChat customer -----------------------------------------------------------------

def customer_writes(state, external_userid: str, open_kfid: str, content: str | None = None, *,
                    msgtype: str = "text", body: dict | None = None, send_time: float | None = None) -> dict:
    """A WeChat customer sends a message to the account; returns the ``msg_list`` entry."""
    body = body if body is not None else {"content": content or ""}
    at = send_time if send_time is not None else time.time()
    msg = {"msgid": f"wx{next(_seq)}", "open_kfid": open_kfid, "external_userid": external_userid,
           "send_time": int(at), "origin": 3, "msgtype": msgtype, msgtype: body,
           "_t": at}   # the exact time, for the window rule (send_time has whole seconds)
    with state.lock:
        state.kf_messages.append(msg)
    return msg


def customer_enters(state, external_userid: str, open_kfid: str, scene: str = "qrcode") -> str:
    """A WeChat customer opens the chat; returns the welcome code."""
    code = f"wc{next(_seq)}"
    msg = {"msgid": f"wx{next(_seq)}", "open_kfid": open_kfid, "send_time": int(time.time()), "origin": 4,
           "msgtype": "event", "event": {"event_type": "enter_session", "open_kfid": open_kfid,
                                         "external_userid": external_userid, "scene": scene,
                                         "welcome_code": code}}
    with state.lock:
        state.kf_messages.append(msg)
    return code


def system_event(state, open_kfid: str, event: dict) -> dict:
    """A KF system event (``msg_send_fail``, ``session_status_change``...) in the message list."""
    msg = {"msgid": f"wx{next(_seq)}", "open_kfid": open_kfid, "send_time": int(time.time()), "origin": 4,
           "msgtype": "event", "event": {"open_kfid": open_kfid, **event}}
    with state.lock:
        state.kf_messages.append(msg)
    return msg


def issue_token(state, open_kfid: str) -> str:
    """A callback token for the next ``kf_msg_or_event`` (valid for ``sync_msg`` on that account)."""
    install_kf_routes(state)
    token = f"ENC{next(_seq)}"
    with state.lock:
        state.kf_tokens[token] = open_kfid
    return token


def callback_xml(corp_id: str, open_kfid: str, token: str, create_time: int | None = None) -> str:
    """The plaintext ``kf_msg_or_event`` callback, as WeCom sends it."""
    return ("<xml>" f"<ToUserName>{_cdata(corp_id)}</ToUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime>"
            f"<MsgType>{_cdata('event')}</MsgType><Event>{_cdata('kf_msg_or_event')}</Event>"
            f"<Token>{_cdata(token)}</Token><OpenKfId>{_cdata(open_kfid)}</OpenKfId>" "</xml>")


def texts_to(state, external_userid: str) -> list[str]:
    """The texts the customer received through KF, in order."""
    with state.lock:
        return [p["text"]["content"] for p in state.kf_sent
                if p.get("touser") == external_userid and p.get("msgtype") == "text"]
