"""Reading page images safely: size limits before decoding, clear errors for bad files.

Every image that enters the station from outside (a folder, an upload, a PDF)
goes through here, so corrupt files, decompression bombs and huge pages are
refused before they cost memory.
"""

from __future__ import annotations

import io
import numbers
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageSequence, UnidentifiedImageError

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


@dataclass(frozen=True)
class EncodedFrame:
    """One page as an encoded image file, ready for the store."""

    data: bytes
    ext: str
    width: int
    height: int
    dpi: int


def _bad(path: Path | str, why_en: str, why_vi: str) -> InputError:
    return InputError(f"{path}: {why_en}", f"{path}: {why_vi}", path=str(path))


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


def read_frames(
    path: Path, default_dpi: int, file_format: str = "jpeg", quality: int = 92
) -> Iterator[EncodedFrame]:
    """Every page of an image or PDF file, in order, as encoded frames.

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
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise _bad(path, f"cannot read: {exc.strerror}", f"không đọc được: {exc.strerror}") from exc
    if size > MAX_FILE_BYTES:
        raise _bad(path, "file is too large", "tệp quá lớn")
    if suffix in PDF_SUFFIXES:
        yield from _pdf_frames(path, default_dpi, file_format, quality)
    else:
        yield from _image_frames(path, default_dpi, file_format, quality)


def _image_frames(
    path: Path, default_dpi: int, file_format: str, quality: int
) -> Iterator[EncodedFrame]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise _bad(path, f"cannot read: {exc.strerror}", f"không đọc được: {exc.strerror}") from exc
    try:
        with warnings.catch_warnings():
            # PIL's own bomb guard (set to MAX_PIXELS above) warns at open: refuse instead
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
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
            _check_size(path, image.width, image.height)
            image.load()  # full decode: truncated files fail here, not later
            yield EncodedFrame(
                data,
                "jpg" if image.format == "JPEG" else "png",
                image.width,
                image.height,
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


def _pdf_frames(path: Path, dpi: int, file_format: str, quality: int) -> Iterator[EncodedFrame]:
    import pypdfium2 as pdfium

    try:
        pdf = pdfium.PdfDocument(str(path))
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
