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


def xlsx_bytes(sheets: Sequence[tuple[str, Sequence[Sequence[Any]]]]) -> bytes:
    """Sheets, each a title and its rows (the header first), as an XLSX workbook:
    the header bold, wrapped and frozen, numbers as numbers, every string a text
    cell (never a formula), columns as wide as their text (within reason)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font
    from openpyxl.utils import get_column_letter

    workbook = Workbook()
    first = workbook.active
    assert first is not None
    workbook.remove(first)
    for title, rows in sheets:
        sheet = workbook.create_sheet(title[:31])
        for row in rows:
            sheet.append(list(row))
            for cell in sheet[sheet.max_row]:
                as_text_cell(cell)
        widths: dict[int, int] = {}
        for row in rows[1:]:
            for index, value in enumerate(row, start=1):
                widths[index] = max(widths.get(index, 8), len(str(value)) + 2)
        for index, cell in enumerate(sheet[1], start=1):
            cell.font = Font(bold=True)
            cell.alignment = Alignment(wrap_text=True, vertical="top")
            sheet.column_dimensions[get_column_letter(index)].width = min(
                max(widths.get(index, 8), 12), 48
            )
        sheet.freeze_panes = "A2"
    buf = io.BytesIO()
    workbook.save(buf)
    return buf.getvalue()
