"""`qingche knowledge check` catches texts that YAML cuts or that the code cannot fill in."""
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import texts
from bot.cli_knowledge import knowledge

TEXTS = Path(texts.__file__).resolve().parent.parent / "knowledge" / "texts"


@pytest.fixture
def broken(tmp_path):
    """A copy of the real texts folder, to break one text at a time."""
    folder = tmp_path / "texts"
    shutil.copytree(TEXTS, folder)
    return folder


def run_check(folder):
    return CliRunner().invoke(knowledge, ["check", "--texts", str(folder)])


def test_the_shipped_texts_load_whole():
    assert texts.check() == []
    result = CliRunner().invoke(knowledge, ["check"])
    assert result.exit_code == 0, result.output
    assert "every text loads whole" in result.output


def test_the_digest_footer_and_the_forwarded_ticket_text_keep_their_ends():
    texts.reload()
    assert texts.t("cadre.digest_footer").startswith("发“超时”看超时工单，发“查询 #工单号”看详情。")
    assert "（编号 #12）" in texts.t("catalogue.forwarded_ticket", number=12)


def test_an_unquoted_hash_is_reported_with_file_key_and_line(broken):
    (broken / "cadre.yaml").write_text(
        (broken / "cadre.yaml").read_text(encoding="utf-8")
        + "broken_footer: 发“超时”看超时工单，发“查询 #工单号”看详情。\n", encoding="utf-8")
    result = run_check(broken)
    assert result.exit_code == 1
    lines = result.output.splitlines()
    line_no = len((broken / "cadre.yaml").read_text(encoding="utf-8").splitlines())
    assert f"cadre.yaml: broken_footer: line {line_no}: ' #' starts a YAML comment, so the text is cut there; " \
           "put the text in double quotes" in lines
    assert "cadre.yaml: broken_footer: '“' is never closed (unbalanced quotes or brackets): the text may be cut" \
        in lines


def test_a_comment_after_a_quoted_text_is_reported_but_notes_on_their_own_line_are_not(broken):
    path = broken / "common.yaml"
    path.write_text(path.read_text(encoding="utf-8")
                    + "# a note for whoever edits this\nnoted: \"好的。\"  # 备注\n", encoding="utf-8")
    result = run_check(broken)
    assert result.exit_code == 1
    assert [line for line in result.output.splitlines() if line.startswith("common.yaml")] == [
        f"common.yaml: noted: line {len(path.read_text(encoding='utf-8').splitlines())}: "
        "a comment after the text (' #'); keep notes on a line of their own"]


def test_hashes_inside_block_and_quoted_texts_are_fine(broken):
    path = broken / "common.yaml"
    path.write_text(path.read_text(encoding="utf-8")
                    + "block: |-\n  发“查询 #12”\n  # 不是注释\nquoted: \"发“查询 #12”\"\nglued: 发#12\n", encoding="utf-8")
    assert texts.check(broken) == []


@pytest.mark.parametrize("text, reason", [
    ("请发“查询”看详情", None),
    ("请发「查询」看详情（工单号）【提示】(1)", None),
    ("请发「查询看详情", "'「' is never closed"),
    ("请看详情）", "'）' closes nothing"),
    ("【提示（看这里】）", "'】' closes nothing"),
    ("看《三率说明", "'《' is never closed"),
])
def test_quotes_and_brackets_must_balance(broken, text, reason):
    path = broken / "common.yaml"
    path.write_text(path.read_text(encoding="utf-8") + f'probe: "{text}"\n', encoding="utf-8")
    errors = [e for e in texts.check(broken) if e.startswith("common.yaml: probe:")]
    if reason is None:
        assert errors == []
    else:
        assert len(errors) == 1 and reason in errors[0], errors


def test_a_placeholder_the_code_does_not_fill_in_is_reported(broken):
    path = broken / "tickets.yaml"
    source = path.read_text(encoding="utf-8")
    assert 'ack_done: "已接单 #{number}。' in source
    path.write_text(source.replace('ack_done: "已接单 #{number}。', 'ack_done: "已接单 #{numbr}。'), encoding="utf-8")
    result = run_check(broken)
    assert result.exit_code == 1
    assert "tickets.yaml: ack_done: {numbr} is not a field the code fills in for this text (it gives: number)" \
        in result.output.splitlines()


def test_a_field_of_another_text_is_not_enough(broken):
    """ack_done is formatted with number only: {category} (filled in elsewhere) would raise at run time."""
    path = broken / "tickets.yaml"
    source = path.read_text(encoding="utf-8")
    path.write_text(source.replace('ack_done: "已接单 #{number}。', 'ack_done: "已接单 #{number}（{category}）。'),
                    encoding="utf-8")
    assert "tickets.yaml: ack_done: {category} is not a field the code fills in for this text (it gives: number)" \
        in texts.check(broken)


def test_malformed_and_unnamed_placeholders_are_reported(broken):
    path = broken / "common.yaml"
    path.write_text(path.read_text(encoding="utf-8") + 'lone: "共 {count 条"\nbare: "第{}条"\n', encoding="utf-8")
    errors = texts.check(broken)
    assert any(e.startswith("common.yaml: lone: not a valid template") for e in errors), errors
    assert "common.yaml: bare: a placeholder must be named, e.g. {number}" in errors


def test_the_fields_come_from_the_code():
    """Direct calls, module wrappers with a prefix, exception classes, **dicts and f-string keys."""
    usage = texts.code_fields(TEXTS.parent.parent)
    assert usage.allowed("tickets.ack_done") == ({"number"}, True)                 # ctx.t("tickets.ack_done", ...)
    # digest.t wraps cadre.* (CadreRefused formats cadre.* too, so the fields are pooled for that prefix)
    assert {"text", "count", "number"} <= usage.allowed("cadre.digest_misses_line")[0]
    assert {"number", "assignee", "resolve_by"} <= usage.allowed("cadre.alert_ack_overdue")[0]  # **_fields(...)
    assert usage.allowed("tickets.not_found") == ({"number"}, True)                # Refused("not_found", ...)
    assert usage.allowed("tickets.status_open") == (set(), True)                   # t(f"status_{status}")
    assert usage.allowed("tickets.rate_thanks") == ({"number", "score"}, True)     # key = "a" if ... else "b"


def test_a_non_text_value_is_reported(broken):
    path = broken / "common.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "empty: #{number}\n", encoding="utf-8")
    errors = texts.check(broken)
    assert "common.yaml: empty: expected text, got nothing" in errors
