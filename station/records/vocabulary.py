"""The Decree 30 vocabulary and the rules of its values: type names and their
abbreviations, secrecy and urgency marks, the metadata field names, and the forms of
"Số: 45/QĐ-VKS" and of a date (docs/decree30.md#header). Pure: no image, no OCR."""

from __future__ import annotations

import re
import unicodedata
from datetime import date
from difflib import SequenceMatcher

TYPES: dict[str, str] = {
    "NQ": "Nghị quyết",
    "QĐ": "Quyết định",
    "CT": "Chỉ thị",
    "QC": "Quy chế",
    "QyĐ": "Quy định",
    "TC": "Thông cáo",
    "TB": "Thông báo",
    "HD": "Hướng dẫn",
    "CTr": "Chương trình",
    "KH": "Kế hoạch",
    "PA": "Phương án",
    "ĐA": "Đề án",
    "DA": "Dự án",
    "BC": "Báo cáo",
    "BB": "Biên bản",
    "TTr": "Tờ trình",
    "HĐ": "Hợp đồng",
    "CĐ": "Công điện",
    "BGN": "Bản ghi nhớ",
    "BTT": "Bản thỏa thuận",
    "GUQ": "Giấy ủy quyền",
    "GM": "Giấy mời",
    "GGT": "Giấy giới thiệu",
    "GNP": "Giấy nghỉ phép",
    "PG": "Phiếu gửi",
    "PC": "Phiếu chuyển",
    "PB": "Phiếu báo",
    "SY": "Bản sao y",
    "TrS": "Bản trích sao",
    "SL": "Bản sao lục",
}
CONG_VAN = "Công văn"
#: secrecy marks, then urgency marks, most specific first
SECRECY = ("Tuyệt mật", "Tối mật", "Mật")
URGENCY = ("Hỏa tốc", "Thượng khẩn", "Khẩn")
FIELDS = (
    "TypeName",
    "CodeNumber",
    "CodeNotation",
    "IssuedDate",
    "OrganName",
    "Subject",
    "PageAmount",
    "Language",
    "Priority",
)


_LOOKALIKES = str.maketrans({"Ð": "Đ", "ð": "đ", "\u2044": "/", "\u2215": "/"})


def clean(text: str) -> str:
    """Characters Tesseract reads for Vietnamese print: Icelandic eth for Đ,
    a fraction or division slash for "/"."""
    return nfc(text.translate(_LOOKALIKES))


def nfc(value: str) -> str:
    """Unicode NFC: TCVN 6909:2001 text, one code point per marked letter where one exists."""
    return unicodedata.normalize("NFC", value)


def fold(text: str) -> str:
    """Upper case without tone or vowel marks, for tolerant comparisons."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", re.sub(r"[^0-9A-Za-z/ -]", " ", bare)).strip().upper()


_NUMBER = re.compile(
    r"^S\S{0,2}\s*[:;.,]?\s*(?P<number>[0-9OoIl]{1,4})\s*(?:[/|]|(?<=\d)[lI1](?=[A-Z]))\s*"
    r"(?P<symbol>[A-Za-zĐđ][A-Za-zĐđ0-9 .\-–—/]*)$"
)
_DATE = re.compile(
    r"NGAY\s*(?P<day>[0-9OIl]{1,2})\s*THANG\s*(?P<month>[0-9OIl]{1,2})\s*NAM\s*(?P<year>[0-9OIl]{4})"
)
_ABBREVIATIONS = {fold(k): k for k in TYPES}


def _digits(text: str) -> str:
    return text.translate(str.maketrans("OoIl", "0011"))


def similar(a: str, b: str) -> float:
    return SequenceMatcher(None, fold(a), fold(b)).ratio()


def parse_number(text: str) -> tuple[str, str] | None:
    """("45", "QĐ-VKS") from "Số: 45/QĐ-VKS", checked against the symbol rules."""
    match = _NUMBER.match(clean(text).strip())
    if not match:
        return None
    number = _digits(match["number"])
    if not number.isdigit() or int(number) == 0 or (int(number) < 10 and len(number) != 2):
        return None
    symbol = re.sub(r"\s*[–—-]\s*", "-", match["symbol"]).strip(" .")
    parts = symbol.split("-")
    if not 2 <= len(parts) <= 4:
        return None
    parts[0] = _type_part(parts[0]) or parts[0]
    for index, part in enumerate(parts):
        if part in TYPES and index == 0:
            continue
        if not re.fullmatch(r"[A-ZĐ][A-ZĐ0-9]{0,11}", part):
            return None
    return number, "-".join(parts)


def _type_part(part: str) -> str | None:
    """The abbreviation as printed: exact, or the one table entry it folds to
    when the reading lost a mark ("QD" for "QĐ") and is no entry itself."""
    if part in TYPES:
        return part
    candidates = [k for k in TYPES if fold(k) == fold(part)]
    return candidates[0] if len(candidates) == 1 else None


def parse_date(text: str, latest: date) -> date | None:
    match = _DATE.search(fold(text))
    if not match:
        return None
    try:
        value = date(*(int(_digits(match[k])) for k in ("year", "month", "day")))
    except ValueError:
        return None
    return value if date(1945, 9, 2) <= value <= latest else None


def type_name_of(text: str) -> str | None:
    """The canonical type name for a printed title, or None."""
    names = set(TYPES.values())
    best = max(names, key=lambda name: similar(text, name))
    score = similar(text, best)
    runner_up = max((similar(text, n) for n in names if n != best), default=0.0)
    return best if score >= 0.85 and score - runner_up >= 0.1 else None


def priority_of(marks: list[str]) -> str | None:
    """Secrecy then urgency, as printed marks: "Mật", "Khẩn", "Mật, Hỏa tốc"."""
    folded = [fold(m) for m in marks]
    found = [
        next((name for name in group if fold(name) in folded), None) for group in (SECRECY, URGENCY)
    ]
    kept = [name for name in found if name]
    return ", ".join(kept) if kept else None
