"""An application's fields and materials, read from the catalogue entry's ``application`` block, and
the checks that can be made at once: an ID-card number's checksum (GB 11643) and birth date, dates in
the past, a name that looks like one, a choice among the options."""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from knowledge.catalogue import Item, load_catalogue

# GB 11643-1999: the check digit is ISO 7064 MOD 11-2 over the first 17 digits.
ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
PROVINCES = {"11", "12", "13", "14", "15", "21", "22", "23", "31", "32", "33", "34", "35", "36", "37", "41",
             "42", "43", "44", "45", "46", "50", "51", "52", "53", "54", "61", "62", "63", "64", "65", "71",
             "81", "82", "91"}
NAME = re.compile(r"[\u4e00-\u9fff·]{2,20}|[A-Za-z][A-Za-z .'-]{1,40}")
NOT_NAMES = {"没有", "不知道", "不清楚", "确认", "确定", "取消", "好的", "是的", "可以", "不用", "跳过", "本人", "我自己"}


@dataclass(frozen=True)
class Field:
    key: str
    label: str
    kind: str
    choices: tuple[str, ...] = ()
    required: bool = True


@dataclass(frozen=True)
class Material:
    key: str
    label: str
    required: bool


@dataclass(frozen=True)
class Form:
    """What one certificate's application asks for."""

    entry: Item
    fields: tuple[Field, ...]
    materials: tuple[Material, ...]
    verify_by_grid_worker: bool
    days: int
    collect: str


def form_for(entry: Item | str | None) -> Form | None:
    """The application form of a retained entry, or None when it cannot be applied for in chat."""
    if isinstance(entry, str):
        entry = load_catalogue().items.get(entry)
    if entry is None or entry.kind != "retained" or not entry.get("application"):
        return None
    block = entry.get("application")
    return Form(
        entry=entry,
        fields=tuple(Field(f["key"], f["label"], f["kind"], tuple(f.get("choices") or ()), f.get("required", True))
                     for f in block["fields"]),
        materials=tuple(Material(m["key"], m["label"], m.get("required", True)) for m in block.get("materials") or ()),
        verify_by_grid_worker=bool(block.get("verify_by_grid_worker")),
        days=int(block["days"]),
        collect=block["collect"],
    )


class Invalid(ValueError):
    """A value that cannot be right; ``key`` names the text that says why (applications.bad_<key>)."""

    def __init__(self, key: str, **fields):
        super().__init__(key)
        self.key = key
        self.fields = fields


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text or "").strip()


def id_check_digit(first17: str) -> str:
    """The GB 11643 check digit for the first 17 digits."""
    return ID_CHECK[sum(int(d) * w for d, w in zip(first17, ID_WEIGHTS, strict=True)) % 11]


def check_id_number(text: str, today: date) -> str:
    """An 18-character ID-card number, upper-case X; raise ``Invalid`` saying what is wrong."""
    value = re.sub(r"[\s-]", "", _fold(text)).upper()
    if re.fullmatch(r"\d{15}", value):
        raise Invalid("id_old")
    if not re.fullmatch(r"\d{17}[\dX]", value):
        raise Invalid("id_length")
    if value[:2] not in PROVINCES:
        raise Invalid("id_region")
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        raise Invalid("id_birth") from None
    if born > today or born.year < 1900:
        raise Invalid("id_birth")
    if id_check_digit(value[:17]) != value[17]:
        raise Invalid("id_checksum")
    return value


DATE = re.compile(r"(\d{4})\s*[年./-]\s*(\d{1,2})(?:\s*[月./-]\s*(\d{1,2})\s*[日号]?)?\s*月?\s*(?:起|开始)?")


def parse_date(text: str) -> tuple[date, bool]:
    """(date, whether a day was given) from 2023-09-01, 2023年9月1日, 2023.9, 2023年9月 …"""
    value = _fold(text)
    m = DATE.fullmatch(value) or DATE.search(value)
    if not m:
        raise Invalid("date")
    year, month, day = int(m.group(1)), int(m.group(2)), m.group(3)
    try:
        return date(year, month, int(day) if day else 1), day is not None
    except ValueError:
        raise Invalid("date") from None


def fmt_date(day: date, with_day: bool = True) -> str:
    """2023年9月1日, or 2023年9月."""
    return f"{day.year}年{day.month}月{day.day}日" if with_day else f"{day.year}年{day.month}月"


def clean(field: Field, text: str, today: date) -> str:
    """The stored form of an answer, or raise ``Invalid``."""
    value = _fold(text)
    if not value:
        raise Invalid("empty")
    if field.kind == "id_number":
        return check_id_number(value, today)
    if field.kind == "name":
        value = re.sub(r"\s+", "", value) if re.search(r"[\u4e00-\u9fff]", value) else value
        if not NAME.fullmatch(value) or value in NOT_NAMES:
            raise Invalid("name")
        return value
    if field.kind in ("date", "past_date"):
        day, with_day = parse_date(value)
        if day.year < 1900 or (field.kind == "past_date" and day > today):
            raise Invalid("future")
        return fmt_date(day, with_day)
    if field.kind == "choice":
        if value.isdigit() and 1 <= int(value) <= len(field.choices):
            return field.choices[int(value) - 1]
        for choice in field.choices:
            if choice == value or choice in value:
                return choice
        raise Invalid("choice", choices=choice_list(field))
    if field.kind == "address":
        if len(value) < 4:
            raise Invalid("address")
        return value[:200]
    return value[:300]


def choice_list(field: Field) -> str:
    """1. 居住  2. 租住"""
    return "  ".join(f"{n}. {c}" for n, c in enumerate(field.choices, 1))
