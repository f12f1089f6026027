"""Import patches and people from CSV or Excel, as a street office keeps them.

All rows are checked first; any bad row is reported by its row number and nothing is
written. Importing again updates existing rows (by ``code`` / ``userid``), never duplicates.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import ROLES, Patch, Person

PATCH_COLUMNS = ("code", "name", "village", "town", "keywords", "lat", "lng", "radius_m")
PATCH_REQUIRED = ("code", "name", "village", "town")
PEOPLE_COLUMNS = ("userid", "name", "role", "patch", "mobile", "kind", "department", "jurisdiction")
PEOPLE_REQUIRED = ("userid", "name", "role")
KINDS = ("专职", "兼职", "专业")
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "knowledge" / "sample"


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0


class RosterError(Exception):
    """Rows that cannot be imported; ``errors`` lists "第N行: ..." messages."""

    def __init__(self, errors: list[str]):
        super().__init__("\n".join(errors))
        self.errors = errors


def read_rows(path: str | Path) -> list[tuple[int, dict]]:
    """Rows of a .csv or .xlsx file as (row number as a spreadsheet shows it, {column: text})."""
    path = Path(path)
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(path, read_only=True, data_only=True)
        except Exception as exc:
            raise RosterError([f"无法读取 Excel 文件 {path.name}: {type(exc).__name__}"]) from None
        ws = wb.worksheets[0]
        rows = [["" if v is None else str(v).strip() for v in row] for row in ws.iter_rows(values_only=True)]
        wb.close()
    elif path.suffix.lower() == ".csv":
        raw = path.read_bytes()
        for enc in ("utf-8-sig", "gb18030"):
            try:
                text = raw.decode(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            raise RosterError([f"{path.name}: 文件编码无法识别（请存为 UTF-8 或 GBK）"])
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text))]
    else:
        raise RosterError([f"{path.name}: 只支持 .csv 或 .xlsx 文件"])
    if not rows:
        raise RosterError([f"{path.name}: 文件是空的"])
    header = [h.strip().lower() for h in rows[0]]
    out = []
    for n, row in enumerate(rows[1:], start=2):
        if not any(row):
            continue
        out.append((n, {header[i]: row[i] if i < len(row) else "" for i in range(len(header)) if header[i]}))
    return out


def _check_header(rows: list[tuple[int, dict]], required: tuple[str, ...]) -> list[str]:
    if not rows:
        return []
    missing = [c for c in required if c not in rows[0][1]]
    return [f"第1行（表头）: 缺少列 {', '.join(missing)}"] if missing else []


def _float(value: str, column: str, n: int, errors: list[str]) -> float | None:
    if not value:
        return None
    try:
        return float(value)
    except ValueError:
        errors.append(f"第{n}行: {column} 应为数字，实际为 {value!r}")
        return None


def _check_row(n: int, row: dict, required: tuple[str, ...], key: str, seen: dict[str, int],
               errors: list[str]) -> str:
    """Report empty required cells and a repeated key in row ``n``; return the row's key."""
    for col in required:
        if not row.get(col):
            errors.append(f"第{n}行: {col} 不能为空")
    value = row.get(key, "")
    if value in seen:
        errors.append(f"第{n}行: {key} {value} 与第{seen[value]}行重复")
    seen[value] = n
    return value


def import_patches(session: Session, rows: list[tuple[int, dict]]) -> ImportResult:
    """Validate every row, then create or update patches by ``code``."""
    errors = _check_header(rows, PATCH_REQUIRED)
    if errors:
        raise RosterError(errors)
    seen: dict[str, int] = {}
    clean = []
    for n, row in rows:
        code = _check_row(n, row, PATCH_REQUIRED, "code", seen, errors)
        lat = _float(row.get("lat", ""), "lat", n, errors)
        lng = _float(row.get("lng", ""), "lng", n, errors)
        radius = _float(row.get("radius_m", ""), "radius_m", n, errors)
        if lat is not None and not -90 <= lat <= 90:
            errors.append(f"第{n}行: lat 超出范围")
        if lng is not None and not -180 <= lng <= 180:
            errors.append(f"第{n}行: lng 超出范围")
        clean.append(dict(code=code, name=row.get("name", ""), village=row.get("village", ""),
                          town=row.get("town", ""), keywords=row.get("keywords", ""),
                          lat=lat, lng=lng, radius_m=radius))
    if errors:
        raise RosterError(errors)
    return _upsert(session, Patch, "code", clean)


def import_people(session: Session, rows: list[tuple[int, dict]]) -> ImportResult:
    """Validate every row (roles, patches, kinds), then create or update people by ``userid``."""
    errors = _check_header(rows, PEOPLE_REQUIRED)
    if errors:
        raise RosterError(errors)
    known_patches = set(session.scalars(select(Patch.code)))
    seen: dict[str, int] = {}
    clean = []
    for n, row in rows:
        userid = _check_row(n, row, PEOPLE_REQUIRED, "userid", seen, errors)
        role = row.get("role", "")
        if role and role not in ROLES:
            errors.append(f"第{n}行: role {role!r} 不是 {', '.join(ROLES)} 之一")
        patch = row.get("patch", "") or None
        if patch and patch not in known_patches:
            errors.append(f"第{n}行: patch {patch} 不存在（请先导入网格）")
        if role in ("grid_worker", "building_head") and not patch:
            errors.append(f"第{n}行: {role} 必须填写 patch")
        kind = row.get("kind", "") or None
        if kind and kind not in KINDS:
            errors.append(f"第{n}行: kind {kind!r} 应为 专职、兼职 或 专业")
        if role == "cadre" and not row.get("jurisdiction"):
            errors.append(f"第{n}行: cadre 必须填写 jurisdiction（村、社区或镇街）")
        if role == "department" and not row.get("department"):
            errors.append(f"第{n}行: department 必须填写 department")
        mobile = row.get("mobile", "") or None
        if mobile and not mobile.replace("-", "").replace(" ", "").isdigit():
            errors.append(f"第{n}行: mobile {mobile!r} 不是电话号码")
        clean.append(dict(userid=userid, name=row.get("name", ""), role=role, patch=patch, mobile=mobile,
                          kind=kind, department=row.get("department", "") or None,
                          jurisdiction=row.get("jurisdiction", "") or None))
    if errors:
        raise RosterError(errors)
    return _upsert(session, Person, "userid", clean)


def _upsert(session: Session, model, key: str, rows: list[dict]) -> ImportResult:
    """Create or update ``model`` rows identified by ``key``; never duplicates."""
    result = ImportResult()
    column = getattr(model, key)
    for values in rows:
        existing = session.scalar(select(model).where(column == values[key]))
        if existing is None:
            session.add(model(**values))
            result.created += 1
        else:
            for k, v in values.items():
                setattr(existing, k, v)
            result.updated += 1
    session.flush()
    return result


def load_sample(session: Session) -> None:
    """Load the sample patches, people and households shipped in ``knowledge/sample`` (demo and tests)."""
    from bot.visits.households import import_households  # the visits package builds on this module

    import_patches(session, read_rows(SAMPLE_DIR / "patches.csv"))
    import_people(session, read_rows(SAMPLE_DIR / "people.csv"))
    import_households(session, read_rows(SAMPLE_DIR / "households.csv"))
