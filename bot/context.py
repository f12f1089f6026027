"""What a handler gets besides the message: the session, the sender, their state, and ways to reply."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot import outbox, texts
from bot.config import Config
from bot.conversation import ConversationStore
from bot.models import Outbox, Person
from bot.timeutil import utcnow


class Context:
    """Per-message context. Everything a handler writes goes through ``session`` and commits together."""

    def __init__(self, session: Session, config: Config, channel: str, user_id: str,
                 open_kfid: str = "", now: datetime | None = None):
        self.session = session
        self.config = config
        self.channel = channel
        self.user_id = user_id
        self.open_kfid = open_kfid
        self.now = now or utcnow()
        self.state = ConversationStore(session, channel, user_id)
        self.queued: list[Outbox] = []
        self.after_commit: list[tuple[str, tuple]] = []  # (dotted job path, args) enqueued after commit
        self._person: Person | None = None
        self._person_loaded = False

    @property
    def person(self) -> Person | None:
        """The sender's roster entry (None for someone not on the roster)."""
        if not self._person_loaded:
            self._person = self.session.scalar(select(Person).where(Person.userid == self.user_id))
            self._person_loaded = True
        return self._person

    @property
    def role(self) -> str:
        """The sender's role; anyone not on the roster is a resident."""
        return self.person.role if self.person else "resident"

    def t(self, key: str, **fields) -> str:
        """A user-facing text from ``knowledge/texts``."""
        return texts.t(key, **fields)

    def reply(self, text: str, dedupe_key: str | None = None) -> None:
        """Send ``text`` back to the sender, on the channel they wrote from."""
        self.queued += outbox.queue_text(self.session, self.user_id, text, channel=self.channel,
                                         dedupe_key=dedupe_key, open_kfid=self.open_kfid or None)

    def send(self, to_user: str, text: str, *, channel: str | None = None,
             dedupe_key: str | None = None) -> None:
        """Send ``text`` to someone else (a grid worker, a cadre, a resident)."""
        channel = channel or self._channel_of(to_user)
        self.queued += outbox.queue_text(self.session, to_user, text, channel=channel, dedupe_key=dedupe_key)

    def send_message(self, to_user: str, msgtype: str, body: dict, *, dedupe_key: str | None = None) -> None:
        """Send a non-text app message (markdown, image, template_card) to a WeCom member."""
        self.queued.append(outbox.queue_message(self.session, to_user, msgtype, body, dedupe_key=dedupe_key))

    def _channel_of(self, userid: str) -> str:
        person = self.session.scalar(select(Person).where(Person.userid == userid))
        return person.channel if person else "app"
