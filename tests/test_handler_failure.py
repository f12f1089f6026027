"""A handler that fails is retried; after three tries the person gets one apology and later
messages are not held up. Nothing ends in silence."""
from sqlalchemy import select

import handlers
from bot.db import session_scope
from bot.models import InboundMessage
from handlers.base import Handler


class Broken(Handler):
    """Fails on one word, as a bug in a new handler would."""

    name = "broken"

    def check(self, msg, ctx):
        return msg.is_text and msg.text == "触发故障"

    def handle(self, msg, ctx):
        raise RuntimeError("bug")


def test_failing_handler_gets_three_tries_then_one_apology(monkeypatch, wecom, wecom_api, config):
    monkeypatch.setattr(handlers, "REGISTRY", [Broken(), *handlers.REGISTRY])
    wecom.text("chenayi", "触发故障")
    wecom.text("chenayi", "你好")
    wecom.run()
    texts = wecom_api.texts_to("chenayi")
    assert len(texts) == 2
    assert "系统刚才出了点问题" in texts[0]
    assert "轻车" in texts[1]
    with session_scope(config.DATABASE_URL) as s:
        rows = s.scalars(select(InboundMessage).order_by(InboundMessage.id)).all()
        assert [(r.status, r.attempts) for r in rows] == [("failed", 3), ("done", 0)]
        assert "RuntimeError" in rows[0].error
