"""Normalisation, near-collisions, outcomes and the question/complaint split."""
from __future__ import annotations

import pytest

from knowledge.catalogue import load_catalogue
from knowledge.matcher import Matcher, looks_like_question, match
from knowledge.normalize import normalize


@pytest.mark.parametrize(("text", "expected"), [
    ("開居住證明要帶咩嘢？", "开居住证明要带什么"),
    ("ＡＢＣ１２３，居住证明！", "abc123居住证明"),
    ("我阿爸過身咗，死亡證明去邊度開", "我爸爸去世了死亡证明去哪里开"),
    ("請問一下低保點樣申請呀", "低保怎么申请"),
    ("居柱证明", "居住证明"),
    ("冇工作證明喺邊度攞", "没有工作证明在哪里拿"),
    ("亲属关系证明", "亲属关系证明"),  # 系 in 关系 stays
    ("", ""),
    ("？！。。", ""),
])
def test_normalize(text, expected):
    assert normalize(text) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("居住证怎么办", "S4"),            # the residence permit ...
    ("居住证明点开", "R1"),          # ... is not the residence certificate
    ("死亡证明去哪开", "C11"),
    ("非医学性死亡证明去哪开", "C24"),
    ("户籍证明去哪开", "C34"),
    ("收入证明村委能开吗", "C28"),
    ("家庭经济困难学生证明去边度开", "R3"),
    ("无犯罪记录证明社区能开吗", "C5"),
    ("残疾证明去哪开", "C13"),
    ("残疾人证怎么办", "S9"),
    ("社保认证在哪里", "S5"),
    ("贫困证明去哪开", "S15"),
    ("居委有乜证明能开", "S14"),       # the overview, asked with the verb after the noun
])
def test_near_collisions_are_confident_and_right(text, expected):
    result = match(text)
    assert (result.outcome, result.ids) == ("confident", [expected])


def test_both_names_in_one_message_is_a_close_call():
    result = match("居住证和居住证明有什么区别")
    assert result.outcome == "clarify"
    assert sorted(result.ids) == ["R1", "S4"]


def test_a_homophone_typo_is_heard_by_its_sound():
    result = match("政甚情况证明")          # 甚 for 审: same sound, no typo table
    assert (result.outcome, result.ids) == ("confident", ["R4"])


@pytest.mark.parametrize("typed, meant", [("wu ye zheng ming 在哪里开", "C15"), ("居住zhengming", "R1"),
                                           ("hunyin证明怎么开", "C8")])
def test_pinyin_typed_in_latin_letters_is_heard_as_the_name(typed, meant):
    """A resident who never picked the characters: the letters are read as the syllables they spell."""
    result = match(typed)
    assert (result.outcome, result.ids[:1]) == ("confident", [meant])


def test_latin_letters_that_are_not_pinyin_name_nothing():
    from knowledge.phonetic import spans_of

    assert match("I need a certificate for my visa").outcome == "none"
    assert spans_of("居wuye") == (("ju", 0, 1), ("wu", 1, 3), ("ye", 3, 5))
    assert [s for s, _, _ in spans_of("visa")] == ["v", "i", "s", "a"]   # "v" begins no syllable


def test_the_sound_index_loads_no_phrase_table():
    """Characters are read one at a time; pypinyin's phrase table would only cost every process memory."""
    import subprocess
    import sys

    code = "import sys, knowledge.phonetic as p; p.syllable('证'); print('pypinyin.phrases_dict' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize("typed, meant", [("居注证明", "R1"), ("全属来源证明", "R2"), ("三养关系证明", "C30")])
def test_cantonese_speakers_confusions_are_folded(typed, meant):
    """z/zh, s/sh, -n/-ng, n/l: the confusions Cantonese speakers make typing Mandarin."""
    assert match(typed).ids[:1] == [meant]


def test_residents_words_name_a_concept():
    from knowledge.concepts import concepts_in
    from knowledge.normalize import normalize

    assert concepts_in(normalize("银行要我证明我同佢系两公婆")) == ["夫妻"]
    assert match("要证明我哋两公婆").ids[:1] == ["C23"]


def test_one_choice_is_an_answer_and_the_overview_is_never_a_guess():
    result = match("政审材料要多久")
    assert result.outcome == "confident"
    assert "S14" not in match("要开个证明证明我住这里").ids


@pytest.mark.parametrize("text", ["楼下路灯坏了", "你好", "", "今天天气怎么样", "邻居养狗天天叫很吵"])
def test_no_match(text):
    assert match(text).outcome == "none"


@pytest.mark.parametrize(("text", "expected"), [
    ("有什么证明要带什么材料", True),
    ("明天几点开会", False),
    ("遗嘱公证证明哪里开", True),
    ("楼下路灯坏了", False),
    ("路灯坏了怎么办", False),
    ("垃圾没人收要开证明吗", False),
    ("手续怎么办理", True),
])
def test_looks_like_question(text, expected):
    assert looks_like_question(text) == expected


def test_scores_are_sorted_and_items_unique():
    result = match("我想开个证明")
    assert list(result.scores) == sorted(result.scores, reverse=True)
    assert len(set(result.ids)) == len(result.ids)


def test_matcher_over_a_custom_catalogue_is_independent():
    matcher = Matcher(load_catalogue())
    assert matcher.match("开居住证明要带什么").ids == ["R1"]


def test_a_keyword_pair_the_examples_doubt_is_offered_next_to_their_reading():
    """No name, only a pair of keywords (拆), and the examples read the duty of reporting it: a menu of
    both rather than a confident answer that may be the wrong list."""
    result = match("有人在耕地上建房子，我们村委能不能直接去拆")
    assert result.outcome == "clarify"
    assert sorted(result.ids) == ["D12", "X2"]
    assert match("村里有人违建，村委有没有权强拆").ids == ["X2"]   # a name: answered


@pytest.mark.parametrize("text", ["社保卡密码忘记了", "医保卡怎么激活"])
def test_a_word_of_an_entry_in_a_question_the_examples_know_is_not_ours_gets_no_certificate(text):
    """社保 and 医保 are words of entries, but a card's password or activation is no committee business:
    the examples read it as out of scope beyond doubt, so no entry is answered."""
    result = match(text)
    assert (result.outcome, result.topic) == ("none", "OOS")
    assert match("社保怎么买").ids == ["S7"]   # the entry itself, asked for: answered
