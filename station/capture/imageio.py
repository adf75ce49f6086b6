"""Reading page images safely: size limits before decoding, clear errors for bad files.

Every image that enters the station from outside (a folder, an upload, a PDF)
goes through here, so corrupt files, decompression bombs and huge pages are
refused before they cost memory.

A file is known by its first bytes, never by its name: only PNG, JPEG, TIFF
and PDF content is decoded, each by its own decoder alone (Pillow is never left
to guess). PostScript and EPS in particular never reach Ghostscript: Pillow's
EPS plugin is never asked, and its Ghostscript call is switched off in every
process that imports this module. Files from the hot folder are decoded in a
child process with a time and memory limit (:mod:`station.capture.decoder`).
"""

from __future__ import annotations

import contextlib
import errno
import io
import math
import numbers
import os
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from PIL import EpsImagePlugin, Image, ImageSequence, UnidentifiedImageError

from station.common.logsafe import printable
from station.errors import InputError, InputNotFaithful
from station.records.verify import MIN_DPI

#: Largest page accepted, in pixels: A3 at 600 dpi is about 70 MP.
MAX_PIXELS = 100_000_000
#: Largest number of frames taken from one file (multi-page TIFF or PDF).
MAX_FRAMES = 2000
#: Largest input file, in bytes.
MAX_FILE_BYTES = 512 * 1024 * 1024

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
PDF_SUFFIXES = {".pdf"}
SUPPORTED_SUFFIXES = IMAGE_SUFFIXES | PDF_SUFFIXES

# PIL's own guard stays as a second line of defence, set to our limit.
Image.MAX_IMAGE_PIXELS = MAX_PIXELS
# No PostScript interpreter, ever: Pillow's EPS plugin runs Ghostscript on what it
# is given; ``False`` makes it refuse ("Unable to locate Ghostscript") instead.
EpsImagePlugin.gs_binary = False

#: The decoders, chosen by a file's first bytes; Pillow's format name for each.
MAGIC: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG"),
    (b"\xff\xd8\xff", "JPEG"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"II+\x00", "TIFF"),  # BigTIFF
    (b"MM\x00+", "TIFF"),
    (b"%PDF-", "PDF"),
)
#: where a PDF's header may start (PDF readers look in the first KiB)
PDF_HEADER_WITHIN = 1024
#: what a refused file's content looks like, for the reason given
_KNOWN_OTHERS: tuple[tuple[bytes, str], ...] = (
    (b"%!", "PostScript"),
    (b"\xc5\xd0\xd3\xc6", "PostScript (EPS)"),
    (b"\x04%!", "PostScript"),
    (b"GIF8", "GIF"),
    (b"BM", "BMP"),
    (b"RIFF", "RIFF (WebP)"),
)


@dataclass(frozen=True)
class EncodedFrame:
    """One page as an encoded image file, ready for the store."""

    data: bytes
    ext: str
    width: int
    height: int
    dpi: int


def _bad(path: Path | str, why_en: str, why_vi: str) -> InputError:
    # the name and a decoder's words are not ours: one line each, whatever they hold
    name, why_en, why_vi = printable(path), printable(why_en), printable(why_vi)
    return InputError(f"{name}: {why_en}", f"{name}: {why_vi}", path=str(path))


def sniff(head: bytes) -> str | None:
    """The decoder for a file starting with ``head`` (Pillow's format name, or
    "PDF"), or ``None``: the file is not one the station reads."""
    for magic, kind in MAGIC:
        if head.startswith(magic):
            return kind
    if b"%PDF-" in head[:PDF_HEADER_WITHIN]:
        return "PDF"
    return None


def _not_ours(path: Path, head: bytes) -> InputError:
    kind = next((name for magic, name in _KNOWN_OTHERS if head.startswith(magic)), None)
    is_pdf = path.suffix.lower() in PDF_SUFFIXES
    what_en = "not a readable PDF" if is_pdf else "not a readable image"
    what_vi = "không phải PDF đọc được" if is_pdf else "không phải ảnh đọc được"
    if not head:
        return _bad(path, f"{what_en}: the file is empty", f"{what_vi}: tệp rỗng")
    if kind is None:
        return _bad(
            path,
            f"{what_en}: its content is not PNG, JPEG, TIFF or PDF",
            f"{what_vi}: nội dung không phải PNG, JPEG, TIFF hay PDF",
        )
    return _bad(
        path,
        f"{what_en}: its content is {kind}, which is not accepted (use PNG, JPEG, TIFF or PDF)",
        f"{what_vi}: nội dung là {kind}, loại không được nhận (dùng PNG, JPEG, TIFF hoặc PDF)",
    )


def encode_page(
    image: Image.Image, dpi: int, file_format: str = "jpeg", quality: int = 92
) -> EncodedFrame:
    """Encode a captured page for the store.

    JPEG (4:4:4, no chroma subsampling, so red seals and thin strokes keep their
    colour) keeps up with a fast duplex scanner: about 20 ms and 0.8 MB for an A4
    colour side at 200 dpi, where lossless PNG of the same noisy scan takes over
    0.4 s and 7 MB (bench/capture.py). Bilevel pages are always PNG: lossless
    and tiny. ``file_format="png"`` keeps every page lossless.
    """
    if image.mode not in ("RGB", "L", "1"):
        image = image.convert("RGB")
    buf = io.BytesIO()
    if image.mode == "1" or file_format == "png":
        image.save(buf, format="PNG", compress_level=1, dpi=(dpi, dpi))
        ext = "png"
    else:
        image.save(buf, format="JPEG", quality=quality, subsampling=0, dpi=(dpi, dpi))
        ext = "jpg"
    return EncodedFrame(buf.getvalue(), ext, image.width, image.height, dpi)


def _dpi_of(image: Image.Image, default: int) -> int:
    value = image.info.get("dpi")
    # JPEG and PNG report numbers, TIFF an IFDRational: all of them are Real
    if isinstance(value, tuple) and value and isinstance(value[0], numbers.Real):
        dpi = float(value[0])
        if 50 <= dpi <= 4800:
            return round(dpi)
    return default


def _too_large(path: Path | str, width: int, height: int) -> InputError:
    return _bad(
        path,
        f"image of {width}x{height} pixels is larger than the limit of {MAX_PIXELS:,}",
        f"ảnh {width}x{height} điểm vượt giới hạn {MAX_PIXELS:,} điểm",
    )


def _check_size(path: Path | str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise _bad(path, "image has no pixels", "ảnh không có điểm ảnh")
    if width * height > MAX_PIXELS:
        raise _too_large(path, width, height)


def _open(path: Path, follow_symlinks: bool) -> BinaryIO:
    """The file, opened once: a regular file within the size limit, and with
    ``follow_symlinks=False`` never a symbolic link (checked by the kernel on
    open, so a link swapped in after a listing is refused too)."""
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC
    if not follow_symlinks:
        flags |= os.O_NOFOLLOW
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP and not follow_symlinks:
            raise _bad(
                path,
                "a symbolic link: not followed",
                "là liên kết tượng trưng: không đọc theo",
            ) from None
        raise _bad(path, f"cannot read: {exc.strerror}", f"không đọc được: {exc.strerror}") from exc
    file = os.fdopen(fd, "rb")
    st = os.fstat(fd)
    if not stat.S_ISREG(st.st_mode):
        file.close()
        raise _bad(path, "not a regular file", "không phải tệp thường")
    if st.st_size > MAX_FILE_BYTES:
        file.close()
        raise _bad(path, "file is too large", "tệp quá lớn")
    return file


def read_frames(
    path: Path,
    default_dpi: int,
    file_format: str = "jpeg",
    quality: int = 92,
    *,
    follow_symlinks: bool = True,
) -> Iterator[EncodedFrame]:
    """Every page of an image or PDF file, in order, as encoded frames.

    The content decides the decoder (:func:`sniff`); a file whose first bytes
    are not PNG, JPEG, TIFF or PDF is refused whatever its name says.
    JPEG and PNG files with one frame are passed through byte for byte (no second
    JPEG generation); TIFF frames and PDF pages are encoded with
    :func:`encode_page`.
    """
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise _bad(
            path,
            "unsupported file type (use PNG, JPEG, TIFF or PDF)",
            "không hỗ trợ loại tệp này (dùng PNG, JPEG, TIFF hoặc PDF)",
        )
    with _open(path, follow_symlinks) as file:
        try:
            head = file.read(PDF_HEADER_WITHIN)
            file.seek(0)
        except OSError as exc:
            raise _bad(
                path, f"cannot read: {exc.strerror}", f"không đọc được: {exc.strerror}"
            ) from exc
        kind = sniff(head)
        if kind is None:
            raise _not_ours(path, head)
        if kind == "PDF":
            yield from _pdf_frames(path, file, default_dpi, file_format, quality)
        else:
            yield from _image_frames(path, file, kind, default_dpi, file_format, quality)


def _image_frames(
    path: Path, file: BinaryIO, kind: str, default_dpi: int, file_format: str, quality: int
) -> Iterator[EncodedFrame]:
    try:
        data = file.read()
    except OSError as exc:
        raise _bad(path, f"cannot read: {exc.strerror}", f"không đọc được: {exc.strerror}") from exc
    try:
        with warnings.catch_warnings():
            # PIL's own bomb guard (set to MAX_PIXELS above) warns at open: refuse instead
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # the one decoder its first bytes named: Pillow tries no other plugin
            image = Image.open(io.BytesIO(data), formats=[kind])
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise _bad(
            path,
            f"image is larger than the limit of {MAX_PIXELS:,} pixels",
            f"ảnh vượt giới hạn {MAX_PIXELS:,} điểm ảnh",
        ) from None
    except UnidentifiedImageError:
        raise _bad(path, "not a readable image", "không phải ảnh đọc được") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _bad(
            path, f"corrupt or truncated image ({exc})", f"ảnh hỏng hoặc bị cắt cụt ({exc})"
        ) from None
    try:
        frames = getattr(image, "n_frames", 1)
        if frames > MAX_FRAMES:
            raise _bad(path, "too many pages in one file", "quá nhiều trang trong một tệp")
        if frames == 1 and image.format in ("JPEG", "PNG"):
            width, height = image.size
            _check_size(path, width, height)
            if image.format == "JPEG":
                # decoded at 1/8 scale: every byte of the scan is still read (a
                # truncated file fails), but a page at the limit costs 6 MB, not 400
                image.draft(image.mode, (width // 8, height // 8))
            image.load()  # full decode: truncated files fail here, not later
            yield EncodedFrame(
                data,
                "jpg" if image.format == "JPEG" else "png",
                width,
                height,
                _dpi_of(image, default_dpi),
            )
            return
        for frame in ImageSequence.Iterator(image):
            _check_size(path, frame.width, frame.height)
            dpi = _dpi_of(frame, default_dpi)
            frame.load()
            yield encode_page(frame.copy(), dpi, file_format, quality)
    except InputError:
        raise
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise _bad(
            path, f"corrupt or truncated image ({exc})", f"ảnh hỏng hoặc bị cắt cụt ({exc})"
        ) from None


#: Highest resolution a PDF page is taken at, in dpi: a scan made finer (a
#: 1200 or 2400 dpi page) is reduced to it; 600 dpi keeps the finest print.
PDF_MAX_DPI = 600
#: Share of the page an image must cover to set the page's resolution.
_MIN_COVER = 0.05
#: Adobe's words on the page of a dynamic XFA form a viewer cannot build.
_XFA_PLACEHOLDER = "may not be able to display this type of document"
#: Largest ``/UserUnit`` taken (PDF 2.0 sets none; larger is not a page but an error)
_MAX_USER_UNIT = 75_000.0


def pdf_dpi(image_dpi: float | None, profile_dpi: int, *, drawn: bool = False) -> int:
    """The resolution a PDF page is taken at, before the pixel limit.

    A page of images only (a scan, with at most an invisible OCR layer) is taken
    at its finest image's own resolution, at most :data:`PDF_MAX_DPI`: a 2400 dpi
    scan at 600 dpi, a 300 dpi one at 300. One below Decree 30's 200 dpi is not
    raised to it (the pixels are not there: the page is flagged
    ``low_resolution``). A page ``drawn`` with visible text or vector graphics
    is rendered at the profile's resolution, at least 200 dpi, or at its finest
    image's if that is finer; never above :data:`PDF_MAX_DPI`.
    """
    rendered = min(max(profile_dpi, MIN_DPI), PDF_MAX_DPI)
    if image_dpi is None:
        return rendered
    own = max(1, min(round(image_dpi), PDF_MAX_DPI))
    return max(own, rendered) if drawn else own


def capped_dpi(dpi: int, width_in: float, height_in: float) -> int | None:
    """``dpi``, lowered as far as needed for a page of ``width_in`` x ``height_in``
    inches to stay within :data:`MAX_PIXELS`; ``None`` when that would take it
    below 200 dpi (or below ``dpi`` itself if that is lower): too big a page."""
    for value in (dpi, math.floor(math.sqrt(MAX_PIXELS / max(width_in * height_in, 1e-9)))):
        if value < min(dpi, MIN_DPI):
            return None
        if round(width_in * value) * round(height_in * value) <= MAX_PIXELS:
            return value
    return None


@dataclass(frozen=True)
class _PdfFacts:
    """What the catalog and page dictionaries say that PDFium does not tell."""

    needs_rendering: bool = False
    xfa: bool = False
    #: ``/UserUnit`` of each page that has one (points per 1/72 inch)
    user_units: dict[int, float] = field(default_factory=dict)
    #: pages whose one image is a JPEG that may be passed through (no /Decode, no mask)
    plain_jpeg: frozenset[int] = frozenset()


def _pdf_facts(file: BinaryIO) -> _PdfFacts:
    """The catalog's form entries and every page's ``/UserUnit``, read with
    pikepdf. A file it cannot parse gets no facts: PDFium decides alone."""
    import pikepdf

    try:
        with pikepdf.open(file) as pdf:
            root = pdf.Root
            needs: object = root.get("/NeedsRendering")  # a Python bool when it is one
            form = root.get("/AcroForm")
            xfa = isinstance(form, pikepdf.Dictionary) and "/XFA" in form
            units: dict[int, float] = {}
            plain: set[int] = set()
            for index, page in enumerate(pdf.pages):
                try:
                    unit = float(page.obj.get("/UserUnit", 1))
                except (TypeError, ValueError):
                    unit = 1.0
                if math.isfinite(unit) and 0 < unit <= _MAX_USER_UNIT and unit != 1:
                    units[index] = unit
                images = list(page.get_images(recursive=False).values())
                if len(images) == 1 and _plain_jpeg(images[0]):
                    plain.add(index)
            return _PdfFacts(needs is True, xfa, units, frozenset(plain))
    except Exception:  # noqa: BLE001 - whatever qpdf cannot parse, PDFium decides alone
        return _PdfFacts()


def _plain_jpeg(image: Any) -> bool:
    from pikepdf import Array

    filters = image.get("/Filter")
    if filters is None or (isinstance(filters, Array) and len(filters) != 1):
        return False
    name = str(filters[0] if isinstance(filters, Array) else filters)
    return name == "/DCTDecode" and not any(
        key in image for key in ("/Decode", "/SMask", "/Mask", "/DecodeParms")
    )


@dataclass(frozen=True)
class _PdfPage:
    width_in: float  # as shown (after /Rotate)
    height_in: float
    image_dpi: float | None  # the resolution of its finest image (None: no image)
    drawn: bool  # visible text or drawings
    passthrough: bytes | None  # the scan's JPEG, when it can be taken as it is
    unit: float  # /UserUnit

    @property
    def image_dpi_rounded(self) -> int | None:
        return None if self.image_dpi is None else round(self.image_dpi)


def _pdf_page(page: Any, unit: float, plain_jpeg: bool) -> _PdfPage:
    """A page's size in inches, the resolution of its finest image, whether it
    has visible text or drawings, and its scan's JPEG when that may be passed through."""
    import pypdfium2 as pdfium
    import pypdfium2.raw as pdfium_c

    width_pt, height_pt = page.get_size()
    area_pt = max(width_pt * height_pt, 1e-9)
    finest: float | None = None
    images: list[Any] = []
    # visible text, paths, shadings, forms or annotations (form fields, stamps)
    drawn = pdfium_c.FPDFPage_GetAnnotCount(page) > 0
    for obj in page.get_objects(max_depth=1):
        if obj.type == pdfium_c.FPDF_PAGEOBJ_TEXT:
            # an OCR layer (a searchable scan) is invisible text: still a scan
            mode = pdfium_c.FPDFTextObj_GetTextRenderMode(obj)
            drawn = drawn or mode != pdfium_c.FPDF_TEXTRENDERMODE_INVISIBLE
            continue
        if obj.type != pdfium_c.FPDF_PAGEOBJ_IMAGE:
            drawn = True
            continue
        left, bottom, right, top = obj.get_bounds()
        covered = (right - left) * (top - bottom)
        px_width, px_height = obj.get_px_size()
        if covered < _MIN_COVER * area_pt or px_width * px_height <= 0:
            continue  # an icon or a hidden image says nothing of the page's resolution
        dpi = math.sqrt(px_width * px_height / covered) * 72 / unit
        finest = dpi if finest is None else max(finest, dpi)
        images.append((obj, covered))
    passthrough = None
    if len(images) == 1 and not drawn and plain_jpeg and page.get_rotation() == 0:
        scan, covered = images[0]
        matrix = scan.get_matrix()
        whole = abs(covered / area_pt - 1) < 0.01  # the image is the page
        if whole and matrix.a > 0 and matrix.d > 0 and matrix.b == 0 and matrix.c == 0:
            with contextlib.suppress(pdfium.PdfiumError):
                passthrough = bytes(scan.get_data(decode_simple=False))
    inch = 72 / unit
    return _PdfPage(width_pt / inch, height_pt / inch, finest, drawn, passthrough, unit)


def _empty(page: Any) -> bool:
    """Whether a page has nothing on it: no object (text, image, path, form) and no annotation."""
    import pypdfium2.raw as pdfium_c

    objects: int = pdfium_c.FPDFPage_CountObjects(page)
    annotations: int = pdfium_c.FPDFPage_GetAnnotCount(page)
    return objects == 0 and annotations == 0


def _jpeg_as_is(data: bytes, dpi: int) -> EncodedFrame | None:
    """A scan's JPEG taken byte for byte, if it is a plain grey or RGB JPEG."""
    try:
        image = Image.open(io.BytesIO(data), formats=["JPEG"])
        if image.mode not in ("L", "RGB") or image.width * image.height > MAX_PIXELS:
            return None
        image.load()
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        return None
    return EncodedFrame(data, "jpg", image.width, image.height, dpi)


def _not_faithful(path: Path, why_en: str, why_vi: str) -> InputNotFaithful:
    name, why_en, why_vi = printable(path), printable(why_en), printable(why_vi)
    return InputNotFaithful(f"{name}: {why_en}", f"{name}: {why_vi}", path=str(path))


def _refuse_unfaithful(path: Path, pdf: Any, facts: _PdfFacts) -> None:
    """Refuse a PDF whose pages do not hold what it shows: a dynamic XFA form
    (its pages are built by Adobe Reader from the form's XML), or a file whose
    every page is empty."""
    if facts.xfa and not facts.needs_rendering and len(pdf):
        page = pdf[0]
        textpage = page.get_textpage()
        try:
            placeholder = _XFA_PLACEHOLDER in " ".join(textpage.get_text_range().split())
        finally:
            textpage.close()
            page.close()
    else:
        placeholder = False
    if facts.needs_rendering or placeholder:
        raise _not_faithful(
            path,
            "a dynamic XFA form: its pages are built by Adobe Reader and are not in the file;"
            " print it to a PDF and use that file",
            "là biểu mẫu XFA động: trang chỉ được dựng trong Adobe Reader, không có trong tệp;"
            " hãy in ra tệp PDF rồi dùng tệp đó",
        )
    for index in range(len(pdf)):
        page = pdf[index]
        try:
            if not _empty(page):
                return
        finally:
            page.close()
    if facts.xfa:
        why_en, why_vi = "a form whose pages are empty (XFA)", "biểu mẫu có trang rỗng (XFA)"
    else:
        why_en = "no page has anything on it (no text, image or drawing)"
        why_vi = "không trang nào có nội dung (không chữ, ảnh hay hình vẽ)"
    raise _not_faithful(path, why_en, why_vi)


def _pdf_frames(
    path: Path, file: BinaryIO, profile_dpi: int, file_format: str, quality: int
) -> Iterator[EncodedFrame]:
    """Every page of a PDF at the resolution of :func:`pdf_dpi`, within the
    pixel limit (:func:`capped_dpi`). A scan's JPEG drawn upright over the whole
    page is passed through byte for byte when it needs no reduction; every other
    page is rendered with its ``/Rotate`` and ``/UserUnit``. A PDF that cannot
    be rendered faithfully is refused first (:func:`_refuse_unfaithful`)."""
    import pypdfium2 as pdfium

    facts = _pdf_facts(file)
    file.seek(0)
    try:
        pdf = pdfium.PdfDocument(file)
    except pdfium.PdfiumError as exc:
        raise _bad(
            path, f"not a readable PDF ({exc})", f"không phải PDF đọc được ({exc})"
        ) from None
    try:
        if len(pdf) > MAX_FRAMES:
            raise _bad(path, "too many pages in one file", "quá nhiều trang trong một tệp")
        _refuse_unfaithful(path, pdf, facts)
        for index in range(len(pdf)):
            page = pdf[index]
            try:
                found = _pdf_page(page, facts.user_units.get(index, 1.0), index in facts.plain_jpeg)
                wanted = pdf_dpi(found.image_dpi, profile_dpi, drawn=found.drawn)
                dpi = capped_dpi(wanted, found.width_in, found.height_in)
                width, height = round(found.width_in * wanted), round(found.height_in * wanted)
                if dpi is None:
                    raise _too_large(path, width, height)
                if found.passthrough is not None and dpi == wanted == found.image_dpi_rounded:
                    kept = _jpeg_as_is(found.passthrough, dpi)
                    if kept is not None:
                        yield kept
                        continue
                width, height = round(found.width_in * dpi), round(found.height_in * dpi)
                _check_size(path, width, height)
                try:
                    image = page.render(scale=dpi * found.unit / 72).to_pil()
                except pdfium.PdfiumError as exc:
                    raise _bad(
                        path,
                        f"page {index + 1} cannot be rendered ({exc})",
                        f"không dựng được trang {index + 1} ({exc})",
                    ) from None
                yield encode_page(image, dpi, file_format, quality)
            finally:
                page.close()
    finally:
        pdf.close()
