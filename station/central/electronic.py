"""The DMS's electronic documents, as the administrator imports them (CSV).

The paper side of the yearly report (văn bản giấy) comes from the stations'
own counts. The electronic side (văn bản điện tử) is known only to the agency's
DMS, whose reports the administrator exports and imports here: one line per
unit and year, or per unit, year and month, with the incoming and the outgoing
electronic documents (docs/fleet.md#electronic-documents).

:func:`parse` reads such a file and checks all of it: a file with any fault is
refused whole, with every fault named by its line, Vietnamese first
(:class:`Problem`). What it returns is stored by
:meth:`station.central.fleetdb.FleetDB.import_electronic`, which replaces what
was stored for the same unit and period.

The central side's own edXML traffic adds nothing here: the documents it hands
to the DMS, received and sent, are the paper ones our stations digitized
(counted already), and it takes no document from the DMS, only status messages
(docs/fleet.md).
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from dataclasses import dataclass
from datetime import date

from station.common.logsafe import printable

__all__ = [
    "COLUMNS",
    "MAX_COUNT",
    "MAX_ROWS",
    "ElectronicFigure",
    "ImportRefused",
    "Problem",
    "fold",
    "parse",
    "unit_name",
]

#: the most lines one file may hold
MAX_ROWS = 5000
#: the largest count taken on one line
MAX_COUNT = 10**9
#: the longest unit name (a station's ``unit`` is bounded the same)
MAX_UNIT = 200
#: the most faults listed; the rest are counted
MAX_PROBLEMS = 20

#: column -> (its Vietnamese and English names in the file, as :func:`fold` makes them)
COLUMNS: dict[str, tuple[str, ...]] = {
    "unit": ("don vi", "ten don vi", "unit"),
    "year": ("nam", "year"),
    "month": ("thang", "month"),
    "incoming": (
        "den dien tu", "van ban den dien tu", "incoming electronic", "electronic incoming",
    ),
    "outgoing": (
        "di dien tu", "van ban di dien tu", "outgoing electronic", "electronic outgoing",
    ),
}  # fmt: skip
#: how each column is called in a message (Vietnamese, English)
COLUMN_WORDS = {
    "unit": ("Đơn vị", "unit"),
    "year": ("Năm", "year"),
    "month": ("Tháng", "month"),
    "incoming": ("Đến điện tử", "incoming electronic"),
    "outgoing": ("Đi điện tử", "outgoing electronic"),
}
REQUIRED = ("unit", "year", "incoming", "outgoing")
#: a count: digits, or digits in groups of three (7.687, 7,687, 7 687)
COUNT = re.compile(r"^(?:\d+|\d{1,3}(?:([.,\u00a0 ])\d{3})(?:\1\d{3})*)$")


@dataclass(frozen=True)
class ElectronicFigure:
    """The DMS's electronic documents of one unit in one year (``month`` 0) or month."""

    unit: str
    year: int
    month: int
    incoming: int
    outgoing: int
    #: the line of the file it came from
    line: int = 0

    @property
    def period(self) -> str:
        return f"{self.year}" if self.month == 0 else f"{self.month:02d}/{self.year}"


@dataclass(frozen=True)
class Problem:
    """One fault of a file: its line (0: the file as a whole) and what is wrong."""

    line: int
    vi: str
    en: str


class ImportRefused(Exception):
    """A file not taken, with every fault found."""

    def __init__(self, problems: list[Problem], more: int = 0) -> None:
        super().__init__("; ".join(p.en for p in problems))
        self.problems = problems
        #: faults found beyond those listed
        self.more = more


def fold(text: str) -> str:
    """A column name as compared: lower case, no tone marks, đ as d, words
    separated by one space ("Đến điện tử" -> "den dien tu")."""
    bare = unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
    bare = "".join(c for c in bare if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", bare).split())


def unit_name(text: str) -> str:
    """A unit's name as stored: NFC, spaces collapsed."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def _column(header: str) -> str | None:
    # a bilingual header ("Đơn vị / Unit") is known by either of its halves
    for part in (header, *header.split("/")):
        folded = fold(part)
        for column, names in COLUMNS.items():
            if folded in names:
                return column
    return None


def _quoted(value: str) -> str:
    return "“" + printable(value, 60) + "”"


class _Reader:
    def __init__(self, today: date) -> None:
        self.today = today
        self.problems: list[Problem] = []
        self.count = 0

    def fault(self, line: int, vi: str, en: str) -> None:
        self.count += 1
        if len(self.problems) < MAX_PROBLEMS:
            self.problems.append(Problem(line, vi, en))

    def header(self, cells: list[str]) -> dict[str, int]:
        found: dict[str, int] = {}
        for index, cell in enumerate(cells):
            column = _column(cell)
            if column is None:
                if cell.strip():
                    self.fault(1, f"Cột {_quoted(cell)} không thuộc mẫu nhập; các cột là: "
                                  "Đơn vị, Năm, Tháng (có thể bỏ), Đến điện tử, Đi điện tử",
                               f"Column {_quoted(cell)} is not one of the import's; the columns "
                               "are: unit, year, month (optional), incoming electronic, "
                               "outgoing electronic")  # fmt: skip
                continue
            if column in found:
                vi, en = COLUMN_WORDS[column]
                self.fault(1, f"Cột “{vi}” có hai lần", f"Column “{en}” is there twice")
                continue
            found[column] = index
        for column in REQUIRED:
            if column not in found:
                vi, en = COLUMN_WORDS[column]
                self.fault(1, f"Thiếu cột “{vi}” ở dòng đầu (dòng tiêu đề)",
                           f"The first line (the header) has no column “{en}”")  # fmt: skip
        return found

    def count_of(self, line: int, column: str, text: str) -> int | None:
        vi, en = COLUMN_WORDS[column]
        value = text.strip()
        if not value:
            self.fault(line, f"Dòng {line}: ô “{vi}” để trống; ghi 0 nếu không có văn bản",
                       f"Line {line}: “{en}” is empty; write 0 when there were none")  # fmt: skip
            return None
        if not COUNT.fullmatch(value):
            self.fault(line, f"Dòng {line}: “{vi}” là {_quoted(value)}, không phải số văn bản "
                             "(số nguyên không âm, ví dụ 7687 hoặc 7.687)",
                       f"Line {line}: “{en}” is {_quoted(value)}, not a number of documents "
                       "(a whole number, not negative, e.g. 7687 or 7,687)")  # fmt: skip
            return None
        number = int(re.sub(r"\D", "", value))
        if number > MAX_COUNT:
            self.fault(line, f"Dòng {line}: “{vi}” {number} lớn quá mức có thể",
                       f"Line {line}: “{en}” {number} is larger than possible")  # fmt: skip
            return None
        return number

    def period(self, line: int, year_text: str, month_text: str) -> tuple[int, int] | None:
        year_text, month_text = year_text.strip(), month_text.strip()
        if not re.fullmatch(r"\d{4}", year_text) or not 2000 <= int(year_text) <= 2100:
            self.fault(line, f"Dòng {line}: năm {_quoted(year_text)} không hợp lệ: cần 4 chữ số, "
                             "ví dụ 2023",
                       f"Line {line}: year {_quoted(year_text)} is not valid: four digits, "
                       "e.g. 2023")  # fmt: skip
            return None
        year = int(year_text)
        month = 0
        if month_text:
            if not re.fullmatch(r"\d{1,2}", month_text) or not 1 <= int(month_text) <= 12:
                self.fault(line, f"Dòng {line}: tháng {_quoted(month_text)} không hợp lệ: từ 1 "
                                 "đến 12, hoặc để trống cho cả năm",
                           f"Line {line}: month {_quoted(month_text)} is not valid: 1 to 12, "
                           "or empty for the whole year")  # fmt: skip
                return None
            month = int(month_text)
        if (year, month) > (self.today.year, self.today.month):
            when = f"{month:02d}/{year}" if month else str(year)
            self.fault(line, f"Dòng {line}: kỳ {when} chưa tới", f"Line {line}: {when} is "
                       "in the future")  # fmt: skip
            return None
        return year, month


def _decode(data: bytes, reader: _Reader) -> str | None:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        reader.fault(0, "Tệp không phải CSV mã UTF-8: trong Excel chọn Lưu thành → "
                        "“CSV UTF-8 (phân tách bằng dấu phẩy)”",
                     "The file is not CSV in UTF-8: in Excel use Save As → "
                     "“CSV UTF-8 (Comma delimited)”")  # fmt: skip
        return None
    if "\x00" in text:
        reader.fault(0, "Tệp không phải tệp CSV (có ký tự nhị phân)",
                     "The file is not a CSV file (it holds binary characters)")  # fmt: skip
        return None
    return text


def _rows(text: str) -> list[list[str]]:
    """The file's lines as cells, with the delimiter that makes the most of the header
    known (a comma, or the semicolon of spreadsheet programs set to Vietnamese)."""
    best: list[list[str]] = []
    known = -1
    for delimiter in (",", ";", "\t"):
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
        header = rows[0] if rows else []
        score = sum(_column(cell) is not None for cell in header)
        if score > known:
            best, known = rows, score
    return best


def parse(data: bytes, today: date) -> list[ElectronicFigure]:
    """The figures of an import file, checked whole; :class:`ImportRefused`
    naming every fault (at most :data:`MAX_PROBLEMS`, the rest counted).
    ``today`` (Vietnam time) bounds the periods: none may be in the future."""
    reader = _Reader(today)
    text = _decode(data, reader)
    rows = _rows(text) if text is not None else []
    if text is not None and not any(any(c.strip() for c in r) for r in rows):
        reader.fault(0, "Tệp trống", "The file is empty")
    if reader.count:
        raise ImportRefused(reader.problems, reader.count - len(reader.problems))
    columns = reader.header(rows[0])
    if reader.count:
        raise ImportRefused(reader.problems, reader.count - len(reader.problems))
    found: list[ElectronicFigure] = []
    seen: dict[tuple[str, int, int], int] = {}
    for line, cells in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(found) + reader.count >= MAX_ROWS:
            reader.fault(line, f"Tệp có quá {MAX_ROWS} dòng số liệu; hãy chia nhỏ",
                         f"The file has over {MAX_ROWS} lines of figures; split it")  # fmt: skip
            break

        def cell(column: str, cells: list[str] = cells) -> str:
            index = columns.get(column)
            return cells[index] if index is not None and index < len(cells) else ""

        unit = unit_name(cell("unit"))
        if not unit:
            reader.fault(line, f"Dòng {line}: thiếu tên đơn vị", f"Line {line}: no unit name")
        elif len(unit) > MAX_UNIT or not unit.isprintable():
            reader.fault(line, f"Dòng {line}: tên đơn vị dài quá {MAX_UNIT} ký tự hoặc có ký tự "
                               "điều khiển",
                         f"Line {line}: the unit name is longer than {MAX_UNIT} characters or "
                         "holds control characters")  # fmt: skip
            unit = ""
        period = reader.period(line, cell("year"), cell("month"))
        incoming = reader.count_of(line, "incoming", cell("incoming"))
        outgoing = reader.count_of(line, "outgoing", cell("outgoing"))
        if not unit or period is None or incoming is None or outgoing is None:
            continue
        year, month = period
        figure = ElectronicFigure(unit, year, month, incoming, outgoing, line)
        _check_against(reader, seen, figure)
        found.append(figure)
    if not found and not reader.count:
        reader.fault(0, "Tệp chỉ có dòng tiêu đề, không có số liệu",
                     "The file has the header only, no figures")  # fmt: skip
    if reader.count:
        raise ImportRefused(reader.problems, reader.count - len(reader.problems))
    return found


def _check_against(
    reader: _Reader, seen: dict[tuple[str, int, int], int], figure: ElectronicFigure
) -> None:
    """A unit's period once in a file; a unit's year by months or whole, not both."""
    line, unit, year, month = figure.line, figure.unit, figure.year, figure.month
    same = seen.get((unit, year, month))
    if same is not None:
        reader.fault(line, f"Dòng {line}: trùng với dòng {same} (cùng đơn vị, năm và tháng)",
                     f"Line {line}: the same unit, year and month as line {same}")  # fmt: skip
        return
    other = (
        next((n for (u, y, m), n in seen.items() if u == unit and y == year and m), None)
        if month == 0
        else seen.get((unit, year, 0))
    )
    if other is not None:
        reader.fault(line, f"Dòng {line}: năm {year} của {_quoted(unit)} có cả số liệu cả năm và "
                           f"số liệu theo tháng (dòng {other}); mỗi năm nhập theo một cách",
                     f"Line {line}: {year} of {_quoted(unit)} is given both for the whole year "
                     f"and by month (line {other}); give a year one way")  # fmt: skip
        return
    seen[(unit, year, month)] = line
