"""Long answers are split at WeCom's 2048-byte limit without breaking a character."""
import pytest

from bot.outbox import split_text


@pytest.mark.parametrize("text", [
    "短消息",
    "证" * 683,                       # 2049 bytes: just over
    "居住证明要带身份证。" * 300,
    ("第一段。\n" * 200) + "a" * 3000,
    "😀" * 1000,                      # 4-byte characters
])
def test_parts_fit_and_join_back(text):
    parts = split_text(text)
    assert all(len(p.encode("utf-8")) <= 2048 for p in parts)
    assert "".join(parts).replace("\n", "") == text.replace("\n", "")
    for p in parts:
        p.encode("utf-8").decode("utf-8")  # every part is whole characters


def test_short_text_is_one_part():
    assert split_text("你好") == ["你好"]


def test_prefers_sentence_ends():
    text = "材料齐全当天办结。" * 400
    parts = split_text(text)
    assert len(parts) > 1
    assert all(p.endswith("。") for p in parts[:-1])
