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
#: legal normative documents (the Law on Promulgation of Legal Documents), which
#: reach the office too; their symbol carries the year: "45/2026/NĐ-CP"
LEGAL_TYPES: dict[str, str] = {
    "NĐ": "Nghị định",
    "TT": "Thông tư",
    "TTLT": "Thông tư liên tịch",
    "NQ": "Nghị quyết",
    "QĐ": "Quyết định",
}
#: secrecy marks, then urgency marks, most specific first
#: every type name a document may carry
TYPE_NAMES = frozenset(TYPES.values()) | frozenset(LEGAL_TYPES.values()) | {CONG_VAN}
SECRECY = ("Tuyệt mật", "Tối mật", "Mật")
URGENCY = ("Hỏa tốc", "Thượng khẩn", "Khẩn")
#: read from the header of page 1
HEADER_FIELDS = (
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
#: read from "Kính gửi" on page 1 and the closing of the last page (Phụ lục VI
#: SignerInfo: competence, position, full name; ToPlaces); lists of text
CLOSING_FIELDS = ("SignerCompetence", "SignerPosition", "SignerName", "ToPlaces", "Addressees")
LIST_FIELDS = frozenset({"ToPlaces", "Addressees"})
#: the closing fields read on the document's last page; every other field is read on page 1
LAST_PAGE_FIELDS = frozenset({"SignerCompetence", "SignerPosition", "SignerName", "ToPlaces"})
FIELDS = HEADER_FIELDS + CLOSING_FIELDS


_LOOKALIKES = str.maketrans({"Ð": "Đ", "ð": "đ", "\u2044": "/", "\u2215": "/"})


def clean(text: str) -> str:
    """Characters Tesseract reads for Vietnamese print: Icelandic eth for Đ,
    a fraction or division slash for "/"."""
    return nfc(text.translate(_LOOKALIKES))


def nfc(value: str) -> str:
    """Unicode NFC: TCVN 6909:2001 text, one code point per marked letter where one exists."""
    return unicodedata.normalize("NFC", value)


#: why the reader left a header field empty or in doubt (Vietnamese, English)
READING_CODES = {
    "handwritten": ("viết tay", "written by hand"),
    "marks_disagree": ("các lần đọc khác nhau về dấu", "the readings disagree on a mark"),
    "misread": ("đọc ra chữ không có trong tiếng Việt", "not a Vietnamese word as read"),
    "by_dictionary": (
        "dấu đã chọn theo từ điển, cần xem lại",
        "a mark chosen by the dictionary: check it",
    ),
    "disagree": (
        "dòng và ô số đọc ra khác nhau",
        "the line and its filled-in digits read differently",
    ),
}
#: the five tone marks (huyền, sắc, ngã, hỏi, nặng) as combining characters
TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")


def tones(word: str) -> str:
    """The tone marks a word carries, in order ("" for thanh ngang)."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if c in TONES)


def untoned(word: str) -> str:
    """The word without its tone marks, its vowel marks kept ("Quảng" → "Quang", "Ủy" → "Uy")."""
    kept = "".join(c for c in unicodedata.normalize("NFD", word) if c not in TONES)
    return unicodedata.normalize("NFC", kept)


#: the shape of a Vietnamese syllable, folded: onset, one to three vowels, coda
SYLLABLE = re.compile(
    r"(?:NGH|NG|NH|CH|GH|GI|KH|PH|QU|TH|TR|[BCDGHKLMNPRSTVX])?"
    r"[AEIOUY]{1,3}(?:NG|NH|CH|[CMNPT])?"
)


def misread_syllable(word: str) -> bool:
    """A word with Vietnamese marks that is no Vietnamese syllable: two tone
    marks ("Quáảng"), or syllables run together ("BANNHÂNDÂN")."""
    if len(tones(word)) > 1:
        return True
    decomposed = unicodedata.normalize("NFD", word)
    marked = word.isalpha() and any(unicodedata.combining(c) for c in decomposed)
    return marked and not SYLLABLE.fullmatch(fold(word))


def fold(text: str) -> str:
    """Upper case without tone or vowel marks, for tolerant comparisons."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", re.sub(r"[^0-9A-Za-z/ -]", " ", bare)).strip().upper()


_NUMBER = re.compile(
    r"^S\S{0,2}\s*[:;.,]?\s*(?P<number>[0-9OoIl]{1,4})\s*(?:[/|]|(?<=\d)[lI1](?=[A-Z]))\s*"
    r"(?:(?P<year>(?:19|20)\d\d)\s*/\s*)?(?P<symbol>[A-Za-zĐđ][A-Za-zĐđ0-9 .\-–—/]*)$"
)
_DATE = re.compile(
    r"NGAY\s*(?P<day>[0-9OIl]{1,2})\s*THANG\s*(?P<month>[0-9OIl]{1,2})\s*NAM\s*(?P<year>[0-9OIl]{4})"
)
#: the date line whatever stands for its day (read apart, from its slot)
_DATE_ANY_DAY = re.compile(
    r"NGAY\s*\S{0,3}?\s*THANG\s*(?P<month>[0-9OIl]{1,2})\s*NAM\s*(?P<year>[0-9OIl]{4})"
)
_ABBREVIATIONS = {fold(k): k for k in TYPES}


def _digits(text: str) -> str:
    return text.translate(str.maketrans("OoIl", "0011"))


def similar(a: str, b: str) -> float:
    return SequenceMatcher(None, fold(a), fold(b)).ratio()


def is_number(digits: str) -> bool:
    """Whether digits can be a document's number: Decree 30 writes those under
    10 with two digits ("05")."""
    return digits.isdigit() and int(digits) > 0 and (int(digits) >= 10 or len(digits) == 2)


def parse_number(text: str) -> tuple[str, str] | None:
    """("45", "QĐ-VKS") from "Số: 45/QĐ-VKS", checked against the symbol rules."""
    match = _NUMBER.match(clean(text).strip())
    if not match:
        return None
    number = _digits(match["number"])
    if not is_number(number):
        return None
    symbol = _symbol(match["symbol"], match["year"])
    return (number, symbol) if symbol else None


_SYMBOL = re.compile(
    r"[/|]\s*(?:(?P<year>(?:19|20)\d\d)\s*/\s*)?(?P<symbol>[A-Za-zĐđ][A-Za-zĐđ0-9 .\-–—/]*)$"
)


def parse_symbol(text: str) -> str | None:
    """The symbol of a "Số:" line whose number cannot be read (written by hand):
    "Số: ✍ /TTr-UBND" → "TTr-UBND", checked against the same rules."""
    match = _SYMBOL.search(clean(text).strip())
    return _symbol(match["symbol"], match["year"]) if match else None


def _symbol(printed: str, year: str | None) -> str | None:
    """The symbol's 2-4 parts of capitals, joined by dashes or, as older
    documents print them, by slashes ("UB/TP")."""
    symbol = re.sub(r"\s*[–—-]\s*", "-", printed).strip(" .")
    symbol = re.sub(r"\s*/\s*", "/", symbol)
    joins = re.findall(r"[-/]", symbol)
    parts = re.split(r"[-/]", symbol)
    if not 2 <= len(parts) <= 4 or (year and "/" in joins):
        return None
    table = LEGAL_TYPES if year else TYPES
    parts[0] = _type_part(parts[0], table) or parts[0]
    for index, part in enumerate(parts):
        if part in table and index == 0:
            continue
        if not re.fullmatch(r"[A-ZĐ][A-ZĐ0-9]{0,11}", part):
            return None
    symbol = parts[0] + "".join(join + part for join, part in zip(joins, parts[1:], strict=True))
    # a legal normative document carries its year: "Số: 45/2026/NĐ-CP"
    return f"{year}/{symbol}" if year else symbol


def type_of_symbol(notation: str) -> str | None:
    """The type name a symbol's first part stands for ("QĐ-VKS" → Quyết định,
    "2026/NĐ-CP" → Nghị định), or None."""
    year = re.match(r"((?:19|20)\d\d)/", notation)
    table = LEGAL_TYPES if year else TYPES
    symbol = notation[year.end() :] if year else notation
    return table.get(re.split(r"[-/]", symbol)[0])


def _type_part(part: str, table: dict[str, str]) -> str | None:
    """The abbreviation as printed: exact, or the one table entry it folds to
    when the reading lost a mark ("QD" for "QĐ") and is no entry itself."""
    if part in table:
        return part
    candidates = [k for k in table if fold(k) == fold(part)]
    return candidates[0] if len(candidates) == 1 else None


def parse_date(text: str, latest: date, day: int | None = None) -> date | None:
    """The date of a "…, ngày 05 tháng 3 năm 2025" line; with ``day``, that day
    and the line's month and year, whatever the line reads as its day."""
    match = (_DATE if day is None else _DATE_ANY_DAY).search(fold(text))
    if not match:
        return None
    try:
        year, month = (int(_digits(match[k])) for k in ("year", "month"))
        value = date(year, month, day if day is not None else int(_digits(match["day"])))
    except ValueError:
        return None
    return value if date(1945, 9, 2) <= value <= latest else None


def type_name_of(text: str) -> str | None:
    """The canonical type name for a printed title, or None."""
    names = TYPE_NAMES - {CONG_VAN}
    best = max(names, key=lambda name: similar(text, name))
    score = similar(text, best)
    runner_up = max((similar(text, n) for n in names if n != best), default=0.0)
    return best if score >= 0.85 and score - runner_up >= 0.1 else None


def priority_marks(value: object) -> tuple[str, str]:
    """(secrecy, urgency) of a Priority value: "Mật, Hỏa tốc" → ("Mật", "Hỏa tốc"), "" for none."""
    found = [m.strip() for m in str(value or "").split(",")]
    return (
        next((m for m in found if m in SECRECY), ""),
        next((m for m in found if m in URGENCY), ""),
    )


def priority_of(marks: list[str]) -> str | None:
    """Secrecy then urgency, as printed marks: "Mật", "Khẩn", "Mật, Hỏa tốc"."""
    folded = [fold(m) for m in marks]
    found = [
        next((name for name in group if fold(name) in folded), None) for group in (SECRECY, URGENCY)
    ]
    kept = [name for name in found if name]
    return ", ".join(kept) if kept else None
