"""Build callback messages as WeCom builds them (plaintext XML, then encrypted and signed)."""
from __future__ import annotations

import itertools
import os
import time
from xml.sax.saxutils import escape

_ids = itertools.count(int(time.time() * 1000) * 1000 + os.getpid() % 1000)


def _cdata(value: str) -> str:
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(corp_id: str, from_user: str, msg_type: str, agent_id: str = "1000002",
                msg_id: int | None = None, create_time: int | None = None, **fields) -> str:
    """A plaintext app message (text, image, location, event...) as WeCom sends it."""
    create_time = create_time or int(time.time())
    parts = [f"<ToUserName>{_cdata(corp_id)}</ToUserName>", f"<FromUserName>{_cdata(from_user)}</FromUserName>",
             f"<CreateTime>{create_time}</CreateTime>", f"<MsgType>{_cdata(msg_type)}</MsgType>"]
    for key, value in fields.items():
        if isinstance(value, dict):
            inner = "".join(f"<{k}>{_cdata(v)}</{k}>" for k, v in value.items())
            parts.append(f"<{key}>{inner}</{key}>")
        elif isinstance(value, (int, float)):
            parts.append(f"<{key}>{value}</{key}>")
        else:
            parts.append(f"<{key}>{_cdata(value)}</{key}>")
    if msg_type != "event":
        parts.append(f"<MsgId>{msg_id or next(_ids)}</MsgId>")
    parts.append(f"<AgentID>{escape(str(agent_id))}</AgentID>")
    return "<xml>" + "".join(parts) + "</xml>"


def text_xml(corp_id: str, from_user: str, content: str, **kw) -> str:
    """A text message."""
    return message_xml(corp_id, from_user, "text", Content=content, **kw)


def image_xml(corp_id: str, from_user: str, media_id: str, pic_url: str = "", **kw) -> str:
    """An image message."""
    return message_xml(corp_id, from_user, "image", PicUrl=pic_url or f"https://wework.qpic.cn/{media_id}",
                       MediaId=media_id, **kw)


def location_xml(corp_id: str, from_user: str, lat: float, lng: float, label: str = "", **kw) -> str:
    """A location message."""
    return message_xml(corp_id, from_user, "location", Location_X=lat, Location_Y=lng, Scale=15,
                       Label=label, **kw)


def event_xml(corp_id: str, from_user: str, event: str, **fields) -> str:
    """An event (enter_agent, template_card_event, ...)."""
    return message_xml(corp_id, from_user, "event", Event=event, **fields)


def new_nonce() -> str:
    """A nonce as WeCom sends: digits."""
    return str(next(_ids) % 10_000_000_000)
