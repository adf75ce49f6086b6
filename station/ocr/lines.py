"""Lines of print from the words of a text layer, and repairs of what OCR does to
Vietnamese: lost marks on known agency names, broken spacing."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Protocol

import numpy as np

from station.imaging.arrays import Pixels
from station.ocr.pdf import Word
from station.ocr.tesseract import TEXT, Mode, words
from station.records.vocabulary import clean, fold, nfc, tones, untoned

MOTTO = "CONG HOA XA HOI CHU NGHIA VIET NAM"
#: words that open a place name in an agency's name ("tỉnh Thanh Hóa")
#: (the special zones, "đặc khu", are units of the two-tier local government since 1 July 2025)
PLACE_UNITS = (
    "thành phố", "thị xã", "thị trấn", "tỉnh", "huyện", "quận", "xã", "phường", "đặc khu",
)  # fmt: skip
#: what an agency's name opens with: its kind (Phụ lục I: the issuing agency's
#: full name, which starts with what it is)
AGENCY_KINDS = (
    "viện kiểm sát", "tòa án", "ủy ban", "hội đồng", "văn phòng", "công an", "thanh tra",
    "kho bạc", "bảo hiểm", "chính phủ", "quốc hội", "tổng cục", "chi cục", "cục", "sở", "bộ",
    "vụ", "ban", "phòng", "trung tâm", "trường", "bệnh viện", "học viện", "đại học", "viện",
    "tỉnh ủy", "thành ủy", "huyện ủy", "đảng ủy", "đảng bộ", "mặt trận", "liên đoàn", "hội",
    "đoàn", "công ty", "tổng công ty", "ngân hàng", "cơ quan", "bộ chỉ huy", "bộ tư lệnh",
    "ubnd", "hđnd", "vksnd", "tand",
    # the provincial civil-judgment enforcement offices since 1 July 2025 ("Thi
    # hành án dân sự tỉnh X", the Cục of before)
    "thi hành án",
)  # fmt: skip
#: agency kinds whose next word (the field) is capitalised: "Sở Tư pháp", "Cục Thi hành án"
FIELD_KINDS = ("tổng cục", "chi cục", "bộ", "sở", "cục", "vụ", "ban", "phòng")


#: Names that recur in agency blocks, with their marks: a reading that lost a
#: mark on one of them ("CUC THI HANH AN") is restored from here. Provinces are
#: the provinces below.
_AGENCY_PHRASES: tuple[str, ...] = (
    "VIỆN KIỂM SÁT NHÂN DÂN", "TÒA ÁN NHÂN DÂN", "ỦY BAN NHÂN DÂN", "HỘI ĐỒNG NHÂN DÂN",
    "THI HÀNH ÁN DÂN SỰ", "TỐI CAO", "CẤP CAO", "CÔNG AN", "THANH TRA", "VĂN PHÒNG",
    "KHO BẠC NHÀ NƯỚC", "BẢO HIỂM XÃ HỘI", "CỤC THUẾ", "CHI CỤC", "TỔNG CỤC", "CỤC", "SỞ", "BỘ",
    "TƯ PHÁP", "NỘI VỤ", "TÀI CHÍNH", "GIÁO DỤC VÀ ĐÀO TẠO", "Y TẾ", "XÂY DỰNG", "CÔNG THƯƠNG",
    "KẾ HOẠCH VÀ ĐẦU TƯ", "TÀI NGUYÊN VÀ MÔI TRƯỜNG", "NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN",
    "NÔNG NGHIỆP VÀ MÔI TRƯỜNG", "LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", "VĂN HÓA, THỂ THAO VÀ DU LỊCH",
    "GIAO THÔNG VẬN TẢI", "THÔNG TIN VÀ TRUYỀN THÔNG", "KHOA HỌC VÀ CÔNG NGHỆ", "QUỐC PHÒNG",
    "THÀNH PHỐ", "THỊ XÃ", "THỊ TRẤN", "TỈNH", "HUYỆN", "QUẬN", "PHƯỜNG", "ĐẶC KHU",
    # the regional procuracies and courts since 1 July 2025 ("… KHU VỰC 3")
    "KHU VỰC",
    # positions in signature blocks ("KT. CHỦ TỊCH / PHÓ CHỦ TỊCH")
    "PHÓ CHỦ TỊCH", "CHỦ TỊCH", "PHÓ VIỆN TRƯỞNG", "VIỆN TRƯỞNG", "PHÓ CHÁNH VĂN PHÒNG",
    "CHÁNH VĂN PHÒNG", "PHÓ GIÁM ĐỐC", "GIÁM ĐỐC", "CỤC TRƯỞNG", "CHÁNH ÁN", "BỘ TRƯỞNG",
    "THỨ TRƯỞNG", "TRƯỞNG BAN", "TRƯỞNG PHÒNG", "CHÁNH THANH TRA",
)  # fmt: skip
#: the provinces and centrally-run cities: the 63 of the 2008-2025 map, which
#: include the 34 kept by the 2025 merger
PROVINCES = (
    "AN GIANG", "BÀ RỊA - VŨNG TÀU", "BẮC GIANG", "BẮC KẠN", "BẠC LIÊU", "BẮC NINH", "BẾN TRE",
    "BÌNH ĐỊNH", "BÌNH DƯƠNG", "BÌNH PHƯỚC", "BÌNH THUẬN", "CÀ MAU", "CAO BẰNG", "CẦN THƠ",
    "ĐÀ NẴNG", "ĐẮK LẮK", "ĐẮK NÔNG", "ĐIỆN BIÊN", "ĐỒNG NAI", "ĐỒNG THÁP", "GIA LAI", "HÀ GIANG",
    "HÀ NAM", "HÀ NỘI", "HÀ TĨNH", "HẢI DƯƠNG", "HẢI PHÒNG", "HẬU GIANG", "HÒA BÌNH", "HƯNG YÊN",
    "KHÁNH HÒA", "KIÊN GIANG", "KON TUM", "LAI CHÂU", "LÂM ĐỒNG", "LẠNG SƠN", "LÀO CAI", "LONG AN",
    "NAM ĐỊNH", "NGHỆ AN", "NINH BÌNH", "NINH THUẬN", "PHÚ THỌ", "PHÚ YÊN", "QUẢNG BÌNH",
    "QUẢNG NAM", "QUẢNG NGÃI", "QUẢNG NINH", "QUẢNG TRỊ", "SÓC TRĂNG", "SƠN LA", "TÂY NINH",
    "THÁI BÌNH", "THÁI NGUYÊN", "THANH HÓA", "THỪA THIÊN HUẾ", "HUẾ", "TIỀN GIANG",
    "HỒ CHÍ MINH", "TRÀ VINH", "TUYÊN QUANG", "VĨNH LONG", "VĨNH PHÚC", "YÊN BÁI",
)  # fmt: skip
_AGENCY_PHRASES += PROVINCES


_PROVINCE_WORDS = tuple(tuple(fold(p).replace("-", " ").split()) for p in PROVINCES)
_PHRASES = sorted(
    (tuple(p.replace(",", "").split()) for p in _AGENCY_PHRASES),
    key=len,
    reverse=True,
)


#: every word of the known phrases, as printed in capitals
KNOWN_WORDS = frozenset(word for phrase in _PHRASES for word in phrase)
_KNOWN_FOLDED = frozenset(fold(word) for word in KNOWN_WORDS)


def respace(read: str, layer: list[str]) -> str:
    """``read`` with the word breaks of ``layer`` when both spell the same letters
    and only the spaces differ (a second reading can run words together)."""
    letters = [c for c in read if not c.isspace()]
    if [fold(c) for c in letters] != [fold(c) for c in "".join(layer)] or len(read.split()) == len(
        layer
    ):
        return read
    out, index = [], 0
    for word in layer:
        out.append("".join(letters[index : index + len(word)]))
        index += len(word)
    return " ".join(out)


def restore_marks(words: list[str]) -> list[str]:
    """Upper-case words with the marks of any known agency phrase they spell."""
    out = list(words)
    folded = [fold(w) for w in words]
    index = 0
    while index < len(out):
        for phrase in _PHRASES:
            size = len(phrase)
            if folded[index : index + size] == [fold(w) for w in phrase]:
                read = zip(words[index : index + size], phrase, strict=True)
                out[index : index + size] = [_spelt(w, known) for w, known in read]
                index += size - 1
                break
        index += 1
    return out


def inside_phrases(words: list[str]) -> set[int]:
    """The positions of ``words`` past the first word of a known phrase that
    does not open with a place unit: "XÃ" in "BẢO HIỂM XÃ HỘI" is a word of
    the phrase, not a commune."""
    folded = [fold(w) for w in words]
    units = {fold(u.upper()) for u in PLACE_UNITS}
    inside: set[int] = set()
    for index in range(len(words)):
        for phrase in _PHRASES:
            size = len(phrase)
            known = [fold(w) for w in phrase]
            opens = known[0] in units or " ".join(known[:2]) in units
            if size > 1 and not opens and folded[index : index + size] == known:
                inside.update(range(index + 1, index + size))
                break
    return inside


def split_known(words: list[str]) -> list[str]:
    """Words run together ("BANNHÂNDÂN") split where their letters spell known
    words of an agency's name in a row ("BAN NHÂN DÂN"), keeping the letters
    as read."""
    out: list[str] = []
    for word in words:
        letters = fold(word).replace(" ", "")
        parts = None if fold(word) in _KNOWN_FOLDED else _known_run(letters)
        if parts is None or len(parts) < 2:
            out.append(word)
            continue
        chars = [c for c in unicodedata.normalize("NFC", word) if not c.isspace()]
        at = 0
        for part in parts:
            out.append("".join(chars[at : at + len(part)]))
            at += len(part)
    return out


def _known_run(letters: str) -> list[str] | None:
    """``letters`` as consecutive words of one known phrase, if they are."""
    for phrase in _PHRASES:
        folded = [fold(w) for w in phrase]
        for start in range(len(folded)):
            run: list[str] = []
            for part in folded[start:]:
                run.append(part)
                joined = "".join(run)
                if joined == letters:
                    return run
                if not letters.startswith(joined):
                    break
    return None


def known_only(words: list[str]) -> list[str] | None:
    """``words`` with the marks of the known phrases they spell, when every
    one of them is a word of one (the text layer's "TINH QUANG NGAI" is
    "TỈNH QUẢNG NGÃI"); None when one is not."""
    restored = restore_marks(split_known(words))
    if not restored or any(fold(w) not in _KNOWN_FOLDED for w in restored):
        return None
    return restored


def from_its_kind(words: list[str]) -> list[str]:
    """An agency's name from the word its kind opens with: a line above it
    taken in by mistake (the end of the superior agency's name, "THANH HÓA")
    is left out. A name with no known kind is kept whole. When the superior's
    whole name was taken in ("UBND TỈNH NINH BÌNH SỞ NỘI VỤ"), the issuing
    agency is the name that opens after the province (Phụ lục I: the superior
    stands above, the issuing agency right above the number)."""
    kinds = [k.split() for k in AGENCY_KINDS]

    def same(word: str, known: str) -> bool:
        # as spelt; or without marks when the reading lost them ("UY BAN")
        bare = fold(word) == word.upper()
        key = (untoned(word).lower(), tones(word))  # "UỶ" and "ỦY" alike
        return key == (untoned(known), tones(known)) or (bare and fold(word) == fold(known))

    def opens(start: int) -> bool:
        return any(
            len(words[start : start + len(kind)]) == len(kind)
            and all(map(same, words[start : start + len(kind)], kind))
            for kind in kinds
        )

    starts = [start for start in range(len(words)) if opens(start)]
    if not starts:
        return words
    after = [start for start in starts if start > starts[0] and _after_province(words[:start])]
    return words[after[-1] :] if after else words[starts[0] :]


#: the words that name a province's unit before its name ("TỈNH THANH HÓA")
_PROVINCE_UNITS = (("TINH",), ("TP",), ("THANH", "PHO"))


def _before_province(words: list[str]) -> list[tuple[str, ...]]:
    """The folded words before each province's whole name that ends ``words``
    ("THỪA THIÊN HUẾ" and "HUẾ" both end "TỈNH THỪA THIÊN HUẾ")."""
    folded = tuple(f for f in (fold(w).strip("-") for w in words) if f)
    return [
        folded[: -len(province)]
        for province in _PROVINCE_WORDS
        if folded[-len(province) :] == province
    ]


def _after_province(words: list[str]) -> bool:
    """Whether ``words`` end with "tỉnh" or "thành phố" and a province's whole name."""
    return any(
        before[-len(unit) :] == unit and len(before) >= len(unit)
        for before in _before_province(words)
        for unit in _PROVINCE_UNITS
    )


def only_a_place(words: list[str]) -> bool:
    """Whether ``words`` name a province and nothing else ("THANH HÓA", "TỈNH
    THANH HÓA"): a place alone names no agency, so such a reading is the end of
    an agency's name whose first line was lost."""
    return any(before in ((), *_PROVINCE_UNITS) for before in _before_province(words))


def _spelt(read: str, known: str) -> str:
    """The known spelling, unless the word was read with the same tone on
    another vowel: the old placement ("UỶ", "HOÀ") is kept as printed."""
    same = untoned(read).upper() == untoned(known).upper() and tones(read) == tones(known)
    return read.upper() if same and tones(read) else known


@dataclass(frozen=True)
class Line:
    """Words on one visual line that sit together (a gap of more than a few
    millimetres starts another line: the agency block and the motto share rows)."""

    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return clean(" ".join(w.text for w in self.words))

    @property
    def x0(self) -> float:
        return min(w.x0 for w in self.words)

    @property
    def x1(self) -> float:
        return max(w.x1 for w in self.words)

    @property
    def y0(self) -> float:
        return min(w.y0 for w in self.words)

    @property
    def y1(self) -> float:
        return max(w.y1 for w in self.words)

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def height(self) -> float:
        return float(np.median([w.y1 - w.y0 for w in self.words]))


def bounds(lines: list[Line]) -> tuple[float, float, float, float]:
    """The box around some lines, in mm: (x0, y0, x1, y1)."""
    return (
        min(line.x0 for line in lines),
        min(line.y0 for line in lines),
        max(line.x1 for line in lines),
        max(line.y1 for line in lines),
    )


def lines_of(words: tuple[Word, ...], gap_mm: float = 5.0) -> list[Line]:
    """Words grouped into lines, top to bottom, each line split at wide gaps."""
    rows: list[list[Word]] = []
    for word in sorted(words, key=lambda w: (w.y0 + w.y1) / 2):
        middle = (word.y0 + word.y1) / 2
        if rows:
            last = rows[-1]
            top = float(np.median([w.y0 for w in last]))
            bottom = float(np.median([w.y1 for w in last]))
            if top <= middle <= bottom:
                last.append(word)
                continue
        rows.append([word])
    lines: list[Line] = []
    for row in rows:
        row.sort(key=lambda w: w.x0)
        part = [row[0]]
        for word in row[1:]:
            if word.x0 - part[-1].x1 > gap_mm:
                lines.append(Line(tuple(part)))
                part = []
            part.append(word)
        lines.append(Line(tuple(part)))
    return sorted(lines, key=lambda line: (round(line.y0), line.x0))


def join_row(line: Line, lines: list[Line], x0: float, x1: float) -> Line:
    """``line`` with the parts of its row after it, up to ``x1``: a blank
    left in the print for a value filled in later ("Số:      /TTr-UBND", "ngày
    tháng 01") is wider than the gap that splits lines."""
    row = [
        part
        for part in lines
        if part is line
        or (
            max(x0, line.x1) <= part.x0
            and part.x1 <= x1
            and line.y0 <= (part.y0 + part.y1) / 2 <= line.y1
        )
    ]
    words = sorted((w for part in row for w in part.words), key=lambda w: w.x0)
    return Line(tuple(words))


class Reader(Protocol):
    """Reads a small image of print: its lines, top to bottom
    (:func:`station.ocr.tesseract.read_lines`)."""

    def __call__(self, image: Pixels, dpi: int, mode: Mode = TEXT, /) -> list[str]: ...


def unknown_syllable(word: str) -> bool:
    """A word in lower case (or with a capital first letter) that is no syllable
    of the Vietnamese dictionary Tesseract's ``vie`` model carries: a tone mark
    misread into a syllable that does not exist ("buỗi", "Dằn"). Abbreviations
    and capitals ("UBND", "MTQG"), numbers and symbols are not syllables and
    are let be; without the dictionary nothing is refused."""
    for part in re.split(r"[-–—/]", word.strip(".,;:()\"'“”")):
        if not part.isalpha() or (len(part) > 1 and part[1:] != part[1:].lower()):
            continue
        lexicon = words("vie")
        if lexicon and nfc(part).lower() not in lexicon:
            return True
    return False
