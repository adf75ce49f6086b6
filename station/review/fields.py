"""The header fields the clerk may correct in the review, and their checks (Decree 30)."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from station.errors import InputError
from station.records.register import day_text, past_day
from station.records.vocabulary import (
    CLOSING_FIELDS,
    FIELDS,
    LIST_FIELDS,
    SECRECY,
    TYPE_NAMES,
    URGENCY,
    fold,
)

#: the fields the clerk may correct, in the order the form shows them (the
#: page count and the language follow from the pages)
EDITABLE = (
    *(name for name in FIELDS if name not in ("PageAmount", "Language")),
    "ArrivalDate",  # Ngày đến: the day scanned unless the clerk says otherwise
)
#: the same fields in the order the form of a sent document (văn bản đi) shows
#: them: its number, date, type and subject, then the signature block and the
#: recipients the Sổ đi takes, then the rest; a sent document has no Ngày đến
SENT_ORDER = (
    "CodeNumber", "CodeNotation", "IssuedDate", "TypeName", "Subject",
    *CLOSING_FIELDS, "Priority", "OrganName",
)  # fmt: skip
#: the part of that form the Sổ đi takes beside the header: who signed, and for whom
SENT_PART = CLOSING_FIELDS


_NOTATION = re.compile(r"^[0-9A-ZĐ][0-9A-ZĐa-zđ./&-]{0,40}$")


#: fields that hold a day, shown and typed as dd/mm/yyyy
DATES = ("IssuedDate", "ArrivalDate")
#: the closed lists the review offers as pickers
TYPE_CHOICES = tuple(sorted(TYPE_NAMES, key=fold))


def as_text(name: str, value: Any) -> str:
    """A field's value as the form shows it: a list one item a line, a day as dd/mm/yyyy."""
    if value is None:
        return ""
    if name in LIST_FIELDS and isinstance(value, list):
        return "\n".join(map(str, value))
    if name in DATES:
        try:
            return day_text(str(value))
        except ValueError:
            return str(value)
    return str(value)


def check_field(name: str, value: str, today: date) -> Any:
    """A field's value as the clerk typed it, checked; empty means unknown (null)."""
    if name in LIST_FIELDS:
        lines = (" ".join(line.split()) for line in value.splitlines())
        items = [item for item in (line.lstrip("-–+• ").rstrip(" ;.") for line in lines) if item]
        if len(items) > 60 or any(len(item) > 300 for item in items):
            raise InputError(
                "at most 60 lines of 300 characters", "tối đa 60 dòng, mỗi dòng 300 ký tự"
            )
        return items or None
    text = " ".join(value.split())
    if not text:
        return None
    if name == "TypeName":
        known = next((t for t in TYPE_NAMES if fold(t) == fold(text)), None)
        if known is None:
            raise InputError(f"not a document type: {text}",
                             f"không phải tên loại văn bản: {text}")  # fmt: skip
        return known
    if name == "CodeNumber":
        if not re.fullmatch(r"\d{1,6}", text):
            raise InputError(
                "the number is digits only, e.g. 07", "số văn bản chỉ gồm chữ số, ví dụ 07"
            )
        return text
    if name == "CodeNotation":
        if not _NOTATION.fullmatch(text):
            raise InputError("a symbol looks like QĐ-VKS", "ký hiệu có dạng QĐ-VKS")
        return text
    if name == "IssuedDate":
        return past_day(text, today, 1945, "the date", "ngày ban hành").isoformat()
    if name == "ArrivalDate":
        return past_day(text, today, 2000, "the date received", "ngày đến").isoformat()
    if name == "Priority":
        given = [m.strip() for m in text.split(",") if m.strip()]
        if not all(m in (*SECRECY, *URGENCY) for m in given):
            raise InputError(
                f"marks are {', '.join((*SECRECY, *URGENCY))}",
                f"độ mật, độ khẩn là {', '.join((*SECRECY, *URGENCY))}",
            )
        return ", ".join(given)
    if len(text) > 1000:
        raise InputError("at most 1000 characters", "tối đa 1000 ký tự")
    return text
