"""A resident who answers whatever the complaint intake asks, the way the tests need it to.

Tests that are about something else (privacy, column limits, ledgers) file tickets through this
driver, so that they keep testing their own point when the intake's questions change.
"""
from __future__ import annotations


def answer_for(reply: str, place: str, photo: str = "没有") -> str | None:
    """What the resident says to the bot's ``reply``; None when the intake is over."""
    if "已提交" in reply or "工单号" in reply or "已关注" in reply:
        return None
    if "在哪里" in reply or "地点" in reply and "请核对" not in reply:
        return place
    if "照片" in reply and "请核对" not in reply and "确认" not in reply:
        return photo
    if "确认" in reply:
        return "确认"
    return None


def file_ticket(chat, userid: str, text: str, place: str = "1", photo: str = "没有", max_turns: int = 6) -> list[str]:
    """Send ``text`` and answer the intake until the ticket is filed; return every reply."""
    replies = chat(userid, text)
    seen = list(replies)
    for _ in range(max_turns):
        if not replies:
            break
        answer = answer_for(replies[-1], place, photo)
        if answer is None:
            break
        replies = chat(userid, answer)
        seen += replies
    return seen
