"""Registration label sheets and separator sheets, as print-ready PDFs.

Labels carry the Số đến as ``DEN-YYYY-NNNNNN`` in Code 128 (or a QR code) with
the same text in print below, and the unit's name above. Sheets follow common
A4 sticker layouts; every bar is a whole number of printer dots at 600 dpi so
the code prints crisp and reads back from a 200 dpi scan.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from station.common.fonts import font
from station.common.fsutil import atomic_write
from station.errors import UsageError

PRINT_DPI = 600
A4_MM = (210.0, 297.0)


@dataclass(frozen=True)
class SheetLayout:
    name: str
    columns: int
    rows: int
    label_mm: tuple[float, float]  # width, height of one sticker
    margin_mm: tuple[float, float]  # left, top of the first sticker
    gap_mm: tuple[float, float] = (0.0, 0.0)  # between stickers
    description: str = ""


LAYOUTS: dict[str, SheetLayout] = {
    layout.name: layout
    for layout in (
        SheetLayout("a4-3x8", 3, 8, (70.0, 37.0), (0.0, 0.5), description="24 labels 70×37 mm"),
        SheetLayout("a4-3x7", 3, 7, (70.0, 42.3), (0.0, 0.45), description="21 labels 70×42.3 mm"),
        SheetLayout(
            "a4-2x7", 2, 7, (99.1, 38.1), (4.65, 15.15), (2.5, 0.0), "14 labels 99.1×38.1 mm"
        ),
        SheetLayout(
            "a4-4x10", 4, 10, (48.5, 25.4), (8.0, 21.5), (0.0, 0.0), "40 labels 48.5×25.4 mm (QR)"
        ),
    )
}


def registration_text(year: int, number: int, prefix: str = "DEN") -> str:
    return f"{prefix}-{year:04d}-{number:06d}"


def code_image(text: str, kind: str, module_px: int, height_px: int | None = None) -> Image.Image:
    """A barcode as a bilevel image with quiet zones: ``kind`` is code128 or qr."""
    import zxingcpp

    fmt = zxingcpp.BarcodeFormat.QRCode if kind == "qr" else zxingcpp.BarcodeFormat.Code128
    symbol = np.array(zxingcpp.create_barcode(text, fmt).to_image(scale=module_px))
    image = Image.fromarray(symbol).convert("L")
    if kind != "qr" and height_px is not None:
        image = image.resize((image.width, height_px), Image.Resampling.NEAREST)
    return image


def _mm(value: float, dpi: int = PRINT_DPI) -> int:
    return round(value / 25.4 * dpi)


def draw_label(
    text: str, unit: str, size_mm: tuple[float, float], kind: str = "code128"
) -> Image.Image:
    """One sticker at 600 dpi: unit name, the code, the text."""
    width, height = _mm(size_mm[0]), _mm(size_mm[1])
    label = Image.new("L", (width, height), 255)
    pen = ImageDraw.Draw(label)
    small = font("regular", _mm(2.6))
    big = font("bold", _mm(3.6))
    pad = _mm(3)
    if unit:
        pen.text((width // 2, pad // 2), unit[:48], font=small, fill=0, anchor="ma")
    top = pad // 2 + _mm(3.5) if unit else pad
    if kind == "qr":
        side = height - top - pad // 2
        module = max(1, side // 29)  # version 1-2 with quiet zone
        code = code_image(text, "qr", module)
        label.paste(code, (pad, top))
        room = width - code.width - 2 * pad - _mm(1)
        size = _mm(3.6)
        while size > _mm(1.5) and font("bold", size).getlength(text) > room:
            size -= 4
        x = pad + code.width + _mm(1)
        pen.text((x, top + code.height // 3), text, font=font("bold", size), fill=0)
        pen.text((x, top + code.height // 3 + size + _mm(1)), "Số đến", font=small, fill=0)
        return label
    modules = code_image(text, "code128", 1).width
    module = max(2, (width - 2 * pad) // modules)
    bars_h = height - top - _mm(7)
    code = code_image(text, "code128", module, bars_h)
    label.paste(code, ((width - code.width) // 2, top))
    pen.text((width // 2, top + bars_h + _mm(0.8)), text, font=big, fill=0, anchor="ma")
    return label


def label_sheets(
    texts: Sequence[str], layout: SheetLayout, unit: str, kind: str = "code128"
) -> list[Image.Image]:
    per_sheet = layout.columns * layout.rows
    sheets = []
    for first in range(0, len(texts), per_sheet):
        sheet = Image.new("L", (_mm(A4_MM[0]), _mm(A4_MM[1])), 255)
        for slot, text in enumerate(texts[first : first + per_sheet]):
            col, row = slot % layout.columns, slot // layout.columns
            x = layout.margin_mm[0] + col * (layout.label_mm[0] + layout.gap_mm[0])
            y = layout.margin_mm[1] + row * (layout.label_mm[1] + layout.gap_mm[1])
            sheet.paste(draw_label(text, unit, layout.label_mm, kind), (_mm(x), _mm(y)))
        sheets.append(sheet.point(lambda v: 255 if v > 127 else 0).convert("1"))
    return sheets


#: what a cover sheet says it is: direction -> (title, note)
COVERS = {
    "outgoing": (
        "VĂN BẢN ĐI",
        "Đặt trang này trên cùng xấp văn bản đi / cover sheet: outgoing documents",
    ),
    "incoming": (
        "VĂN BẢN ĐẾN",
        "Đặt trang này trên cùng xấp văn bản đến / cover sheet: incoming documents",
    ),
}


def cover_sheet(direction: str, text: str, dpi: int = PRINT_DPI) -> Image.Image:
    """A cover sheet (docs/outgoing.md#cover-sheets): on top of a stack, it makes
    the batch outgoing or incoming; dropped like a separator."""
    title, note = COVERS[direction]
    return separator_sheet(text, dpi, title=title, note=note)


def separator_sheet(
    text: str = "PATCHT",
    dpi: int = PRINT_DPI,
    *,
    title: str = "TRANG PHÂN CÁCH VĂN BẢN",
    note: str = "Đặt trang này giữa hai văn bản / separator sheet between documents",
) -> Image.Image:
    """A separator sheet: the code three times (one may be torn or soiled), and what it is."""
    width, height = _mm(A4_MM[0], dpi), _mm(A4_MM[1], dpi)
    page = Image.new("L", (width, height), 255)
    pen = ImageDraw.Draw(page)
    heading = font("bold", _mm(9, dpi))
    small = font("regular", _mm(4.5, dpi))
    module = max(2, _mm(0.5, dpi))
    code = code_image(text, "code128", module, _mm(28, dpi))
    for y_mm in (40.0, 135.0, 230.0):
        page.paste(code, ((width - code.width) // 2, _mm(y_mm, dpi)))
        pen.text((width // 2, _mm(y_mm + 30, dpi)), text, font=small, fill=0, anchor="ma")
    pen.text((width // 2, _mm(15, dpi)), title, font=heading, fill=0, anchor="ma")
    pen.text((width // 2, _mm(27, dpi)), note, font=small, fill=0, anchor="ma")
    return page


def write_pdf(pages: Iterable[Image.Image], path: Path, dpi: int = PRINT_DPI) -> int:
    """Pages as one PDF at ``dpi`` (A4 at 600 dpi: 100 % scale when printed)."""
    import io

    images = list(pages)
    if not images:
        raise UsageError("nothing to print", "Không có gì để in")
    buf = io.BytesIO()
    images[0].save(buf, "PDF", resolution=float(dpi), save_all=True, append_images=images[1:])
    atomic_write(path, buf.getvalue(), mode=0o644)
    return len(images)
