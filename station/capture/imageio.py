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

import errno
import io
import numbers
import os
import stat
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import EpsImagePlugin, Image, ImageSequence, UnidentifiedImageError

from station.common.logsafe import printable
from station.errors import InputError

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


def _check_size(path: Path | str, width: int, height: int) -> None:
    if width <= 0 or height <= 0:
        raise _bad(path, "image has no pixels", "ảnh không có điểm ảnh")
    if width * height > MAX_PIXELS:
        raise _bad(
            path,
            f"image of {width}x{height} pixels is larger than the limit of {MAX_PIXELS:,}",
            f"ảnh {width}x{height} điểm vượt giới hạn {MAX_PIXELS:,} điểm",
        )


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


def _pdf_frames(
    path: Path, file: BinaryIO, dpi: int, file_format: str, quality: int
) -> Iterator[EncodedFrame]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(file)
    except pdfium.PdfiumError as exc:
        raise _bad(
            path, f"not a readable PDF ({exc})", f"không phải PDF đọc được ({exc})"
        ) from None
    try:
        if len(pdf) > MAX_FRAMES:
            raise _bad(path, "too many pages in one file", "quá nhiều trang trong một tệp")
        for index in range(len(pdf)):
            page = pdf[index]
            width_pt, height_pt = page.get_size()
            width, height = round(width_pt * dpi / 72), round(height_pt * dpi / 72)
            _check_size(path, width, height)
            try:
                bitmap = page.render(scale=dpi / 72)
                image = bitmap.to_pil()
            except pdfium.PdfiumError as exc:
                raise _bad(
                    path,
                    f"page {index + 1} cannot be rendered ({exc})",
                    f"không dựng được trang {index + 1} ({exc})",
                ) from None
            yield encode_page(image, dpi, file_format, quality)
            page.close()
    finally:
        pdf.close()
