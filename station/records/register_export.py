"""The incoming register on paper and in files: a PDF laid out like the paper
register (A4 landscape, Times-compatible Liberation Serif, page numbers, the
closing lines and signatures), and CSV or XLSX with the same ten columns.

The Ghi chú column carries the urgency and secrecy marks ahead of the clerk's
note, as a keeper writes them in the paper register.
"""

from __future__ import annotations

import calendar
import io
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from station.common.fsutil import atomic_write
from station.common.spreadsheet import as_text_cell, csv_bytes
from station.errors import UsageError
from station.records.register import COLUMNS, Entry, Flag

FORMATS = ("pdf", "csv", "xlsx")
#: column widths in mm on an A4 landscape page with 15 mm margins (267 mm)
_WIDTHS_MM = (21, 13, 36, 24, 21, 60, 30, 21, 21, 20)


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
        day = date.fromisoformat(value)
        return day, day
    except ValueError:
        raise UsageError(
            f"{text!r} is not a day (2026-11-25), a month (2026-11) or a year (2026)",
            f"{text!r} không phải ngày (2026-11-25), tháng (2026-11) hay năm (2026)",
        ) from None


@dataclass(frozen=True)
class Book:
    """What an export needs: the entries, what to check, and the heading."""

    entries: Sequence[Entry]
    flags: Sequence[Flag]
    period: Period
    unit: str
    keeper: str = ""


def note_cell(entry: Entry) -> str:
    marks = ", ".join([*entry.urgency, *entry.secrecy])
    return "; ".join(part for part in (marks, entry.note) if part)


def cells(entry: Entry) -> list[str]:
    """One row as text, in the order of :data:`COLUMNS`."""
    return [note_cell(entry) if c.key == "note" else entry.cell(c.key) for c in COLUMNS]


def number_span(entries: Sequence[Entry]) -> str:
    """ "từ số 1 đến số 57" per year, as the closing line of a register says it."""
    years: dict[int, list[int]] = {}
    for entry in entries:
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
    return csv_bytes([[c.vi for c in COLUMNS], *(cells(entry) for entry in book.entries)])


# --------------------------------------------------------------------------- XLSX


def to_xlsx(book: Book) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, Side
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.properties import PageSetupProperties

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = "Sổ đến"
    serif = "Times New Roman"
    sheet.append([book.unit.upper()])
    sheet.append(["SỔ ĐĂNG KÝ VĂN BẢN ĐẾN"])
    sheet.append([book.period.text()])
    sheet.append([])
    sheet.append([c.vi for c in COLUMNS])
    header_row = sheet.max_row
    for row, size, bold in ((1, 12, True), (2, 14, True), (3, 12, False)):
        sheet.cell(row, 1).font = Font(name=serif, size=size, bold=bold)
    thin = Side(style="thin")
    box = Border(left=thin, right=thin, top=thin, bottom=thin)
    for index, width in enumerate(_WIDTHS_MM, start=1):
        cell = sheet.cell(header_row, index)
        cell.font = Font(name=serif, bold=True)
        cell.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        cell.border = box
        sheet.column_dimensions[get_column_letter(index)].width = width * 0.75
    for entry in book.entries:
        values: list[Any] = []
        for column in COLUMNS:
            if column.key == "note":
                values.append(note_cell(entry))
            elif column.key == "number":
                values.append(entry.number)
            elif column.key in ("arrival_date", "issued_date", "transfer_date"):
                values.append(getattr(entry, column.key))
            else:
                values.append(entry.cell(column.key))
        sheet.append(values)
        for index in range(1, len(COLUMNS) + 1):
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


def _story(book: Book) -> list[Any]:
    from reportlab.lib import colors
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import (
        KeepTogether,
        Paragraph,
        Spacer,
        Table,
        TableStyle,
    )

    regular, bold, italic = _fonts()
    body = ParagraphStyle("cell", fontName=regular, fontSize=9.5, leading=11.5)
    head = ParagraphStyle("head", parent=body, fontName=bold, alignment=TA_CENTER)
    centre = ParagraphStyle("centre", parent=body, alignment=TA_CENTER)
    unit = ParagraphStyle("unit", parent=body, fontName=bold, fontSize=12, leading=15)
    title = ParagraphStyle("title", parent=unit, fontSize=16, leading=20, alignment=TA_CENTER)
    line = ParagraphStyle("line", parent=body, fontSize=12, leading=15, alignment=TA_CENTER)
    sign = ParagraphStyle("sign", parent=line, fontName=bold)
    hint = ParagraphStyle("hint", parent=line, fontName=italic, fontSize=11)
    text = ParagraphStyle("text", parent=body, fontSize=11.5, leading=14.5)

    def para(value: str, style: ParagraphStyle = body) -> Paragraph:
        escaped = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        return Paragraph(escaped, style)

    rows: list[list[Any]] = [
        [para(c.vi, head) for c in COLUMNS],
        [para(f"({n})", centre) for n in range(1, len(COLUMNS) + 1)],
    ]
    for entry in book.entries:
        row = cells(entry)
        rows.append([
            para(value, centre if column.key in ("arrival_date", "number", "issued_date",
                                                 "transfer_date") else body)
            for column, value in zip(COLUMNS, row, strict=True)
        ])  # fmt: skip
    if not book.entries:
        rows.append([para("(Không có văn bản đến trong thời gian này)", centre)] + [""] * 9)
    table = Table(rows, colWidths=[w * mm for w in _WIDTHS_MM], repeatRows=2)
    style: list[Any] = [
        ("FONTNAME", (0, 0), (-1, -1), regular),
        ("GRID", (0, 0), (-1, -1), 0.6, colors.black),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("VALIGN", (0, 0), (-1, 0), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
    ]
    if not book.entries:
        style.append(("SPAN", (0, 2), (-1, 2)))
    table.setStyle(TableStyle(style))

    story: list[Any] = [
        para(book.unit.upper(), unit),
        Spacer(1, 6 * mm),
        para("SỔ ĐĂNG KÝ VĂN BẢN ĐẾN", title),
        para(book.period.text(), line),
        Spacer(1, 6 * mm),
        table,
        Spacer(1, 5 * mm),
    ]
    closing = f"Sổ này ghi {len(book.entries)} văn bản đến"
    if book.entries:
        closing += f", {number_span(book.entries)}"
    story.append(para(closing + ".", text))
    if book.flags:
        story.append(Spacer(1, 3 * mm))
        story.append(para("Những điểm cần kiểm tra trước khi khóa sổ:", text))
        story += [para(f"– {flag.message_vi}", text) for flag in book.flags]
    today = datetime.now().date()
    signatures = Table(
        [
            ["", para(f"Ngày {today:%d} tháng {today:%m} năm {today:%Y}", hint)],
            [para("THỦ TRƯỞNG CƠ QUAN", sign), para("NGƯỜI LẬP SỔ", sign)],
            [para("(Ký, ghi rõ họ tên, đóng dấu)", hint), para("(Ký, ghi rõ họ tên)", hint)],
            ["", ""],
            ["", para(book.keeper, sign)],
        ],
        colWidths=[120 * mm, 120 * mm],
        rowHeights=[None, None, None, 22 * mm, None],
        style=[("FONTNAME", (0, 0), (-1, -1), regular)],
    )
    story += [Spacer(1, 6 * mm), KeepTogether(signatures)]

    return story


def to_pdf(book: Book) -> bytes:
    """Built twice: the first pass counts the pages for "Trang n / N"."""
    pages = _pdf(book, 0)[1]
    return _pdf(book, pages)[0]


def _pdf(book: Book, pages: int) -> tuple[bytes, int]:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import SimpleDocTemplate

    regular = _fonts()[0]

    def number(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(regular, 9)
        total = f" / {pages}" if pages else ""
        canvas.drawCentredString(doc.pagesize[0] / 2, 8 * mm, f"Trang {doc.page}{total}")
        canvas.restoreState()

    buf = io.BytesIO()
    doc = SimpleDocTemplate(
        buf,
        pagesize=landscape(A4),
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=16 * mm,
        title="Sổ đăng ký văn bản đến",
        author=book.unit,
        subject=book.period.text(),
        creator="scanstation",
        initialFontName=regular,  # no unembedded Helvetica in the page resources
    )
    doc.build(_story(book), onFirstPage=number, onLaterPages=number)
    return buf.getvalue(), int(doc.page)
