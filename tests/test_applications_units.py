"""The checks an application's answers get at once, the form read from the catalogue, and its validation."""
from datetime import date

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from bot.applications import states
from bot.applications.fields import Field, Invalid, check_id_number, clean, form_for, id_check_digit
from bot.config import Config
from bot.errors import ConfigError
from handlers.applications import parse, wants_to_apply
from knowledge.catalogue import CATALOGUE_DIR, check

TODAY = date(2026, 12, 1)


@pytest.mark.parametrize("value, expected", [
    ("11010519491231002X", "11010519491231002X"),          # the standard's own example
    ("11010519491231002x", "11010519491231002X"),
    ("440783 19880512 0024", "440783198805120024"),
    ("４４０７８３１９８８０５１２００２４", "440783198805120024"),   # full-width digits
])
def test_valid_id_numbers(value, expected):
    assert check_id_number(value, TODAY) == expected


@pytest.mark.parametrize("value, why", [
    ("440783198805120025", "id_checksum"),
    ("440783198813320024", "id_birth"),
    ("440783209905120024", "id_birth"),     # born in the future
    ("44078319880512002", "id_length"),
    ("440783880512002", "id_old"),
    ("990783198805120024", "id_region"),
])
def test_invalid_id_numbers_say_why(value, why):
    with pytest.raises(Invalid) as exc:
        check_id_number(value, TODAY)
    assert exc.value.key == why


@given(st.dates(min_value=date(1900, 1, 1), max_value=TODAY), st.integers(0, 999), st.integers(0, 16),
       st.integers(1, 9))
def test_any_single_digit_error_is_caught(born, seq, position, delta):
    first17 = f"440783{born:%Y%m%d}{seq:03d}"
    good = first17 + id_check_digit(first17)
    assert check_id_number(good, TODAY) == good
    digits = list(good)
    digits[position] = str((int(digits[position]) + delta) % 10)
    with pytest.raises(Invalid):
        check_id_number("".join(digits), TODAY)


@pytest.mark.parametrize("kind, text, expected", [
    ("past_date", "2023年9月1日", "2023年9月1日"),
    ("past_date", "2023-09", "2023年9月"),
    ("past_date", "2023.9.1", "2023年9月1日"),
    ("past_date", "2023年9月起", "2023年9月"),
    ("date", "2030年1月1日", "2030年1月1日"),
    ("name", "陈 美玲", "陈美玲"),
    ("name", "阿依古丽·买买提", "阿依古丽·买买提"),
    ("address", "楼冈路幸福花园2栋301", "楼冈路幸福花园2栋301"),
])
def test_clean_values(kind, text, expected):
    assert clean(Field("k", "项目", kind), text, TODAY) == expected


@pytest.mark.parametrize("kind, text, why", [
    ("past_date", "2030年1月1日", "future"), ("past_date", "去年", "date"), ("past_date", "2023年13月", "date"),
    ("name", "12345", "name"), ("name", "没有", "name"), ("address", "楼冈", "address"), ("text", "  ", "empty"),
])
def test_clean_refuses(kind, text, why):
    with pytest.raises(Invalid) as exc:
        clean(Field("k", "项目", kind), text, TODAY)
    assert exc.value.key == why


def test_choices_by_number_or_word():
    housing = Field("housing", "居住方式", "choice", ("居住", "租住"))
    assert clean(housing, "2", TODAY) == "租住"
    assert clean(housing, "我是租住的", TODAY) == "租住"
    with pytest.raises(Invalid):
        clean(housing, "3", TODAY)


def test_every_form_has_a_template_with_its_placeholders():
    from docx import Document

    from bot.applications.documents import template_path

    forms = [f for f in (form_for(i) for i in ("R1", "R2", "R3", "R4", "R5", "R6")) if f]
    assert [f.entry.id for f in forms] == ["R1", "R2", "R3", "R5", "R6"]   # 政审: by 公函, not in chat
    for form in forms:
        text = "\n".join(p.text for p in Document(str(template_path(form.entry.id))).paragraphs)
        for placeholder in [f.key for f in form.fields] + ["register_number", "village", "date"]:
            assert "{{ " + placeholder + " }}" in text or "{{ " + placeholder + " |" in text, (form.entry.id,
                                                                                             placeholder)


def test_application_block_errors_name_file_entry_and_field(tmp_path):
    entries = yaml.safe_load((CATALOGUE_DIR / "retained.yaml").read_text(encoding="utf-8"))
    r1 = entries[0]
    r1["application"]["fields"][4] = {"key": "housing", "label": "居住方式", "kind": "choice"}
    r1["application"]["fields"].append({"key": "name", "label": "又是姓名", "kind": "nickname"})
    r1["application"]["days"] = "三天"
    r1["application"]["materials"][0]["required"] = "yes"
    (tmp_path / "retained.yaml").write_text(yaml.safe_dump(entries, allow_unicode=True), encoding="utf-8")
    errors, _ = check(tmp_path)
    assert "retained.yaml: entry R1: application.fields[5].choices: a choice needs a list of options" in errors
    assert "retained.yaml: entry R1: application.fields[7].key: duplicate key 'name'" in errors
    assert any(e.startswith("retained.yaml: entry R1: application.fields[7].kind: unknown kind 'nickname'")
               for e in errors)
    assert "retained.yaml: entry R1: application.days: expected a number of working days from 0 to 60" in errors
    assert "retained.yaml: entry R1: application.materials[1].required: expected true/false" in errors


def test_the_state_table():
    assert states.next_state("verifying", "verify") == "submitted"
    assert states.next_state("returned", "resubmit") == "submitted"
    with pytest.raises(states.IllegalTransition):
        states.next_state("verifying", "approve")    # the grid worker is asked first
    with pytest.raises(states.IllegalTransition):
        states.next_state("collected", "refuse")


@pytest.mark.parametrize("text, action, number, rest", [
    ("查询 #A12", "query", 12, ""), ("查询 A12", "query", 12, ""), ("查询#a12", "query", 12, ""),
    ("通过 #A3", "approve", 3, ""), ("退回 #A3 缺少租赁合同", "return", 3, "缺少租赁合同"),
    ("退回补充 #A3 缺少租赁合同", "return", 3, "缺少租赁合同"), ("不予出具 #A3 该地址无人居住", "refuse", 3, "该地址无人居住"),
    ("已领取 #A3", "collect", 3, ""), ("核实 #A3 不符 已搬走", "verify", 3, "不符 已搬走"),
    ("补充 ＃Ａ３", "supplement", 3, ""), ("我的申请", "mine", None, ""),
])
def test_commands(text, action, number, rest):
    cmd = parse(text)
    assert (cmd.action, cmd.number, cmd.rest) == (action, number, rest)


@pytest.mark.parametrize("text", ["查询 #12", "通过", "我的工单", "办结 #3 已修好"])
def test_ticket_commands_are_not_taken(text):
    assert parse(text) is None


@pytest.mark.parametrize("text, applies", [
    ("我要开居住证明", True), ("申请居住证明", True), ("帮我开个租房证明", True),
    ("开居住证明要带什么", False), ("居住证明怎么申请", False), ("申请居住证明要多久？", False),
])
def test_an_explicit_request_is_not_a_question(text, applies):
    assert wants_to_apply(text) is applies


def test_retention_days_are_validated():
    assert Config.from_env(env={}, require_wecom=False).QINGCHE_APPLICATION_DAYS == 180
    assert Config.from_env(env={"QINGCHE_APPLICATION_DAYS": "30"}, require_wecom=False).QINGCHE_APPLICATION_DAYS == 30
    with pytest.raises(ConfigError, match="QINGCHE_APPLICATION_DAYS"):
        Config.from_env(env={"QINGCHE_APPLICATION_DAYS": "0"}, require_wecom=False)
    with pytest.raises(ConfigError, match="QINGCHE_APPLICATION_DAYS"):
        Config.from_env(env={"QINGCHE_APPLICATION_DAYS": "半年"}, require_wecom=False)


@pytest.mark.parametrize("text, applies", [
    ("我要开居住证明", True), ("申请居住证明", True), ("你好，我想开个居住证明", True),
    ("个女考到大学想申请助学贷款，学校要家庭困难证明，去边度开", False),   # asks where, it does not apply
    ("开居住证明要带什么", False), ("居住证明要不要网格员上门", False),
])
def test_only_an_explicit_request_starts_an_application(text, applies):
    from handlers.applications import wants_to_apply

    assert wants_to_apply(text) is applies
