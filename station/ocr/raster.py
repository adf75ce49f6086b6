"""An OCRmyPDF plugin: the page image Tesseract reads, written fast.

OCRmyPDF renders every page to a PNG for Tesseract. Its own renderer saves
that PNG at zlib's default level, which costs about 0.6 s for a 200 dpi A4
colour page: a third of Tesseract's own time. The station's pages are one
JPEG each, drawn over the whole page at its own resolution, so when the page
is exactly that and OCRmyPDF asks for that resolution, Tesseract is handed
the JPEG itself (Leptonica and Pillow read files by content, not by name).
Any other page is rendered with pypdfium2 and written with the fastest PNG
compression. See docs/benchmarks.md (OCR stage).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pikepdf
import pypdfium2
from ocrmypdf import hookimpl
from PIL import Image

_GREY = {"pnggray", "pngmono", "pngmonod", "jpeggray"}


@hookimpl
def rasterize_pdf_page(
    input_file: Path,
    output_file: Path,
    raster_device: str,
    raster_dpi: Any,
    pageno: int,
    page_dpi: Any,
    rotation: int | None,
    filter_vector: bool,
    stop_on_soft_error: bool,
    options: Any,
    use_cropbox: bool,
) -> Path:
    device = raster_device.lower()
    if (
        not rotation
        and device == "png16m"
        and _copy_jpeg(input_file, pageno, raster_dpi, output_file)
    ):
        return output_file
    pdf = pypdfium2.PdfDocument(str(input_file))
    try:
        page = pdf[pageno - 1]
        if not use_cropbox:
            page.set_cropbox(*page.get_mediabox())
        if rotation:
            page.set_rotation(-rotation % 360)  # OCRmyPDF counts counter-clockwise
        bitmap = page.render(scale=float(raster_dpi.to_scalar()) / 72.0, grayscale=device in _GREY)
        image: Image.Image = bitmap.to_pil().copy()
        bitmap.close()
        page.close()
    finally:
        pdf.close()
    if device in ("pngmono", "pngmonod"):
        image = image.convert("1")
    elif device in _GREY:
        image = image.convert("L")
    elif image.mode != "RGB":
        image = image.convert("RGB")
    dpi = page_dpi or raster_dpi
    image.save(output_file, "PNG", compress_level=1, dpi=(float(dpi.x), float(dpi.y)))
    return output_file


def _copy_jpeg(input_file: Path, pageno: int, raster_dpi: Any, output_file: Path) -> bool:
    """Write the page's own JPEG when it is the whole page at ``raster_dpi``."""
    with pikepdf.open(input_file) as pdf:
        page = pdf.pages[pageno - 1]
        images = list(page.get_images().values())
        if len(images) != 1 or images[0].get("/Filter") != pikepdf.Name.DCTDecode:
            return False
        image = images[0]
        if image.get("/ColorSpace") != pikepdf.Name.DeviceRGB or "/Rotate" in page.obj:
            return False
        box = [float(v) for v in page.mediabox]
        width = (box[2] - box[0]) * float(raster_dpi.x) / 72.0
        height = (box[3] - box[1]) * float(raster_dpi.y) / 72.0
        if abs(int(image.Width) - width) > 1 or abs(int(image.Height) - height) > 1:
            return False
        output_file.write_bytes(image.read_raw_bytes())
    return True
