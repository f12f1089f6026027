"""Cadres teach Qingche what an unanswered question meant (教 #n), for their jurisdiction, reversibly;
end to end through /wecom/callback (SQLite and PostgreSQL)."""
from click.testing import CliRunner
from sqlalchemy import select

from bot.db import session_scope
from bot.models import CatalogueMiss, TaughtPhrase

QUESTION = "阿妹要张纸交去报名舞蹈班"  # a need in words neither the keywords nor the examples know


def _miss_id(config, text=QUESTION):
    with session_scope(config.DATABASE_URL) as s:
        return s.scalar(select(CatalogueMiss.id).where(CatalogueMiss.text == text))


def test_a_cadre_teaches_and_residents_of_the_village_are_answered(chat, config):
    [offer] = chat("chenayi", QUESTION)
    assert "转给" in offer and "【" not in offer
    chat("chenayi", "2")
    number = _miss_id(config)
    [done] = chat("fang.lougang", f"教 #{number} 居住证明")
    assert "学会了" in done and "居（租）住情况证明" in done and "楼冈社区居委会" in done
    assert chat("chenayi", QUESTION)[0].startswith("【居（租）住情况证明】")
    assert chat("chenayi", "阿妹要张纸交去报名跳舞班")[0].startswith("【居（租）住情况证明】")  # similar
    assert not chat("lisuk", QUESTION)[0].startswith("【")      # another community was not taught
    with session_scope(config.DATABASE_URL) as s:
        row = s.scalar(select(TaughtPhrase))
        assert (row.item_id, row.jurisdiction, row.taught_by, row.active) == ("R1", "楼冈社区居委会", "fang.lougang", True)


def test_teaching_is_reversible_and_only_for_cadres(chat, config):
    chat("chenayi", QUESTION)
    chat("chenayi", "2")
    number = _miss_id(config)
    assert "只有" in chat("liang.wg", f"教 #{number} 居住证明")[0]
    assert "没有找到“火星证明”" in chat("fang.lougang", f"教 #{number} 火星证明")[0]
    assert "没有找到编号" in chat("fang.lougang", "教 #99999 居住证明")[0]
    chat("fang.lougang", f"教 #{number} R1")
    assert "已撤销" in chat("fang.lougang", f"撤销教 #{number}")[0]
    assert not chat("chenayi", QUESTION)[0].startswith("【")


def test_taught_phrasings_export_to_yaml(chat, config, tmp_path, monkeypatch):
    import yaml

    from bot.cli_knowledge import knowledge

    chat("chenayi", QUESTION)
    chat("chenayi", "2")
    chat("fang.lougang", f"教 #{_miss_id(config)} 居住证明")
    monkeypatch.setenv("DATABASE_URL", config.DATABASE_URL)
    out = tmp_path / "taught.yaml"
    result = CliRunner().invoke(knowledge, ["taught", "--export", str(out)])
    assert result.exit_code == 0, result.output
    assert yaml.safe_load(out.read_text(encoding="utf-8")) == {"R1": [QUESTION]}


def test_residents_ask_about_the_service_itself(chat):
    [grid] = chat("chenayi", "我哋嘅网格员系边个")
    assert "梁晓敏" in grid and "13800002001" in grid
    [named] = chat("u.somebody", "东河社区的网格员是谁")
    assert "吴丽华" in named and "何家明" in named
    [how_long] = chat("u.somebody", "反映了问题一般几天有人回复")
    assert "24小时" in how_long and "10 个工作日" in how_long
    [who] = chat("u.somebody", "谁管我们这个小区")
    assert "网格员" in who


def test_who_is_in_charge_of_a_broken_thing_is_a_report_of_it(chat):
    replies = chat("u.neighbour", "村口嗰盏路灯边个负责㗎，坏咗成个礼拜")
    assert not any("网格员：" in r or "网格员" in r and "电话" in r for r in replies), replies
    assert any("在哪里" in r or "反映问题" in r for r in replies), replies
    [worker] = chat("chenayi", "路灯坏咗要搵网格员，我哋嘅网格员系边个")
    assert "网格员" in worker and "电话" in worker
