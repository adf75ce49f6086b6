"""Cells for spreadsheet files: text stays text, never a formula.

Every exported value may come from paper (OCR'd subjects, barcode text) or from
a station's payload, so all of it is untrusted. A spreadsheet program opening a
CSV runs a cell that begins with ``=``, ``+``, ``-`` or ``@`` as a formula (and
some strip a leading tab or carriage return first); such a cell is written with
a leading apostrophe, which spreadsheet programs take as "this is text". XLSX
cells are typed, so there a string is simply stored as a string cell.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any

#: first characters that make a spreadsheet program read a CSV cell as a formula
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: Any) -> Any:
    """``value`` safe for a CSV cell: text that could start a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """Rows as CSV in UTF-8 with a byte order mark (so spreadsheet programs read
    Vietnamese marks), CRLF line ends, every cell passed through ``csv_cell``."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\r\n")
    for row in rows:
        writer.writerow([csv_cell(value) for value in row])
    return ("\ufeff" + buf.getvalue()).encode("utf-8")


def as_text_cell(cell: Any) -> None:
    """Make an openpyxl cell holding a string a text cell, even when the string
    begins with "=" (openpyxl would otherwise write it as a formula)."""
    if isinstance(cell.value, str):
        cell.data_type = "s"


def xlsx_bytes(rows: Iterable[Sequence[Any]], title: str) -> bytes:
    """Rows as one XLSX sheet: the first row bold and frozen, every string a
    text cell (never a formula), columns wide enough to read."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title[:31]
    widths: dict[int, int] = {}
    for number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            cell = sheet.cell(row=number, column=column, value=value)
            as_text_cell(cell)
            if number == 1:
                cell.font = Font(bold=True)
            widths[column] = max(widths.get(column, 8), min(60, len(str(value or "")) + 2))
    for column, width in widths.items():
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
