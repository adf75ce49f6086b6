"""The header of an administrative document, read from page 1 (docs/decree30.md#header).

Input: the words of page 1's text layer with their positions (:func:`station.ocr.pdf.page_words`)
and the page image. Output: the Decree 30 metadata of batch.json (§3.2).

The layout of Phụ lục I is the map:

- the national motto ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") opens the right
  column; the agency block, the number and, for a công văn, the "V/v" subject
  are in the left column;
- the issuing agency is the bold line(s) of the agency block, the superior
  agency the plain line(s) above it: weight is measured on the image (stroke
  width), with the "Số:" line (plain) and the motto (bold) as the references;
- "Số: 45/QĐ-VKS" gives CodeNumber and CodeNotation, and the type through its
  abbreviation; the italic "…, ngày 06 tháng 3 năm 2024" gives IssuedDate;
- the type name is the centred bold line under the header, the subject the
  bold centred line(s) under it;
- secrecy and urgency marks are red stamps, read on their own.

Every value is checked against the rules (type abbreviation table, a real
date, the number form). A value that does not pass, or that two sources
disagree on, stays ``None``: the clerk fills it in, rather than the DMS
receiving a wrong one.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from difflib import SequenceMatcher
from typing import Any

import cv2
import numpy as np

from station.imaging.arrays import Pixels
from station.ocr.pdf import PageWords, Word, nfc

#: Phụ lục III: type names and their abbreviations in the number's symbol.
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
_MOTTO = "CONG HOA XA HOI CHU NGHIA VIET NAM"
#: words that open a place name in an agency's name ("tỉnh Thanh Hóa")
_PLACE_UNITS = ("thành phố", "thị xã", "thị trấn", "tỉnh", "huyện", "quận", "xã", "phường")
#: agency kinds whose next word (the field) is capitalised: "Sở Tư pháp", "Cục Thi hành án"
_FIELD_KINDS = ("tổng cục", "chi cục", "bộ", "sở", "cục", "vụ", "ban", "phòng")


#: Names that recur in agency blocks, with their marks: a reading that lost a
#: mark on one of them ("CUC THI HANH AN") is restored from here. Provinces are
#: the 63 of the 2008-2025 map plus the names kept by the 2025 merger.
_AGENCY_PHRASES = (
    "VIỆN KIỂM SÁT NHÂN DÂN", "TÒA ÁN NHÂN DÂN", "ỦY BAN NHÂN DÂN", "HỘI ĐỒNG NHÂN DÂN",
    "THI HÀNH ÁN DÂN SỰ", "TỐI CAO", "CẤP CAO", "CÔNG AN", "THANH TRA", "VĂN PHÒNG",
    "KHO BẠC NHÀ NƯỚC", "BẢO HIỂM XÃ HỘI", "CỤC THUẾ", "CHI CỤC", "TỔNG CỤC", "CỤC", "SỞ", "BỘ",
    "TƯ PHÁP", "NỘI VỤ", "TÀI CHÍNH", "GIÁO DỤC VÀ ĐÀO TẠO", "Y TẾ", "XÂY DỰNG", "CÔNG THƯƠNG",
    "KẾ HOẠCH VÀ ĐẦU TƯ", "TÀI NGUYÊN VÀ MÔI TRƯỜNG", "NÔNG NGHIỆP VÀ PHÁT TRIỂN NÔNG THÔN",
    "NÔNG NGHIỆP VÀ MÔI TRƯỜNG", "LAO ĐỘNG - THƯƠNG BINH VÀ XÃ HỘI", "VĂN HÓA, THỂ THAO VÀ DU LỊCH",
    "GIAO THÔNG VẬN TẢI", "THÔNG TIN VÀ TRUYỀN THÔNG", "KHOA HỌC VÀ CÔNG NGHỆ", "QUỐC PHÒNG",
    "THÀNH PHỐ", "THỊ XÃ", "THỊ TRẤN", "TỈNH", "HUYỆN", "QUẬN", "PHƯỜNG",
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


def fold(text: str) -> str:
    """Upper case without tone or vowel marks, for tolerant comparisons."""
    decomposed = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return re.sub(r"\s+", " ", re.sub(r"[^0-9A-Za-z/ -]", " ", bare)).strip().upper()


_PHRASES = sorted(
    (tuple(p.replace(",", "").split()) for p in _AGENCY_PHRASES),
    key=len,
    reverse=True,
)


def similar(a: str, b: str) -> float:
    return SequenceMatcher(None, fold(a), fold(b)).ratio()


_LOOKALIKES = str.maketrans({"Ð": "Đ", "ð": "đ", "\u2044": "/", "\u2215": "/"})


def _clean(text: str) -> str:
    """Characters Tesseract reads for Vietnamese print: Icelandic eth for Đ,
    a fraction or division slash for "/"."""
    return nfc(text.translate(_LOOKALIKES))


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
                out[index : index + size] = phrase
                index += size - 1
                break
        index += 1
    return out


@dataclass(frozen=True)
class Line:
    """Words on one visual line that sit together (a gap of more than a few
    millimetres starts another line: the agency block and the motto share rows)."""

    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return _clean(" ".join(w.text for w in self.words))

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


Reader = Callable[[Pixels, int], list[str]]


class Ink:
    """The page image under the text layer: stroke weight of printed lines, and
    a second, closer reading of a few header lines.

    The text layer is read with ``vie+eng``; on bold capitals the English model
    often wins and drops the marks ("CUC THI HANH AN"). The header lines are
    therefore read again alone, with ``reader`` (Tesseract
    ``vie``), and that reading is used when it has the same lines and agrees
    with the text layer on the letters.
    """

    def __init__(
        self, image: Pixels, dpi: int, reader: Reader | None = None, recording: bool = False
    ) -> None:
        self.gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        #: the reader only records what would be read (:class:`station.pipeline.document.Prefetch`):
        #: no fallback readings
        self.recording = recording
        self.px_per_mm = dpi / 25.4
        self.dpi = dpi
        self.reader = reader

    def texts(self, lines: list[Line], force: bool = False) -> list[str]:
        """The text of ``lines`` (one block), read again when a reader is set;
        with ``force`` only the new reading, or []."""
        layer = [line.text for line in lines]
        if self.reader is None or not lines:
            return [] if force else layer
        pad = 1.5
        again = self.read(
            min(line.x0 for line in lines) - pad,
            min(line.y0 for line in lines) - pad,
            max(line.x1 for line in lines) + pad,
            max(line.y1 for line in lines) + pad,
        )
        if force:
            return [_clean(" ".join(again))] if again else []
        if len(again) != len(layer):
            return layer
        if any(similar(a, b) < 0.75 for a, b in zip(again, layer, strict=True)):
            return layer
        return [
            respace(_clean(a), [w.text for w in line.words])
            for a, line in zip(again, lines, strict=True)
        ]

    def _crop(self, x0: float, y0: float, x1: float, y1: float) -> Pixels:
        s = self.px_per_mm
        h, w = self.gray.shape[:2]
        return self.gray[
            max(0, int(y0 * s)) : min(h, int(y1 * s) + 1),
            max(0, int(x0 * s)) : min(w, int(x1 * s) + 1),
        ]

    def _ink(self, crop: Pixels) -> Pixels:
        """Ink as 0/1 with ruled lines (an underline) taken out."""
        _, ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
        rule = cv2.morphologyEx(
            ink, cv2.MORPH_OPEN, np.ones((1, max(3, int(8 * self.px_per_mm))), np.uint8)
        )
        cleaned: Pixels = np.where(rule > 0, 0, ink).astype(np.uint8)
        return cleaned

    def stroke_of(self, x0: float, y0: float, x1: float, y1: float) -> float | None:
        """Mean stroke width in pixels: twice the ink area over its outline."""
        crop = self._crop(x0, y0, x1, y1)
        if crop.size < 50:
            return None
        ink = self._ink(crop)
        area = int(ink.sum())
        outline = area - int(cv2.erode(ink, np.ones((3, 3), np.uint8)).sum())
        return 2.0 * area / outline if outline else None

    def stroke(self, line: Line) -> float | None:
        return self.stroke_of(line.x0, line.y0, line.x1, line.y1)

    def bands(self, x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
        """The lines of print in a region, top to bottom, as (top, bottom) in mm.

        Rows of ink are found on the image (underlines removed); a thin run
        of rows (a row of tone marks) joins the nearest line."""
        crop = self._crop(x0, y0, x1, y1)
        if crop.size < 50:
            return []
        ink = self._ink(crop)
        rows = ink.sum(axis=1) > max(2, ink.shape[1] // 400)
        runs: list[list[int]] = []
        for index, on in enumerate(rows):
            if on and runs and index - runs[-1][1] <= max(1, int(0.3 * self.px_per_mm)):
                runs[-1][1] = index
            elif on:
                runs.append([index, index])
        thin = 1.8 * self.px_per_mm
        merged: list[list[int]] = []
        for run in runs:
            if merged and (run[1] - run[0] < thin or merged[-1][1] - merged[-1][0] < thin):
                below_gap = run[0] - merged[-1][1]
                if run[1] - run[0] < thin and below_gap > 1.2 * self.px_per_mm:
                    merged.append(run)  # tone marks of the next line
                    continue
                merged[-1][1] = run[1]
            else:
                merged.append(run)
        s = self.px_per_mm
        start = max(0, int(y0 * s)) / s
        return [(start + a / s, start + (b + 1) / s) for a, b in merged if b - a >= 2.0 * s]

    def read_lines_of(self, boxes: list[tuple[float, float, float, float]]) -> list[list[str]]:
        """Several one-line regions read in one pass: their crops stacked, read
        once, and the lines handed back in order; each region alone when the
        lines do not come back one per region."""
        if self.reader is None or len(boxes) < 2:
            return [self.read(*box) for box in boxes]
        crops = [self._crop(*box) for box in boxes]
        gap = int(4 * self.px_per_mm)
        width = max(c.shape[1] for c in crops) + 2 * gap
        stack = np.full((sum(c.shape[0] + gap for c in crops) + gap, width), 255, np.uint8)
        y = gap
        for crop in crops:
            stack[y : y + crop.shape[0], gap : gap + crop.shape[1]] = crop
            y += crop.shape[0] + gap
        lines = self._kept(self.reader(stack, self.dpi))
        if len(lines) == len(boxes):
            return [[line] for line in lines]
        if self.recording:
            return [[] for _ in boxes]
        return [self.read(*box) for box in boxes]

    @staticmethod
    def _kept(lines: list[str]) -> list[str]:
        kept = []
        for text in lines:
            # specks and rules read as "_" or "|" on their own
            words = " ".join(t for t in text.split() if any(c.isalnum() for c in t))
            if words:
                kept.append(_clean(words))
        return kept

    def read(self, x0: float, y0: float, x1: float, y1: float) -> list[str]:
        """A region read again; [] without a reader."""
        if self.reader is None:
            return []
        crop = self._crop(x0, y0, x1, y1)
        if crop.size < 50:
            return []
        return self._kept(self.reader(crop, self.dpi))


# --------------------------------------------------------------------- parsers

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


def parse_number(text: str) -> tuple[str, str] | None:
    """("45", "QĐ-VKS") from "Số: 45/QĐ-VKS", checked against the symbol rules."""
    match = _NUMBER.match(_clean(text).strip())
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


def sentence_case(words: list[str]) -> str:
    """An agency's name as written in running text (Phụ lục II): "SỞ TƯ PHÁP" →
    "Sở Tư pháp", "VIỆN KIỂM SÁT NHÂN DÂN TỈNH THANH HÓA" → "Viện kiểm sát nhân
    dân tỉnh Thanh Hóa"; abbreviations such as UBND stay as printed."""
    low = [w.lower() for w in words]
    out: list[str] = []
    kind = (
        2 if " ".join(low[:2]) in _FIELD_KINDS else 1 if low[:1] and low[0] in _FIELD_KINDS else 0
    )
    in_place = False
    index = 0
    while index < len(words):
        two = " ".join(low[index : index + 2])
        if _is_abbreviation(words[index]):
            out.append(words[index])
        elif index > 0 and not in_place and (two in _PLACE_UNITS or low[index] in _PLACE_UNITS):
            unit = 2 if two in _PLACE_UNITS else 1
            out.extend(low[index : index + unit])
            index += unit
            in_place = True
            continue
        elif index == 0 or in_place or (kind and index == kind):
            out.append(low[index][:1].upper() + low[index][1:])
        else:
            out.append(low[index])
        index += 1
    return " ".join(out)


_SYLLABLE = re.compile(
    r"(?:NGH|NG|NH|CH|GH|GI|KH|PH|QU|TH|TR|[BCDGHKLMNPRSTVX])?"
    r"[AEIOUY]{1,3}(?:NG|NH|CH|[CMNPT])?"
)


def _is_abbreviation(word: str) -> bool:
    """UBND, HĐND, VKSND: upper-case words that are no Vietnamese syllable."""
    folded = fold(word)
    return word.isupper() and folded.isalpha() and not _SYLLABLE.fullmatch(folded)


# --------------------------------------------------------------------- reader


@dataclass
class Header:
    lines: list[Line]
    motto: Line | None
    split_x: float
    number: Line | None  # the "Số:" line
    width: float


def _header(page: PageWords, ink: Ink) -> Header:
    lines = [line for line in lines_of(page.words) if line.y0 < page.height_mm * 0.45]
    motto = max(lines, key=lambda line: similar(line.text, _MOTTO), default=None)
    if motto is not None and similar(motto.text, _MOTTO) < 0.75:
        motto = None
    split_x = motto.x0 - 1.0 if motto is not None else page.width_mm / 2
    head = Header(lines, motto, split_x, None, page.width_mm)
    for line in lines:
        if line.cx >= split_x or line.y0 > page.height_mm * 0.3:
            continue
        if not re.match(r"^S\S{0,2}\s*[:;.,]?\s*[0-9]", line.text):
            continue
        head.number = line
        break
    return head


def read_fields(
    page: PageWords,
    image: Pixels,
    dpi: int,
    *,
    page_amount: int,
    latest: date | None = None,
    marks: list[str] | None = None,
    reader: Reader | None = None,
    recording: bool = False,
) -> dict[str, Any]:
    """The Decree 30 fields of a document from its first page; None where unsure.

    ``marks`` are the red stamps found by :func:`red_marks`; ``reader`` reads a
    few header lines again (see :class:`Ink`)."""
    latest = latest or date.today()
    found: dict[str, Any] = dict.fromkeys(FIELDS)
    found["PageAmount"] = page_amount
    found["Language"] = language_of(page.text)
    ink = Ink(image, dpi, reader, recording)
    head = _header(page, ink)
    title = _type_title(head)
    by_title = type_name_of(title.text) if title is not None else None
    readings: list[tuple[str, str]] = []
    consistent: list[tuple[str, str]] = []
    # the text layer's reading, then (only when that one fails) a second one
    for again in (False, True):
        if head.number is None or consistent:
            break
        texts = ink.texts([head.number], force=True) if again else [head.number.text]
        readings += [parsed for parsed in map(parse_number, texts) if parsed]
        # a document with a type title carries its abbreviation first in the symbol
        consistent = [
            parsed
            for parsed in readings
            if by_title is None or TYPES.get(parsed[1].split("-")[0]) == by_title
        ]
    if consistent:
        found["CodeNumber"], found["CodeNotation"] = consistent[0]
    elif len({number for number, _ in readings}) == 1:
        found["CodeNumber"] = readings[0][0]
    found["IssuedDate"] = _issued(head, ink, latest)
    found["OrganName"] = _organ(head, ink)
    if title is not None:
        found["TypeName"] = by_title
        found["Subject"] = _centred_subject(head, ink, title)
    elif found["CodeNotation"] is not None:
        by_symbol = TYPES.get(found["CodeNotation"].split("-")[0])
        found["TypeName"] = by_symbol or CONG_VAN
        found["Subject"] = None if by_symbol else _vv_subject(head, ink)
    found["Priority"] = priority_of(marks or [])
    return found


def _issued(head: Header, ink: Ink, latest: date) -> str | None:
    """The dated place line, in the right column under the motto; read again
    across the column when the text layer garbled it (italic print)."""
    if head.motto is None:
        return None
    zone = [
        line
        for line in head.lines
        if line.x0 >= head.split_x - 5 and head.motto.y1 < line.y0 < head.motto.y1 + 30
    ]
    for line in zone:
        value = parse_date(line.text, latest)
        if value is not None:
            return value.isoformat()
    for line in zone:
        for text in ink.read(head.split_x, line.y0 - 1, head.width - 3, line.y1 + 1):
            value = parse_date(text, latest)
            if value is not None:
                return value.isoformat()
    return None


def _organ(head: Header, ink: Ink) -> str | None:
    """The bold line(s) of the agency block, just above the number.

    The block's lines are found on the image, weighed against the plain
    "Số:" line and the bold motto, and read one by one."""
    if head.number is None or head.motto is None or ink.reader is None:
        return None
    above = [
        line
        for line in head.lines
        if line.x1 <= head.split_x + 2 and line.y1 <= head.number.y0 + 0.5
    ]
    plain, bold = ink.stroke(head.number), ink.stroke(head.motto)
    if not above or plain is None or bold is None or bold < plain * 1.15:
        return None
    x0, x1 = max(0.0, min(line.x0 for line in above) - 2), head.split_x - 0.5
    bands = ink.bands(x0, min(line.y0 for line in above) - 1.5, x1, head.number.y0 - 0.3)
    weights = [ink.stroke_of(x0, top, x1, bottom) for top, bottom in bands]
    if not bands or any(w is None for w in weights):
        return None
    middle = (plain + bold) / 2
    flags = [w is not None and w > middle for w in weights]
    if not flags[-1] or any(flags[i] and not flags[i + 1] for i in range(len(flags) - 1)):
        return None  # the issuing agency is the last bold run, right above the number
    words: list[str] = []
    organ = bands[flags.index(True) :]
    reads = ink.read_lines_of([(x0, top - 0.8, x1, bottom + 0.8) for top, bottom in organ])
    for (top, bottom), read in zip(organ, reads, strict=True):
        if len(read) != 1:
            return None
        layer = [
            w.text
            for line in above
            for w in line.words
            if top - 0.5 <= (w.y0 + w.y1) / 2 <= bottom + 0.5
        ]
        words += respace(_clean(read[0]), layer).split()
    words = [w.strip(".,;:_'\"|") for w in words if w.strip(".,;:_'\"|")]
    if not words or not all(re.fullmatch(r"[A-Z]+", fold(w)) for w in words):
        return None
    if any(w != w.upper() for w in words):
        return None
    return nfc(sentence_case(restore_marks(words)))


def _type_title(head: Header) -> Line | None:
    """The centred type name under the number ("QUYẾT ĐỊNH"), if any."""
    below = head.number.y1 if head.number is not None else 0.0
    centre = head.width / 2
    return next(
        (
            line
            for line in head.lines
            if line.y0 > below and abs(line.cx - centre) < 20 and type_name_of(line.text)
        ),
        None,
    )


def _centred_subject(head: Header, ink: Ink, title: Line) -> str | None:
    centre = head.width / 2
    reference = ink.stroke(title)
    parts: list[Line] = []
    last = title
    for line in head.lines:
        if line.y0 <= title.y1:
            continue
        if line.y0 - last.y1 > 2.2 * last.height or abs(line.cx - centre) > 20:
            break
        weight = ink.stroke(line)
        if reference is None or weight is None or weight < 0.8 * reference:
            break
        parts.append(line)
        last = line
    if not parts:
        return None
    return _subject_text(" ".join(ink.texts(parts)))


def _vv_subject(head: Header, ink: Ink) -> str | None:
    start = next(
        (
            line
            for line in head.lines
            if line.cx < head.split_x
            and re.match(r"^V\s*[/|lIií1]\s*[vV]\b", line.text)
            and (head.number is None or line.y0 >= head.number.y1 - 0.5)
        ),
        None,
    )
    if start is None:
        return None
    parts = [start]
    for line in head.lines:
        last = parts[-1]
        if line.y0 <= last.y1 or line.x1 > head.split_x + 2:
            continue
        if line.y0 - last.y1 > 1.2 * last.height or abs(line.cx - start.cx) > 15:
            break
        parts.append(line)
    text = re.sub(r"^V\s*[/|lIií1]\s*[vV]?\s*[:.]?\s*", "", " ".join(ink.texts(parts)))
    return _subject_text(text)


def _subject_text(text: str) -> str | None:
    text = nfc(re.sub(r"\s+", " ", text).strip(" .;:"))
    # Roman numerals read with a lower-case l ("quý IIl")
    text = re.sub(r"\b[IlV]*I[IlV]*\b", lambda m: m[0].replace("l", "I"), text)
    if len(text) < 4:
        return None
    return text[:1].upper() + text[1:]


def language_of(text: str) -> str | None:
    """ "vi" when Vietnamese letters are common, "en" for plain English, else None."""
    words = re.findall(r"[^\W\d_]+", text)
    if len(words) < 5:
        return None
    marked = sum(1 for w in words if fold(w) != w.upper())
    if marked / len(words) >= 0.15:
        return "vi"
    english = {"the", "and", "of", "to", "in", "for", "is", "on", "with", "by"}
    if sum(1 for w in words if w.lower() in english) / len(words) >= 0.05:
        return "en"
    return None


def priority_of(marks: list[str]) -> str | None:
    """Secrecy then urgency, as printed marks: "Mật", "Khẩn", "Mật, Hỏa tốc"."""
    folded = [fold(m) for m in marks]
    found = [
        next((name for name in group if fold(name) in folded), None) for group in (SECRECY, URGENCY)
    ]
    kept = [name for name in found if name]
    return ", ".join(kept) if kept else None


def red_marks(image: Pixels, dpi: int, read: Any) -> list[str]:
    """Secrecy and urgency stamps in red ink on the upper part of page 1.

    ``read(gray, dpi)`` reads one line of print (:func:`station.ocr.tesseract.read_line`).
    Each red text run is read alone, black on white, and kept only when it is
    one of the marks.
    """
    if image.ndim != 3:
        return []
    top = image[: int(image.shape[0] * 0.45)]
    hsv = cv2.cvtColor(top, cv2.COLOR_BGR2HSV)
    hue, sat, val = cv2.split(hsv)
    red = ((hue < 10) | (hue > 170)) & (sat > 90) & (val > 80)
    mask = red.astype(np.uint8) * 255
    px_mm = dpi / 25.4
    joined = cv2.dilate(mask, np.ones((max(1, int(1.5 * px_mm)), max(1, int(4 * px_mm))), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined)
    names = SECRECY + URGENCY
    marks: list[str] = []
    for index in range(1, count):
        x, y, w, h = (int(v) for v in stats[index][:4])
        if not (3 * px_mm <= h <= 15 * px_mm and 8 * px_mm <= w <= 90 * px_mm):
            continue
        pad = int(2 * px_mm)
        crop = mask[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad]
        text = read(255 - crop, dpi)
        best = max(names, key=lambda name: similar(text, name))
        if text and similar(text, best) >= 0.8 and best not in marks:
            marks.append(best)
    return marks
