"""PDF inputs as scanners and other programs write them, made here with img2pdf and pikepdf."""

from __future__ import annotations

import io
from pathlib import Path

import img2pdf
import pikepdf
from PIL import Image, ImageDraw


def page_image(size: tuple[int, int], mode: str = "RGB") -> Image.Image:
    """A white page with dark bars, like lines of text."""
    image = Image.new(mode, size, "white")
    draw = ImageDraw.Draw(image)
    step = max(4, size[1] // 20)
    for top in range(step, size[1] - step, step):
        draw.rectangle((size[0] // 10, top, size[0] * 9 // 10, top + step // 3), fill="black")
    return image


def scan_pdf(
    path: Path,
    size: tuple[int, int],
    dpi: float,
    *,
    rotate: int = 0,
    user_unit: float | None = None,
    fmt: str = "JPEG",
) -> Path:
    """One page that is one image of ``size`` pixels at ``dpi`` (img2pdf: the page
    is the image's size), turned by ``/Rotate`` and scaled by ``/UserUnit``."""
    buffer = io.BytesIO()
    page_image(size).save(buffer, fmt, dpi=(dpi, dpi))
    data = img2pdf.convert(buffer.getvalue())
    with pikepdf.open(io.BytesIO(data)) as pdf:
        page = pdf.pages[0].obj
        if rotate:
            page.Rotate = rotate
        if user_unit is not None:
            # the same paper drawn in units of user_unit points: the box shrinks
            box = [float(v) / user_unit for v in page.MediaBox]
            page.MediaBox = pikepdf.Array(box)
            page.UserUnit = user_unit
            content = page.Contents.read_bytes()
            page.Contents = pdf.make_stream(
                f"{1 / user_unit:.6f} 0 0 {1 / user_unit:.6f} 0 0 cm\n".encode() + content
            )
        pdf.save(path)
    return path


def text_pdf(path: Path, width_pt: float = 595.0, height_pt: float = 842.0) -> Path:
    """A born-digital page: text in Helvetica and a frame, no image."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont="/Helvetica"
        )
    )
    content = (
        b"BT /F1 24 Tf 72 720 Td (Cong van so 12) Tj ET\n"
        b"2 w 36 36 m 559 36 l 559 806 l 36 806 l h S\n"
    )
    page = pdf.add_blank_page(page_size=(width_pt, height_pt))
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(content)
    pdf.save(path)
    return path


def empty_pdf(path: Path, pages: int = 3) -> Path:
    """Pages with nothing on them (no content, no image, no annotation)."""
    pdf = pikepdf.new()
    for _ in range(pages):
        pdf.add_blank_page(page_size=(595, 842))
    pdf.save(path)
    return path


def xfa_pdf(path: Path, *, needs_rendering: bool = True) -> Path:
    """A dynamic XFA form as Adobe's designer writes one: the form's XML in
    ``/AcroForm /XFA``, ``/NeedsRendering`` in the catalog and one page that
    only says the viewer cannot show it."""
    pdf = pikepdf.new()
    font = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont="/Helvetica"
        )
    )
    page = pdf.add_blank_page(page_size=(612, 792))
    page.obj.Resources = pikepdf.Dictionary(Font=pikepdf.Dictionary(F1=font))
    page.obj.Contents = pdf.make_stream(
        b"BT /F1 12 Tf 72 700 Td (Please wait...) Tj 0 -20 Td (If this message is not eventually "
        b"replaced by the proper contents of the document, your PDF viewer may not be able "
        b"to display this type of document.) Tj ET\n"
    )
    template = pdf.make_stream(
        b'<xdp:xdp xmlns:xdp="http://ns.adobe.com/xdp/"><template '
        b'xmlns="http://www.xfa.org/schema/xfa-template/3.3/"><subform name="form1"/>'
        b"</template></xdp:xdp>"
    )
    pdf.Root.AcroForm = pikepdf.Dictionary(Fields=pikepdf.Array(), XFA=template)
    if needs_rendering:
        pdf.Root.NeedsRendering = True
    pdf.save(path)
    return path


def add_text(path: Path, *, invisible: bool) -> Path:
    """Text over the first page: an OCR layer (text mode 3, invisible) as a
    searchable scan carries, or visible words as a born-digital page has."""
    with pikepdf.open(path, allow_overwriting_input=True) as pdf:
        page = pdf.pages[0]
        font = pdf.make_indirect(
            pikepdf.Dictionary(
                Type=pikepdf.Name.Font, Subtype=pikepdf.Name.Type1, BaseFont="/Helvetica"
            )
        )
        resources = page.obj.Resources
        resources.Font = pikepdf.Dictionary(F9=font)
        mode = 3 if invisible else 0
        page.contents_add(
            pdf.make_stream(f"BT {mode} Tr /F9 10 Tf 20 20 Td (So 12/QD-UBND) Tj ET\n".encode())
        )
        pdf.save(path)
    return path
