"""The catalogue data files load, and every mistake is reported with file, entry and field."""
from __future__ import annotations

import textwrap

import pytest
from click.testing import CliRunner

from bot.cli_knowledge import knowledge
from knowledge.catalogue import CatalogueError, check, load_catalogue

RETAINED = """\
- id: R1
  kind: retained
  sample: true
  name: 居（租）住情况证明
  aliases: [居住证明]
  proves: 居住情况
  applicant: 本人
  materials: [身份证]
  steps: [申请]
  time_limit: 当场
  wording: 兹证明
  basis: 民发〔2020〕20号
  updated: 2025-01-01
"""


def cancelled(item_id: str = "C1", name: str = "亲属关系证明", extra: str = "") -> str:
    return textwrap.dedent(f"""\
    - id: {item_id}
      kind: cancelled
      sample: true
      name: {name}
      aliases: [{name}别名]
      instead: 户口簿
      basis: 民发〔2020〕20号
      updated: 2025-01-01
    """) + extra


def write(tmp_path, **files: str):
    for name, body in files.items():
        (tmp_path / f"{name}.yaml").write_text(body, encoding="utf-8")
    return tmp_path


def test_packaged_catalogue_loads():
    catalogue = load_catalogue()
    assert len(catalogue.by_kind("retained")) == 6
    assert len(catalogue.by_kind("cancelled")) == 36
    assert {item.duty_list for item in catalogue.by_kind("duty")} == {"autonomy", "assist", "barred"}
    assert len(catalogue.by_kind("service")) >= 10


def test_every_entry_is_marked_sample():
    assert all(item.get("sample") is True for item in load_catalogue())


def test_valid_files_have_no_errors(tmp_path):
    errors, items = check(write(tmp_path, retained=RETAINED, cancelled=cancelled()))
    assert errors == []
    assert sorted(items) == ["C1", "R1"]


def test_duplicate_id_names_both_files(tmp_path):
    errors, _ = check(write(tmp_path, a=cancelled("C1"), b=cancelled("C1", name="婚姻状况证明")))
    assert errors == ["b.yaml: entry C1: id: duplicate id, already used in a.yaml"]


def test_missing_field(tmp_path):
    errors, _ = check(write(tmp_path, retained=RETAINED.replace("  time_limit: 当场\n", "")))
    assert errors == ["retained.yaml: entry R1: time_limit: missing"]


def test_unknown_reference(tmp_path):
    errors, _ = check(write(tmp_path, cancelled=cancelled(extra="  see_also: [R9]\n")))
    assert errors == ["cancelled.yaml: entry C1: see_also[1]: unknown reference 'R9'"]


def test_unknown_field_and_wrong_type(tmp_path):
    errors, _ = check(write(tmp_path, cancelled=cancelled(extra="  alias: [x]\n").replace(
        "aliases: [亲属关系证明别名]", "aliases: 亲属关系证明别名")))
    assert errors == ["cancelled.yaml: entry C1: aliases: expected a list, got str",
                      "cancelled.yaml: entry C1: alias: unknown field"]


def test_unknown_kind_and_entry_without_id(tmp_path):
    body = cancelled().replace("kind: cancelled", "kind: cert").replace("id: C1", "id:")
    errors, _ = check(write(tmp_path, cancelled=body))
    assert "cancelled.yaml: entry #1: kind: unknown kind 'cert'; expected one of retained, cancelled, service, duty" \
        in errors
    assert "cancelled.yaml: entry #1: id: missing" in errors


def test_barred_duty_needs_a_decline(tmp_path):
    body = textwrap.dedent("""\
    - id: X1
      kind: duty
      list: barred
      sample: true
      name: 招商引资
      aliases: [协税护税]
      answer: 不做
      basis: 目录
      updated: 2025-01-01
    """)
    errors, _ = check(write(tmp_path, duties=body))
    assert errors == ["duties.yaml: entry X1: decline: missing"]


def test_same_alias_on_two_entries(tmp_path):
    body = cancelled("C1") + cancelled("C2", name="家庭关系证明").replace("[家庭关系证明别名]", "[亲属关系证明]")
    errors, _ = check(write(tmp_path, cancelled=body))
    assert errors == ["cancelled.yaml: entry C2: aliases[1]: '亲属关系证明' is also a name or alias of C1"]


def test_bad_yaml(tmp_path):
    errors, _ = check(write(tmp_path, cancelled="- id: [unclosed\n"))
    assert len(errors) == 1 and errors[0].startswith("cancelled.yaml: not valid YAML")


def test_load_raises_with_every_error(tmp_path):
    write(tmp_path, a=cancelled("C1"), b=cancelled("C1", name="婚姻状况证明"))
    with pytest.raises(CatalogueError) as info:
        load_catalogue(str(tmp_path))
    assert info.value.errors == ["b.yaml: entry C1: id: duplicate id, already used in a.yaml"]


def test_cli_check_ok():
    result = CliRunner().invoke(knowledge, ["check"])
    assert result.exit_code == 0
    assert result.output.startswith("OK: ")


def test_cli_check_trains_every_scorer_into_the_model_cache(tmp_path, monkeypatch):
    """After an edit, ``qingche knowledge check`` leaves the next start nothing to train."""
    from bot.tickets import categories, words
    from knowledge.matcher import default_matcher

    monkeypatch.setenv("QINGCHE_MODEL_CACHE", str(tmp_path))
    for cached in (categories.learned_scorer, words.danger_scorer, words.danger_model, default_matcher):
        cached.cache_clear()
    try:
        result = CliRunner().invoke(knowledge, ["check"])
        assert result.exit_code == 0, result.output
        assert "every scorer trained" in result.output
        kept = sorted(p.name.split("-")[0] for p in tmp_path.glob("*.pickle"))
        assert kept == ["logistic", "naivebayes", "naivebayes", "naivebayes"]   # entries, categories, danger kinds
    finally:
        for cached in (categories.learned_scorer, words.danger_scorer, words.danger_model, default_matcher):
            cached.cache_clear()   # the rest of the suite builds them again from its own cache


def test_cli_check_reports_errors(tmp_path):
    write(tmp_path, cancelled=cancelled(extra="  see: C99\n"))
    result = CliRunner().invoke(knowledge, ["check", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "cancelled.yaml: entry C1: see: unknown reference 'C99'" in result.output
