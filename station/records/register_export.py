"""The registers on paper and in files: a PDF laid out like the paper
register (A4 landscape, Times-compatible Liberation Serif, page numbers, the
closing lines and signatures), and CSV or XLSX with the same columns. The
incoming register (Sổ đến, ten columns) by default; the register of secret
documents (:mod:`station.records.secret_register`), the outgoing register and
the post register (:mod:`station.records.outgoing_register`) have their own
:class:`Layout`.

In the PDF the signatures never stand alone on a page: the closing line and the
signatures go with the book's last rows. What to check before the register is
closed (gaps, repeats, labels of another year, late registrations) is printed
after the book, on a sheet of its own titled :data:`NOTES_TITLE`, never inside
the register.

The Ghi chú column carries the urgency and secrecy marks ahead of the clerk's
note, as a keeper writes them in the paper register.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from station.common.fsutil import atomic_write
from station.common.spreadsheet import as_text_cell, csv_bytes
from station.errors import InputError, UsageError
from station.records.register import COLUMNS, Column, Entry, Flag, typed_day

FORMATS = ("pdf", "csv", "xlsx")


@dataclass(frozen=True)
class Period:
    start: date
    end: date

    @classmethod
    def parse(cls, first: str, last: str | None = None) -> Period:
        """``2026-11-25``, ``2026-11`` (the month) or ``2026`` (the year); ``last``
        defaults to the end of ``first``'s day, month or year."""
        start = _span(first)[0]
        end = _span(last or first)[1]
        if end < start:
            raise UsageError(
                f"the period ends ({end}) before it starts ({start})",
                f"ngày kết thúc ({end}) trước ngày bắt đầu ({start})",
            )
        return cls(start, end)

    def text(self) -> str:
        """The period as the register's heading says it."""
        if self.start == self.end:
            return f"Ngày {self.start:%d/%m/%Y}"
        same_month = (self.start.year, self.start.month) == (self.end.year, self.end.month)
        last_day = calendar.monthrange(self.end.year, self.end.month)[1]
        whole = self.start.day == 1 and self.end.day == last_day
        if same_month and whole:
            return f"Tháng {self.start.month} năm {self.start.year}"
        whole_year = self.start == date(self.start.year, 1, 1) and self.end == date(
            self.start.year, 12, 31
        )
        if whole_year:
            return f"Năm {self.start.year}"
        return f"Từ ngày {self.start:%d/%m/%Y} đến ngày {self.end:%d/%m/%Y}"


def _span(text: str) -> tuple[date, date]:
    """The first and last day a date, a month or a year stands for."""
    value = text.strip()
    try:
        if re.fullmatch(r"\d{4}", value):
            return date(int(value), 1, 1), date(int(value), 12, 31)
        if re.fullmatch(r"\d{4}-\d{2}", value):
            year, month = map(int, value.split("-"))
            first = date(year, month, 1)
            return first, date(year, month, calendar.monthrange(year, month)[1])
        day = typed_day(value)
        return day, day
    except (ValueError, InputError):
        raise UsageError(
            f"{text!r} is not a day (25/11/2026), a month (2026-11) or a year (2026)",
            f"{text!r} không phải ngày (25/11/2026), tháng (2026-11) hay năm (2026)",
        ) from None


def note_cell(entry: Any) -> str:
    """Ghi chú: the urgency and secrecy marks of an entry (``urgency``,
    ``secrecy``), then the clerk's ``note``."""
    marks = ", ".join([*entry.urgency, *entry.secrecy])
    return "; ".join(part for part in (marks, entry.note) if part)


def _incoming_row(entry: Entry) -> list[Any]:
    return [note_cell(entry) if c.key == "note" else getattr(entry, c.key) for c in COLUMNS]


@dataclass(frozen=True)
class Layout:
    """A register's columns and words: what differs between the books."""

    title: str  # the heading, in capitals
    sheet: str  # the spreadsheet's tab
    columns: tuple[Column, ...]
    #: column widths in mm on an A4 landscape page with 15 mm margins (267 mm)
    widths_mm: tuple[float, ...]
    centred: tuple[str, ...]  # the columns set centred in the PDF
    counted: str  # what the closing line counts: "văn bản đến"
    #: an entry's values in column order: text, numbers and dates
    row: Callable[[Any], list[Any]]
    #: whether the closing line says the numbers it runs over ("từ số 1 đến số 57")
    spans: bool = True
    #: the columns signed and stamped on the printed book ("Ký nhận và dấu bưu
    #: điện"): every row keeps room for a signature and a stamp there
    stamped: tuple[str, ...] = ()


INCOMING = Layout(
    title="SỔ ĐĂNG KÝ VĂN BẢN ĐẾN",
    sheet="Sổ đến",
    columns=COLUMNS,
    widths_mm=(21, 13, 36, 24, 21, 60, 30, 21, 21, 20),
    centred=("arrival_date", "number", "issued_date", "transfer_date"),
    counted="văn bản đến",
    row=_incoming_row,
)


@dataclass(frozen=True)
class Book:
    """What an export needs: the entries, what to check, and the heading."""

    entries: Sequence[Any]  # with ``year`` and ``number``, as ``layout.row`` reads them
    flags: Sequence[Flag]
    period: Period
    unit: str
    keeper: str = ""
    layout: Layout = INCOMING


def as_text(value: Any) -> str:
    """A cell as the paper register shows it (dates dd/mm/yyyy)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return f"{value:%d/%m/%Y}"
    return str(value)


def cells(entry: Any, layout: Layout = INCOMING) -> list[str]:
    """One row as text, in the order of the layout's columns."""
    return [as_text(value) for value in layout.row(entry)]


def number_span(entries: Sequence[Any]) -> str:
    """ "từ số 1 đến số 57" per year, as the closing line of a register says it."""
    years: dict[int, list[int]] = {}
    for entry in entries:
        if entry.number is not None:  # an outgoing document entered without one
            years.setdefault(entry.year, []).append(entry.number)
    return "; ".join(
        f"từ số {min(numbers)} đến số {max(numbers)}" + (f" (năm {year})" if len(years) > 1 else "")
        for year, numbers in sorted(years.items())
    )


def write(book: Book, fmt: str, out: Path) -> Path:
    """Write ``book`` as ``fmt`` (pdf, csv, xlsx) to ``out``, atomically."""
    atomic_write(out, render(book, fmt), mode=0o644)
    return out


def render(book: Book, fmt: str) -> bytes:
    """``book`` as the bytes of a pdf, csv or xlsx file."""
    makers = {"pdf": to_pdf, "csv": to_csv, "xlsx": to_xlsx}
    return makers[fmt](book)


# --------------------------------------------------------------------------- CSV


def to_csv(book: Book) -> bytes:
    """UTF-8 with a byte order mark; no cell can be taken for a formula."""
    layout = book.layout
    return csv_bytes(
        [[c.vi for c in layout.columns], *(cells(entry, layout) for entry in book.entries)]
    )


# --------------------------------------------------------------------------- XLSX


def to_xlsx(book: Book) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    layout = book.layout
    sheet.title = layout.sheet
    serif = "Times New Roman"
    sheet.append([book.unit.upper()])
    sheet.append([layout.title])
    sheet.append([book.period.text()])
    sheet.append([])
    sheet.append([c.vi for c in layout.columns])
    header_row = sheet.max_row
    for row, size, bold in ((1, 12, True), (2, 14, True), (3, 12, False)):
        sheet.cell(row, 1).font = Font(name=serif, size=size, bold=bold)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for index, width in enumerate(layout.widths_mm, start=1):
        cell = sheet.cell(header_row, index)
        cell.font = Font(name=serif, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = box
        sheet.column_dimensions[get_column_letter(index)].width = width * 0.75
    for entry in book.entries:
        sheet.append(layout.row(entry))
        for index in range(1, len(layout.columns) + 1):
            cell = sheet.cell(sheet.max_row, index)
            cell.font = Font(name=serif)
            cell.alignment = Alignment(vertical="top", wrap_text=True)
            cell.border = box
            as_text_cell(cell)
            if isinstance(cell.value, date):
                cell.number_format = "dd/mm/yyyy"
    sheet.freeze_panes = f"A{header_row + 1}"
    sheet.print_title_rows = f"{header_row}:{header_row}"
    sheet.page_setup.orientation = "landscape"
    sheet.page_setup.paperSize = sheet.PAPERSIZE_A4
    sheet.page_setup.fitToWidth = 1
    sheet.page_setup.fitToHeight = 0
    sheet.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    footer = sheet.oddFooter
    assert footer is not None
    footer.center.text = "Trang &P / &N"
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()


# --------------------------------------------------------------------------- PDF


def _fonts() -> tuple[str, str, str]:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    from station.common.fonts import font_file

    names = ("RegisterSerif", "RegisterSerif-Bold", "RegisterSerif-Italic")
    if names[0] not in pdfmetrics.getRegisteredFontNames():
        for name, style in zip(names, ("regular", "bold", "italic"), strict=True):
            pdfmetrics.registerFont(TTFont(name, str(font_file(style))))
    return names


#: the last rows of the book printed on the same page as the closing line and
#: the signatures, so the signatures never stand alone on a page
_ROWS_WITH_SIGNATURES = 2
#: the heading of the sheet after the book with what to check; it is not part of the register
NOTES_TITLE = "Ghi chú kiểm tra — không thuộc sổ"


@dataclass(frozen=True)
class _Styles:
    body: Any
    head: Any
    centre: Any
    unit: Any
    title: Any
    line: Any
    sign: Any
    hint: Any
    text: Any


def _styles() -> _Styles:
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle

    regular, bold, italic = _fonts()
    body = ParagraphStyle("cell", fontName=regular, fontSize=9.5, leading=11.5)
    unit = ParagraphStyle("unit", parent=body, fontName=bold, fontSize=12, leading=15)
    line = ParagraphStyle("line", parent=body, fontSize=12, leading=15, alignment=TA_CENTER)
    return _Styles(
        body=body,
        head=ParagraphStyle("head", parent=body, fontName=bold, alignment=TA_CENTER),
        centre=ParagraphStyle("centre", parent=body, alignment=TA_CENTER),
        unit=unit,
        title=ParagraphStyle("title", parent=unit, fontSize=16, leading=20, alignment=TA_CENTER),
        line=line,
        sign=ParagraphStyle("sign", parent=line, fontName=bold),
        hint=ParagraphStyle("hint", parent=line, fontName=italic, fontSize=11),
        text=ParagraphStyle("text", parent=body, fontSize=11.5, leading=14.5),
    )


#: the empty lines under a stamped cell's text: about 2 cm, a signature and a seal
_STAMP_LINES = 5


def _para(value: str, style: Any, room: int = 0) -> Any:
    """A cell's text as a paragraph, with ``room`` empty lines under it."""
    from reportlab.platypus import Paragraph

    escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return Paragraph(escaped + "<br/>&nbsp;" * room, style)


def _signatures(book: Book, styles: _Styles) -> Any:
    from reportlab.lib.units import mm
    from reportlab.platypus import Table

    today = datetime.now().date()
    return Table(
        [
            ["", _para(f"Ngày {today:%d} tháng {today:%m} năm {today:%Y}", styles.hint)],
            [_para("THỦ TRƯỞNG CƠ QUAN", styles.sign), _para("NGƯỜI LẬP SỔ", styles.sign)],
            [
                _para("(Ký, ghi rõ họ tên, đóng dấu)", styles.hint),
                _para("(Ký, ghi rõ họ tên)", styles.hint),
            ],
            ["", ""],
            ["", _para(book.keeper, styles.sign)],
        ],
        colWidths=[120 * mm, 120 * mm],
        rowHeights=[None, None, None, 22 * mm, None],
        style=[("FONTNAME", (0, 0), (-1, -1), _fonts()[0])],
    )


def _held_from(heights: list[float], last_row: int, room: float) -> int:
    """The first row printed with the closing line and the signatures (the
    table's last row): the book's last rows, at most
    :data:`_ROWS_WITH_SIGNATURES`, as many as fit on one page under the column
    headings with them."""
    fixed = heights[0] + heights[1] + heights[-1]
    for count in range(min(_ROWS_WITH_SIGNATURES, last_row - 1), 0, -1):
        if fixed + sum(heights[last_row - count + 1 : last_row + 1]) <= room:
            return last_row - count + 1
    return last_row + 1  # the last row too tall to share a page with them


def _cut(row: list[Any], widths: list[float], limit: float) -> list[list[Any]]:
    """A row of paragraphs as table rows of at most ``limit`` points of text:
    a row taller than that (the longest later columns in the narrowest ones can
    be taller than a page) goes on in the rows under it, with no rule between
    them, so a page break can fall inside it like between any two rows."""
    parts: list[list[Any]] = []
    while True:
        first: list[Any] = []
        rest: list[Any] = []
        for cell, width in zip(row, widths, strict=True):
            pieces = [cell] if cell == "" or cell.wrap(width, limit)[1] <= limit else []
            pieces = pieces or cell.split(width, limit) or [cell]
            first.append(pieces[0])
            rest.append(pieces[1] if len(pieces) > 1 else "")
        parts.append(first)
        if all(cell == "" for cell in rest):
            return parts
        row = rest


def _book_story(book: Book, styles: _Styles, room: float) -> list[Any]:
    """The register itself: heading, the ten columns, the closing line and the
    signatures. The closing and the signatures are the table's last row, held
    with the last rows of the book (NOSPLIT): when they do not fit on a page,
    those rows go over with them, under the repeated column headings. ``room``:
    the height of a page's frame."""
    from reportlab.lib import colors
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer, Table, TableStyle

    regular = _fonts()[0]
    layout = book.layout
    columns = len(layout.columns)
    rows: list[list[Any]] = [
        [_para(c.vi, styles.head) for c in layout.columns],
        [_para(f"({n})", styles.centre) for n in range(1, columns + 1)],
    ]
    widths = [w * mm for w in layout.widths_mm]
    ends: list[int] = []  # each entry's last table row, the rule under it
    for entry in book.entries:
        row = [
            _para(value, styles.centre if column.key in layout.centred else styles.body,
                  _STAMP_LINES if column.key in layout.stamped else 0)
            for column, value in zip(layout.columns, cells(entry, layout), strict=True)
        ]  # fmt: skip
        rows += _cut(row, [w - 6 for w in widths], room / 3 - 6)
        ends.append(len(rows) - 1)
    if not book.entries:
        rows.append([_para(f"(Không có {layout.counted} trong thời gian này)", styles.centre)])
        rows[-1] += [""] * (columns - 1)
        ends.append(len(rows) - 1)
    last_row = len(rows) - 1
    closing = f"Sổ này ghi {len(book.entries)} {layout.counted}"
    span = number_span(book.entries) if layout.spans else ""
    if span:
        closing += f", {span}"
    # one row of one cell, which no page break can cut: the closing line and the signatures
    last = Table(
        [[[_para(closing + ".", styles.text), Spacer(1, 6 * mm), _signatures(book, styles)]]],
        style=[
            ("FONTNAME", (0, 0), (-1, -1), regular),
            ("LEFTPADDING", (0, 0), (-1, -1), 0),
            ("RIGHTPADDING", (0, 0), (-1, -1), 0),
        ],
    )
    rows.append([last] + [""] * (columns - 1))
    closing_row = last_row + 1
    style: list[Any] = [
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("GRID", (0, 0), (-1, 1), 0.6, colors.black),
        ("LINEBEFORE", (0, 2), (-1, last_row), 0.6, colors.black),
        ("LINEAFTER", (-1, 2), (-1, last_row), 0.6, colors.black),
        *(("LINEBELOW", (0, end), (-1, end), 0.6, colors.black) for end in ends),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
        ("SPAN", (0, closing_row), (-1, closing_row)),
        ("LEFTPADDING", (0, closing_row), (-1, closing_row), 0),
        ("TOPPADDING", (0, closing_row), (-1, closing_row), 5 * mm),
    ]
    if not book.entries:
        style.append(("SPAN", (0, 2), (-1, 2)))
    measured: Any = Table(rows, colWidths=widths, repeatRows=2, style=TableStyle(style))
    measured.wrap(sum(widths), room)  # its rows measured, as the page will have them
    heights = list(measured._rowHeights)
    held = _held_from(heights, last_row, room)
    style.append(("NOSPLIT", (0, held), (-1, closing_row)))
    table = Table(rows, colWidths=widths, repeatRows=2, style=TableStyle(style))
    return [
        _para(book.unit.upper(), styles.unit),
        Spacer(1, 6 * mm),
        _para(layout.title, styles.title),
        _para(book.period.text(), styles.line),
        Spacer(1, 6 * mm),
        table,
    ]


def _notes_story(book: Book, styles: _Styles) -> list[Any]:
    """What to check before the register is closed, on its own sheet after the
    book: for the keeper, never bound into the register."""
    from reportlab.lib.units import mm
    from reportlab.platypus import Spacer

    today = datetime.now().date()
    return [
        _para(NOTES_TITLE, styles.title),
        _para(
            f"{book.layout.title.capitalize()} · {book.period.text()} · {book.unit}", styles.line
        ),
        Spacer(1, 6 * mm),
        _para(
            "Những điểm cần kiểm tra trước khi khóa sổ, do trạm quét tìm thấy. Tờ này in ra "
            f"ngày {today:%d/%m/%Y} để người lập sổ đối chiếu; không đóng vào sổ, không ký.",
            styles.text,
        ),
        Spacer(1, 3 * mm),
        *(_para(f"– {flag.message_vi}", styles.text) for flag in book.flags),
    ]


def _story(book: Book, room: float) -> list[Any]:
    from reportlab.platypus import NextPageTemplate, PageBreak

    styles = _styles()
    story = _book_story(book, styles, room)
    if book.flags:
        story += [NextPageTemplate("notes"), PageBreak(), *_notes_story(book, styles)]
    return story


def to_pdf(book: Book) -> bytes:
    """Built twice: the first pass counts the pages for "Trang n / N"."""
    counted = _pdf(book, (0, 0))[1]
    return _pdf(book, counted)[0]


def _pdf(book: Book, totals: tuple[int, int]) -> tuple[bytes, tuple[int, int]]:
    """The PDF, and how many pages the book and the notes after it took. The
    book's pages are "Trang n / N"; the notes' pages are numbered apart, under
    their own title, so no page of them passes for a page of the register."""
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    regular = _fonts()[0]
    counted = {"book": 0, "notes": 0}

    def footer(kind: str, text: str) -> Any:
        def draw(canvas: Any, doc: Any) -> None:
            counted[kind] += 1
            total = totals[0] if kind == "book" else totals[1]
            canvas.saveState()
            canvas.setFont(regular, 9)
            line = text.format(n=counted[kind], of=f" / {total}" if total else "")
            canvas.drawCentredString(doc.pagesize[0] / 2, 8 * mm, line)
            canvas.restoreState()

        return draw

    buf = io.BytesIO()
    doc = BaseDocTemplate(
        buf,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=16 * mm,
        title=book.layout.title.capitalize(),
        author=book.unit,
        subject=book.period.text(),
        creator="scanstation",
        initialFontName=regular,  # no unembedded Helvetica in the page resources
    )
    pad = 6  # reportlab's usual frame padding, on every side
    frame = Frame(
        doc.leftMargin, doc.bottomMargin, doc.width, doc.height,
        leftPadding=pad, rightPadding=pad, topPadding=pad, bottomPadding=pad, id="page",
    )  # fmt: skip
    doc.addPageTemplates([
        PageTemplate("book", [frame], onPage=footer("book", "Trang {n}{of}")),
        PageTemplate("notes", [frame], onPage=footer("notes", NOTES_TITLE + " · tờ {n}{of}")),
    ])  # fmt: skip
    doc.build(_story(book, doc.height - 2 * pad))
    return buf.getvalue(), (counted["book"], counted["notes"])
