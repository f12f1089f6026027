"""The contract every handler follows: ``check`` then ``handle``.

A handler module defines one ``Handler`` subclass for one user intent. The ordered
registry in ``handlers/__init__.py`` asks each handler in turn; the first whose
``check`` returns True handles the message.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from bot.context import Context


@dataclass
class Message:
    """One inbound message or event, already verified, decrypted and deduplicated."""

    inbound_id: int
    channel: str            # "app" (WeCom app member) or "kf" (WeChat resident through 微信客服)
    user_id: str            # WeCom userid, or external_userid on the kf channel
    msg_type: str           # text, image, voice, video, file, location, link, event, ...
    text: str = ""          # Content for text messages, stripped
    event: str = ""         # event name for msg_type == "event" (lower case)
    event_key: str = ""     # EventKey of menu clicks and template-card buttons
    media_id: str = ""
    pic_url: str = ""
    lat: float | None = None
    lng: float | None = None
    label: str = ""         # location label
    task_id: str = ""       # template card task id
    response_code: str = "" # template card click: lets us update that card once (72 h)
    open_kfid: str = ""     # kf channel: the customer-service account
    problem: str = ""       # a value WeCom sent that cannot be right (location, media): see InvalidInput
    raw: dict[str, Any] = field(default_factory=dict)

    @property
    def is_text(self) -> bool:
        return self.msg_type == "text"


class Handler:
    """Base class: override ``check`` and ``handle``.

    ``states`` lists the conversation states this handler owns: while a user's
    conversation is in one of them, the registry gives that user's messages to
    this handler (after explicit commands, before questions).
    """

    name: str = "handler"
    states: tuple[str, ...] = ()

    def check(self, msg: Message, ctx: Context) -> bool:
        """Whether this handler takes the message."""
        raise NotImplementedError

    def handle(self, msg: Message, ctx: Context) -> None:
        """Act on the message; reply through ``ctx.reply`` / ``ctx.send``."""
        raise NotImplementedError

    def continue_conversation(self, msg: Message, ctx: Context) -> None:
        """Handle a message while the user's conversation is in one of ``states``."""
        self.handle(msg, ctx)
