"""A sample of the phrasing table through the real /wecom/callback, worker and WeCom stand-in."""
from __future__ import annotations

import pytest

CASES = [
    ("开居住证明要带什么", "【居（租）住情况证明】村（居）委会可以开。"),
    ("開居住證明要帶咩嘢？", "【居（租）住情况证明】"),
    ("居柱证明", "【居（租）住情况证明】"),
    ("我阿爸过身咗，死亡證明去邊度開", "【死亡证明】村（居）委会已不再开具此证明。"),
    ("无犯罪记录证明社区能开吗", "【无犯罪记录证明】村（居）委会已不再开具此证明。"),
    ("居住证怎么办", "【居住证（广东省居住证）】"),
    ("户籍证明去哪开", "【户籍（常住人口）证明】"),
    ("孩子上大学要贫困证明", "【家庭经济困难学生证明】"),
    ("收入證明點樣開", "【收入证明】"),
    ("低保要點樣申請", "【低保申请】"),
    ("养老认证怎么做", "【养老资格认证】"),
    ("非医学性死亡证明去哪开", "【非医学性死亡证明】"),
    ("街道让社区帮企业协税护税", "【招商引资、协税护税等经济指标任务】属于《取消和禁入事项》"),
    ("居住证和居住证明有什么区别", "您问的是哪一项？请回复数字："),
    ("驾照换证怎么申请", "抱歉，这个问题我这里还没有现成的答案。"),
    ("种粮补贴要带什么材料", "您问的是哪一项？请回复数字："),   # a weak reading is asked about, with 0 for none
]


@pytest.mark.parametrize(("text", "expected_start"), CASES)
def test_phrasing_through_the_callback(chat, text, expected_start):
    replies = chat(f"e2e-{abs(hash(text)) % 10**8}", text)
    assert len(replies) == 1
    assert replies[0].startswith(expected_start)


def test_resident_on_the_roster_hears_their_own_community(chat):
    replies = chat("chenayi", "居住证明点样开")
    assert "去哪里办：楼冈社区党群服务中心" in replies[0]


def test_close_call_answered_by_number(chat):
    first = chat("e2e-choose", "居住证和居住证明有什么区别")[0].splitlines()[1].removeprefix("1. ")
    assert chat("e2e-choose", "1")[0].startswith(f"【{first}】")


def test_complaint_is_not_taken_by_the_catalogue(chat):
    replies = chat("e2e-complaint", "楼下路灯坏了")
    assert replies and not replies[0].startswith(("抱歉，这个问题我这里还没有", "您问的是哪一项"))


def test_none_of_the_guesses_then_a_person(chat):
    """A menu of weak guesses is never a dead end: 0 offers a person, 1 passes the question on."""
    assert chat("e2e-none", "种粮补贴要带什么材料")[0].startswith("您问的是哪一项？")
    [offer] = chat("e2e-none", "0")
    assert "回复 1 把您的问题转给村（居）委会" in offer
    assert any(r.startswith("好的，已把您的问题转给村（居）委会（编号") for r in chat("e2e-none", "1"))
