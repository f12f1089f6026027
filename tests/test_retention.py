"""Processed inbound messages are deleted after QINGCHE_INBOUND_DAYS; nothing else is touched."""
from datetime import timedelta

from sqlalchemy import select, update

from bot import retention
from bot.db import session_scope
from bot.models import InboundMessage, Ticket
from bot.timeutil import utcnow


def _rows(config) -> dict[str, str]:
    with session_scope(config.DATABASE_URL) as s:
        return {r.payload.get("Content"): r.status for r in s.scalars(select(InboundMessage).order_by(InboundMessage.id))}


def _age(config, content: str, days: int, status: str | None = None) -> None:
    with session_scope(config.DATABASE_URL) as s:
        values = {"received_at": utcnow() - timedelta(days=days)}
        if status:
            values["status"] = status
        s.execute(update(InboundMessage).where(InboundMessage.payload["Content"].as_string() == content)
                  .values(**values))


def test_old_processed_messages_go_and_everything_else_stays(app, config, wecom, wecom_api):
    for text in ("老消息", "旧的待处理", "上周的", "最新的旧消息"):
        wecom.text("chenayi", text)
    wecom.run()
    _age(config, "老消息", 91)
    _age(config, "旧的待处理", 120, status="pending")    # never processed: the sweeper's, not ours
    _age(config, "上周的", 7)
    _age(config, "最新的旧消息", 200)                       # the newest row stays whatever its age
    assert retention.prune() == 1
    assert set(_rows(config)) == {"旧的待处理", "上周的", "最新的旧消息"}
    assert retention.prune() == 0


def test_after_pruning_new_messages_are_taken_and_tickets_keep_their_source(app, config, wecom, wecom_api):
    wecom.text("chenayi", "楼下路灯坏了三天了，晚上很黑")
    wecom.run()
    wecom.text("chenayi", "你好")
    wecom.run()
    with session_scope(config.DATABASE_URL) as s:
        s.execute(update(InboundMessage).values(received_at=utcnow() - timedelta(days=100)))
        before = s.scalars(select(Ticket.inbound_id)).all()
    assert retention.prune() >= 1
    wecom.text("chenayi", "办居住证明要带什么")
    wecom.run()
    assert "居住" in wecom_api.texts_to("chenayi")[-1]
    with session_scope(config.DATABASE_URL) as s:
        assert s.scalars(select(Ticket.inbound_id)).all() == before
        newest = s.scalar(select(InboundMessage).order_by(InboundMessage.id.desc()).limit(1))
        assert newest.status == "done" and newest.id not in before


def test_the_sweep_prunes_at_most_once_an_hour(app, config, wecom, wecom_api, monkeypatch):
    monkeypatch.setattr(retention, "_last_run", None)
    for text in ("一", "二", "三"):
        wecom.text("chenayi", text)
    wecom.run()
    _age(config, "一", 95)
    assert retention.prune_due() == 1
    _age(config, "二", 95)
    assert retention.prune_due() == 0                   # within the hour
    monkeypatch.setattr(retention, "_last_run", retention._last_run - retention.EVERY)
    assert retention.prune_due() == 1
