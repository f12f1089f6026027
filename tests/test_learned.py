"""The learned scorer and the example phrasings it learns from."""
from __future__ import annotations

import pytest

from knowledge import examples, learned
from knowledge.catalogue import load_catalogue
from knowledge.matcher import Matcher


def test_packaged_examples_are_valid_and_cover_every_entry():
    catalogue = load_catalogue()
    found = examples.question_examples(set(catalogue.items))
    assert set(catalogue.items) <= set(found), sorted(set(catalogue.items) - set(found))
    assert {"OOS", "META_GRID", "META_DEADLINE"} <= set(found)
    from bot.tickets.categories import categories

    reports = examples.complaint_examples({c.id for c in categories()})
    assert {c.id for c in categories()} - {"consultation"} <= set(reports)


@pytest.mark.parametrize("content, message", [
    ("R99:\n  - 开证明\n", "questions_x.yaml: R99: no such entry"),
    ("R1: 开证明\n", "questions_x.yaml: R1: expected a list"),
    ("R1:\n  - ''\n", "questions_x.yaml: R1[1]: expected a non-empty phrase"),
    ("R1: [a, b\n", "questions_x.yaml: not valid YAML"),
])
def test_a_bad_example_file_names_file_key_and_line(tmp_path, content, message):
    (tmp_path / "questions_x.yaml").write_text(content, encoding="utf-8")
    with pytest.raises(examples.ExampleError, match=message.replace("[", r"\[").replace("]", r"\]")):
        examples.question_examples({"R1"}, tmp_path)


def test_naive_bayes_reads_the_need_and_hears_a_homophone():
    nb = learned.NaiveBayes({
        "school": ["学校要证明我们住在这里", "孩子读书要居住证明", "插班要证明租房住"],
        "bank": ["银行要证明我是他儿子", "去银行取钱要亲属证明", "银行说要关系证明"],
    })
    assert nb.guess("细路读书学校叫我证明住喺度").top == "school"
    assert nb.guess("银航要证明我系佢个仔").top == "bank"        # 银航: heard as 银行
    guess = nb.guess("今日天气好")
    assert guess.known == 0 or guess.p < 0.9


def test_naive_bayes_scores_are_the_textbook_sums_and_survive_a_pickle():
    """The per-feature gains are worked out when a message first shows a feature: the ranking must be
    the one of the full multinomial formula, and a model read back from a pickle must read the same."""
    import math
    import pickle
    from collections import Counter

    training = {
        "school": ["学校要证明我们住在这里", "孩子读书要居住证明", "插班要证明租房住"],
        "bank": ["银行要证明我是他儿子", "去银行取钱要亲属证明", "银行说要关系证明"],
        "clinic": ["医院要证明我是病人家属", "住院要家属签字证明"],
    }
    nb = learned.NaiveBayes(training)
    text = "银行叫我证明系佢屋企人，读书都要"
    counts = {label: Counter(f for t in texts for f in learned.features(t)) for label, texts in training.items()}
    vocabulary = set().union(*counts.values())
    feats = [f for f in learned.features(text) if f in nb.weight]
    total_weight = sum(nb.weight[f] for f in feats)

    def score(label: str) -> float:
        total = sum(counts[label].values()) + learned.ALPHA * len(vocabulary)
        return sum(nb.weight[f] * math.log((counts[label][f] + learned.ALPHA) / total) for f in feats)

    scale = 1.0 / (learned.TEMPERATURE * math.sqrt(total_weight))
    best = max(score(label) for label in training)
    z = sum(math.exp((score(label) - best) * scale) for label in training)
    guess = nb.guess(text)
    assert guess.labels == tuple(sorted(training, key=score, reverse=True))
    for label in training:
        assert guess.prob(label) == pytest.approx(math.exp((score(label) - best) * scale) / z, rel=1e-9)
    again = pickle.loads(pickle.dumps(nb))
    assert again.guess(text) == guess
    assert again.guess("去医院要证明") == nb.guess("去医院要证明")


def test_features_are_the_same_for_traditional_and_simplified():
    assert learned.features("學校要證明") == learned.features("学校要证明")


def test_the_examples_answer_a_need_the_keywords_do_not_know():
    catalogue = load_catalogue()
    need = "屋企阿嫲要做个咩嘢先可以继续攞退休金"
    plain = Matcher(catalogue, {})
    taught = Matcher(catalogue, {"S5": ["阿嫲要做咩嘢先可以继续攞退休金", "继续攞退休金要做乜", "退休金每年要做嘅嘢"] * 3})
    assert plain.match(need).outcome != "confident" or plain.match(need).item.id != "S5"
    result = taught.match(need)
    assert result.outcome in ("confident", "clarify") and result.ids[0] == "S5"


def test_out_of_scope_examples_keep_a_certificate_from_being_guessed():
    catalogue = load_catalogue()
    m = Matcher(catalogue, {"OOS": ["听日天气点样", "明天会不会落雨", "天气预报", "今日几度"] * 3})
    result = m.match("听晚会唔会落大雨")
    assert result.outcome == "none" and result.topic == "OOS"


def test_logistic_weighs_many_small_signs_and_knows_a_short_message_is_too_short():
    model = learned.Logistic(
        ["屋企冒紧烟 阿婆困喺入面", "有人跌咗落河 冲紧落去", "电线断咗跌喺水度 啲火花一路喷", "楼梯着火 啲人落唔到嚟"],
        ["上个月屋企冒过烟 已经整好", "河边想装多啲栏杆", "电线有啲旧 想搵人睇下", "楼梯灯坏咗好耐", "垃圾成日冇人收"],
    )
    p_danger, known = model.reading("阿婆困喺屋企入面 冒紧烟")
    p_calm, _ = model.reading("屋企冒过烟 已经整好")
    assert p_danger > 0.5 > p_calm and known >= 6
    assert model.reading("你好")[1] == 0
    again = learned.Logistic(["屋企冒紧烟 阿婆困喺入面"] * 2, ["垃圾成日冇人收"] * 2)
    same = learned.Logistic(["屋企冒紧烟 阿婆困喺入面"] * 2, ["垃圾成日冇人收"] * 2)
    assert again.w == same.w and again.b == same.b   # the same examples give the same model


@pytest.mark.parametrize("text, danger", [
    ("阿婆喺厨房瞓低咗 叫极都唔应 口唇都紫晒", True),           # no word of any list: collapsed, not answering
    ("隔离单位门缝一直有黑烟飘出嚟 拍门冇人应", True),
    ("条河水涨到入屋 啲家私浮晒起身 阿爷仲喺二楼落唔到嚟", True),
    ("阿婆上个月喺厨房跌低过 而家冇事喇 想问有冇上门探访", False),   # over, and asking for a visit
    ("啲烟味系楼下烧腊铺日日都有 好难顶", False),
    ("如果条河水涨到入屋点算", False),                           # a worry
])
def test_danger_described_in_everyday_words(text, danger):
    from bot.tickets.words import is_dangerous

    assert is_dangerous(text) is danger


@pytest.mark.parametrize("text, meant", [
    ("个仔读高中，学校要我哋证明屋企穷，佢阿妈攞紧低保", "R3"),   # 低保 mentioned; the school's form is asked for
    ("医保收据唔见咗 报销要证明交过钱", "C21"),
    # the words offer two entries (居住, 困难), the examples read the volunteer certificate beyond doubt
    ("周末喺社区帮手派传单，学校要盖章证明", "R6"),
])
def test_a_clear_need_outweighs_a_document_only_mentioned(text, meant):
    result = Matcher(load_catalogue(), examples.packaged_question_examples()).match(text)
    assert result.outcome == "confident" and result.item.id == meant


def test_a_question_the_examples_know_is_not_ours_gets_no_certificate_menu():
    result = Matcher(load_catalogue(), examples.packaged_question_examples()).match("结婚登记要带咩证件")
    assert result.outcome == "none" and result.topic == "OOS"


def test_a_danger_listed_under_its_category_too_is_learned_as_danger_and_as_that_category():
    # the same report under `danger` and under a category: the danger model must not also learn it as
    # an everyday report (it would read it as calm), and the category scorer learns where it belongs
    from bot.tickets.categories import FALLBACK_ID, categories, categorize
    from bot.tickets.words import danger_model, is_dangerous

    found = examples.complaint_examples({c.id for c in categories()})
    danger = set(found["danger"])
    both = [(key, t) for key, texts in found.items() if key not in ("danger", "not_danger")
            for t in texts if t in danger]
    assert len(both) >= 10
    for key, text in both:
        assert danger_model().reading(text)[0] >= 0.5, text
        assert is_dangerous(text), text
        got = categorize(text)
        assert (got.id if got else FALLBACK_ID) == key, text
