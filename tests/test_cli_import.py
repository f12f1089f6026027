"""``qingche import``: CSV and Excel rosters, row-numbered errors, nothing partial, re-import updates."""
import pytest
from click.testing import CliRunner
from openpyxl import Workbook
from sqlalchemy import func, select

from bot.cli_import import import_group
from bot.db import get_engine, session_scope
from bot.models import Base, Patch, Person
from bot.roster import SAMPLE_DIR

PATCH_HEADER = ["code", "name", "village", "town", "keywords", "lat", "lng", "radius_m"]
PEOPLE_HEADER = ["userid", "name", "role", "patch", "mobile", "kind", "department", "jurisdiction"]


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path}/import.sqlite3"
    Base.metadata.create_all(get_engine(url))
    return url


def _invoke(db, *args):
    return CliRunner().invoke(import_group, list(args), env={"DATABASE_URL": db})


def _xlsx(path, rows):
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    return str(path)


def _count(db, model):
    with session_scope(db) as s:
        return s.scalar(select(func.count()).select_from(model))


def test_sample_csv_imports_then_reimport_updates(db):
    result = _invoke(db, "patches", str(SAMPLE_DIR / "patches.csv"))
    assert result.exit_code == 0, result.output
    assert "新增 6 条" in result.output
    result = _invoke(db, "people", str(SAMPLE_DIR / "people.csv"))
    assert result.exit_code == 0, result.output
    people = _count(db, Person)
    again = _invoke(db, "people", str(SAMPLE_DIR / "people.csv"))
    assert again.exit_code == 0 and "更新" in again.output
    assert _count(db, Person) == people
    assert _count(db, Patch) == 6


def test_bad_excel_reports_row_numbers_and_writes_nothing(db, tmp_path):
    assert _invoke(db, "patches", str(SAMPLE_DIR / "patches.csv")).exit_code == 0
    path = _xlsx(tmp_path / "people.xlsx", [
        PEOPLE_HEADER,
        ["new.wg", "新网格员", "grid_worker", "LG-01", "13800009001", "专职", None, None],
        ["bad.role", "某人", "boss", "LG-01", "13800009002", None, None, None],
        ["no.patch", "某网格员", "grid_worker", "XX-99", "13800009003", "专职", None, None],
        ["bad.cadre", "某干部", "cadre", None, "138-0000-9004", None, None, None],
    ])
    result = _invoke(db, "people", path)
    assert result.exit_code == 1
    err = result.output
    assert "第3行" in err and "role" in err
    assert "第4行" in err and "XX-99" in err
    assert "第5行" in err and "jurisdiction" in err
    assert "第2行" not in err
    assert _count(db, Person) == 0          # the good row 2 was not written either


def test_excel_reimport_updates_instead_of_duplicating(db, tmp_path):
    rows = [PATCH_HEADER, ["T-01", "测试网格", "测试村委会", "测试镇", "测试路;测试桥", 22.3, 112.6, 300]]
    assert _invoke(db, "patches", _xlsx(tmp_path / "p1.xlsx", rows)).exit_code == 0
    rows[1][1] = "测试网格（改名）"
    result = _invoke(db, "patches", _xlsx(tmp_path / "p2.xlsx", rows))
    assert result.exit_code == 0 and "更新 1 条" in result.output
    with session_scope(db) as s:
        [patch] = s.scalars(select(Patch)).all()
        assert (patch.name, patch.radius_m) == ("测试网格（改名）", 300.0)


def test_bad_patch_number_in_excel(db, tmp_path):
    path = _xlsx(tmp_path / "patches.xlsx", [PATCH_HEADER, ["A-1", "甲", "甲村委会", "甲镇", "", "北纬22", 112.6, 100]])
    result = _invoke(db, "patches", path)
    assert result.exit_code == 1 and "第2行" in result.output and "lat" in result.output
    assert _count(db, Patch) == 0


def test_unknown_file_type_is_refused(db, tmp_path):
    path = tmp_path / "people.txt"
    path.write_text("userid\n", encoding="utf-8")
    result = _invoke(db, "people", str(path))
    assert result.exit_code == 1 and ".csv" in result.output
