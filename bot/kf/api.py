"""The three KF API calls we make, as thin wrappers over our ``WeComClient`` (with the KF secret).

wechatpy 2.0.0a26 cannot pass ``open_kfid`` to ``sync_msg`` and builds some KF payloads wrongly,
so we build the JSON ourselves.
"""
from __future__ import annotations

from bot.wecom.client import WeComClient

SYNC_LIMIT = 1000          # the API's maximum page size
SEND_LIMIT_ERRCODE = 95001  # "send msg count limit": 5 messages since the customer's last, or 48 h passed
SESSION_STATE_ERRCODE = 95018  # "send msg session status invalid": a person took over, or the session ended
HOLD_ERRCODES = frozenset({SEND_LIMIT_ERRCODE, SESSION_STATE_ERRCODE})

ORIGIN_CUSTOMER = 3
ORIGIN_SYSTEM = 4
ORIGIN_SERVICER = 5


def sync_msg(client: WeComClient, open_kfid: str, token: str = "", cursor: str = "",
             limit: int | None = None) -> dict:
    """One page of ``kf/sync_msg``: ``msg_list``, ``next_cursor``, ``has_more``."""
    payload: dict = {"open_kfid": open_kfid, "limit": limit or SYNC_LIMIT, "voice_format": 0}
    if cursor:
        payload["cursor"] = cursor
    if token:
        payload["token"] = token   # the callback's token: without it the API is strictly rate-limited
    return client.call("kf/sync_msg", payload)


def send_text(client: WeComClient, external_userid: str, open_kfid: str, msgid: str, content: str) -> str:
    """``kf/send_msg`` a text; ``msgid`` makes a resend after a crash a no-op. Returns the msgid."""
    data = client.call("kf/send_msg", {"touser": external_userid, "open_kfid": open_kfid, "msgid": msgid,
                                       "msgtype": "text", "text": {"content": content}})
    return str(data.get("msgid") or msgid)


def send_on_event(client: WeComClient, code: str, msgid: str, content: str) -> str:
    """``kf/send_msg_on_event``: the one welcome message allowed by an ``enter_session`` welcome code."""
    data = client.call("kf/send_msg_on_event", {"code": code, "msgid": msgid, "msgtype": "text",
                                                "text": {"content": content}})
    return str(data.get("msgid") or msgid)
