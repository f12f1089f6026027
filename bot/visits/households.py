"""``qingche import households FILE``: the households each grid worker must visit (四必访).

Columns: patch, name, address, kind, phone (optional), note. Like the roster (``bot.roster``):
every row is checked first, any bad row is reported by its row number and nothing is written;
importing again updates a household (by patch, name and address), never duplicates it.
"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.models import Patch
from bot.roster import ImportResult, RosterError, read_rows
from bot.visits import rules
from bot.visits.models import Household

COLUMNS = ("patch", "name", "address", "kind", "phone", "note")
REQUIRED = ("patch", "name", "kind")

__all__ = ["COLUMNS", "import_households", "read_rows"]


def import_households(session: Session, rows: list[tuple[int, dict]]) -> ImportResult:
    """Validate every row (patch, kind, phone), then create or update households."""
    errors: list[str] = []
    if rows:
        missing = [c for c in REQUIRED if c not in rows[0][1]]
        if missing:
            raise RosterError([f"第1行（表头）: 缺少列 {', '.join(missing)}"])
    known = set(session.scalars(select(Patch.code)))
    kinds = rules.load()
    names = "、".join(k.name for k in kinds.kinds.values())
    seen: dict[tuple, int] = {}
    clean = []
    for n, row in rows:
        for col in REQUIRED:
            if not row.get(col):
                errors.append(f"第{n}行: {col} 不能为空")
        patch, name, address = row.get("patch", ""), row.get("name", ""), row.get("address", "")
        if patch and patch not in known:
            errors.append(f"第{n}行: patch {patch} 不存在（请先导入网格）")
        kind = kinds.kind_of(row.get("kind", ""))
        if row.get("kind") and kind is None:
            errors.append(f"第{n}行: kind {row['kind']!r} 应为 {names} 之一")
        phone = row.get("phone", "") or None
        if phone and not phone.replace("-", "").replace(" ", "").isdigit():
            errors.append(f"第{n}行: phone {phone!r} 不是电话号码")
        key = (patch, name, address)
        if key in seen:
            errors.append(f"第{n}行: 与第{seen[key]}行是同一户（网格、姓名、地址都相同）")
        seen[key] = n
        clean.append(dict(patch_code=patch, name=name, address=address, kind=kind.id if kind else "",
                          phone=phone, note=row.get("note", "")))
    if errors:
        raise RosterError(errors)
    result = ImportResult()
    for values in clean:
        existing = session.scalar(select(Household).where(Household.patch_code == values["patch_code"],
                                                          Household.name == values["name"],
                                                          Household.address == values["address"]))
        if existing is None:
            session.add(Household(**values))
            result.created += 1
        else:
            for k, v in values.items():
                setattr(existing, k, v)
            result.updated += 1
    session.flush()
    return result
