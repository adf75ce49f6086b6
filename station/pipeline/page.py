"""The page step, shared by the offline ``scanstation process`` and the station.

:func:`clean_page` decodes one captured frame, cleans it (deskew, crop, turn
upright, blank test), reads its barcodes and encodes the corrected page; what
was found is one typed :class:`PageReport`. It runs in worker processes so
that it never holds up capture. :func:`page_rules` is the one reading of the
barcode rules from the configuration.
"""

from __future__ import annotations

import io
import logging
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from station.barcodes.decode import DecodeResult, Rules, classify, decode_page, is_key
from station.barcodes.split import low_resolution
from station.capture.imageio import EncodedFrame
from station.config import PAGE_SIZES_MM, Config
from station.errors import InputError
from station.imaging import analyse, corrected_strips, large_page, preprocess
from station.ocr import secrecy, tesseract
from station.pipeline.jpeg import encode_strips, strip_rows

log = logging.getLogger("scanstation.pipeline")


def page_rules(config: Config) -> Rules:
    """The barcode rules of ``[pipeline]``: registration labels, the separator, cover sheets."""
    section = config.pipeline
    covers = {section.outgoing_sheet: "outgoing", section.incoming_sheet: "incoming"}
    return Rules.from_config(section.registration_pattern, section.separator_text, covers)


@dataclass(frozen=True)
class PageReport:
    """What the page step found on a page."""

    skew_deg: float  # rounded to 0.01°
    orientation_deg: int
    blank: bool
    separator: bool
    barcodes: list[dict[str, str]]  # as read, ``Barcode.as_json``
    registrations: list[str]  # the barcodes that are registration labels
    dpi: int
    #: the turn was decided on strong evidence; an unsure page was left as
    #: captured (docs/imaging.md#orientation-only-on-strong-evidence)
    orientation_sure: bool = True
    #: a secrecy mark on the page (docs/ocr.md#secrecy-mark): ``level`` (None
    #: when it looks like one but was not read), ``how``, ``box`` (pixels)
    secrecy: dict[str, Any] | None = None

    def as_info(self) -> dict[str, Any]:
        """The page as the review keeps it (``review_pages.info``)."""
        return {
            "skew_deg": self.skew_deg,
            "orientation_deg": self.orientation_deg,
            "blank": self.blank,
            "separator": self.separator,
            "barcodes": self.barcodes,
            "registrations": self.registrations,
            "dpi": self.dpi,
            # below Decree 30's 200 dpi: the source had no more (never upsampled)
            "low_resolution": low_resolution(self.dpi),
            "orientation_sure": self.orientation_sure,
            "secrecy": self.secrecy,
        }

    @classmethod
    def from_info(cls, info: dict[str, Any]) -> PageReport:
        return cls(
            skew_deg=float(info["skew_deg"]),
            orientation_deg=int(info["orientation_deg"]),
            blank=bool(info["blank"]),
            separator=bool(info["separator"]),
            barcodes=list(info["barcodes"]),
            registrations=list(info["registrations"]),
            dpi=int(info["dpi"]),
            orientation_sure=bool(info.get("orientation_sure", True)),
            secrecy=info.get("secrecy"),
        )


@dataclass(frozen=True)
class CleanPage:
    report: PageReport
    data: bytes  # the corrected page, encoded
    ext: str
    width: int
    height: int
    barcode_s: float  # time spent reading barcodes


def decode(frame: EncodedFrame, name: str) -> np.ndarray[Any, Any]:
    """The frame as a BGR (or grey) array; a frame that does not decode is refused."""
    flags = cv2.IMREAD_UNCHANGED if frame.ext == "png" else cv2.IMREAD_COLOR
    image = cv2.imdecode(np.frombuffer(frame.data, np.uint8), flags)
    return _as_page(image, name)


def _decode_large(frame: EncodedFrame, name: str) -> np.ndarray[Any, Any]:
    """:func:`decode` without a second copy of the page. ``cv2.imdecode`` decodes
    into OpenCV's own buffer, which its Python binding then copies into a NumPy
    array: twice the page at once. ``cv2.imread`` given an array (OpenCV 4.11 and
    later) decodes into NumPy's buffer directly; it reads a file, so the frame is
    written to a temporary one first."""
    flags = cv2.IMREAD_UNCHANGED if frame.ext == "png" else cv2.IMREAD_COLOR
    with tempfile.NamedTemporaryFile(prefix="page-", suffix=f".{frame.ext}") as file:
        file.write(frame.data)
        file.flush()
        try:
            image = cv2.imread(file.name, None, flags)
        except (cv2.error, TypeError):  # an OpenCV without imread into an array
            return decode(frame, name)
    return _as_page(image, name)


def _as_page(image: np.ndarray[Any, Any] | None, name: str) -> np.ndarray[Any, Any]:
    if image is None or image.size == 0:
        raise InputError(f"{name}: cannot decode the image", f"{name}: không giải mã được ảnh")
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(1, int(image.max())))
    return image


def encode(image: np.ndarray[Any, Any], dpi: int, quality: int = 92) -> tuple[bytes, str]:
    """A corrected page as JPEG (colour without chroma subsampling, or grey) with
    its resolution recorded, so the PDF page is the paper's size."""
    pixels = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=quality, subsampling=0, dpi=(dpi, dpi))
    return buf.getvalue(), "jpg"


def clean_page(
    frame: EncodedFrame,
    name: str,
    sensitivity: str,
    rules: Rules,
    paper_mm: tuple[float, float] = PAGE_SIZES_MM["A4"],
) -> CleanPage:
    """Deskew, crop, orient, test and read one frame; returns the corrected page encoded.
    ``paper_mm``: the scan profile's paper (``Profile.paper_mm``)."""
    if large_page(frame.width, frame.height):
        return _clean_large(frame, name, sensitivity, rules, paper_mm)
    image = decode(frame, name)
    result = preprocess(image, frame.dpi, sensitivity=sensitivity, paper_mm=paper_mm)
    # a blank page has no codes of its own: what shows is bleed-through (a
    # separator's bars read well enough mirrored), so it is not read at all
    codes = (
        DecodeResult()
        if result.blank
        else decode_page(result.image, frame.dpi / 25.4, wanted=is_key(rules), original=image)
    )
    data, ext = encode(result.image, frame.dpi)
    height, width = result.image.shape[:2]
    mark = None if result.blank else secrecy_of(result.image, frame.dpi)
    report = _report(result, codes, rules, frame.dpi, mark)
    return CleanPage(report, data, ext, width, height, codes.seconds)


def secrecy_of(image: np.ndarray[Any, Any], dpi: int) -> dict[str, Any] | None:
    """The secrecy mark on a corrected page (:func:`station.ocr.secrecy.find`;
    Tesseract reads its candidates only), as the page report keeps it. Every
    page is looked at: a secret document never reaches OCR, let alone the network
    (docs/security.md#state-secrets)."""
    try:
        mark = secrecy.find(image, dpi, tesseract.read_line)
    except Exception as exc:  # the page cannot be looked at: ask rather than send
        log.exception("the page could not be checked for a secrecy mark: %s", exc)
        return {"level": None, "how": "unchecked", "box": [0, 0, 0, 0]}
    if mark is None:
        return None
    return {"level": mark.level, "how": mark.how, "box": list(mark.box)}


def marked(marks: Iterable[dict[str, Any] | None]) -> tuple[str | None, bool]:
    """What a document's pages say of its secrecy (their ``PageReport.secrecy``):
    the level read on any of them, and whether any carries a mark still to be
    asked about. A mark the clerk said is none is ``cleared``: it counts no more."""
    found = [m for m in marks if m and not m.get("cleared")]
    level = next((m["level"] for m in found if m.get("level")), None)
    return level, bool(found)


def _report(
    found: Any, codes: DecodeResult, rules: Rules, dpi: int, mark: dict[str, Any] | None = None
) -> PageReport:
    """The page report of a page cleaned (``Preprocessed`` or ``Analysis``) and read."""
    kinds = classify(codes.codes, rules)
    return PageReport(
        skew_deg=round(float(found.skew_deg), 2),
        orientation_deg=int(found.orientation_deg),
        blank=bool(found.blank),
        separator=kinds.separator,
        barcodes=[code.as_json() for code in codes.codes],
        registrations=[code.text for code in kinds.registrations],
        dpi=dpi,
        orientation_sure=bool(found.orientation_sure),
        secrecy=mark,
    )


#: Peak memory of the page step in a worker, above the worker's own (WORKER_BYTES),
#: per pixel of the page, rounded up from bench/memory.py --page and smaller pages:
#: 12.5-15 bytes up to 24 MP, 3.7 above (station.imaging.large_page).
BYTES_PER_PIXEL = 15
LARGE_BYTES_PER_PIXEL = 4
#: A cleaning worker's own resident memory, its imports loaded.
WORKER_BYTES = 80 * 2**20


def clean_cost(width: int, height: int) -> int:
    """Memory, in bytes, that cleaning a ``width`` × ``height`` page adds to its worker."""
    per_pixel = LARGE_BYTES_PER_PIXEL if large_page(width, height) else BYTES_PER_PIXEL
    return width * height * per_pixel


#: Resolution at which the barcodes of a large page are read: a registration
#: label or a separator's bars are read surely at the profiles' 200-300 dpi.
BARCODE_DPI = 300
#: Resolution at which a large page is looked at for its secrecy mark, over
#: the share of the page from the top where station.ocr.secrecy looks
MARK_DPI = 200


def _reduced(image: np.ndarray[Any, Any], scale: float) -> np.ndarray[Any, Any]:
    """A grey copy at ``scale``, reduced first: no full-scale grey copy is made."""
    if scale < 1.0:
        size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
        image = cv2.resize(image, size, interpolation=cv2.INTER_AREA)
    return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image.copy()


def _clean_large(
    frame: EncodedFrame,
    name: str,
    sensitivity: str,
    rules: Rules,
    paper_mm: tuple[float, float],
) -> CleanPage:
    """:func:`clean_page` for a page above :data:`station.imaging.clean.FRUGAL_PIXELS`
    (docs/imaging.md#memory): the page is held once, at full scale, and nothing
    else is. It is corrected and encoded strip by strip (:mod:`station.pipeline.jpeg`),
    and its barcodes are read on grey copies at BARCODE_DPI."""
    image, dpi = _decode_large(frame, name), frame.dpi
    found = analyse(image, dpi, sensitivity=sensitivity, paper_mm=paper_mm)
    scale = min(1.0, BARCODE_DPI / dpi)
    width, height = found.turn.final_size
    rows = strip_rows(width)
    reduced: list[np.ndarray[Any, Any]] = []
    # the upper part of the page in colour at MARK_DPI, for the secrecy mark
    mark_scale = min(1.0, MARK_DPI / dpi)
    upper: list[np.ndarray[Any, Any]] = []

    def strips() -> Iterator[np.ndarray[Any, Any]]:
        for top, strip in zip(
            range(0, height, rows), corrected_strips(image, found.turn, rows), strict=True
        ):
            if not found.blank:  # the barcodes' copy, row for row
                rows_to = round(min(height, top + rows) * scale) - round(top * scale)
                if rows_to > 0:
                    gray = cv2.cvtColor(strip, cv2.COLOR_BGR2GRAY) if strip.ndim == 3 else strip
                    size = (max(1, round(width * scale)), rows_to)
                    reduced.append(cv2.resize(gray, size, interpolation=cv2.INTER_AREA))
                marked_to = round(min(height, top + rows) * mark_scale)
                marked_rows = marked_to - round(top * mark_scale)
                if top < height * secrecy.LOOKED and marked_rows > 0:
                    size = (max(1, round(width * mark_scale)), marked_rows)
                    upper.append(cv2.resize(strip, size, interpolation=cv2.INTER_AREA))
            yield strip

    data = encode_strips(strips(), height, dpi)
    codes = DecodeResult()
    mark = None
    if upper:
        # the whole page's size, its upper part only: the mark is looked for there
        top_part = np.concatenate(upper)
        upper.clear()
        page_rows = round(height * mark_scale)
        canvas = np.full((page_rows, *top_part.shape[1:]), 255, np.uint8)
        canvas[: min(page_rows, top_part.shape[0])] = top_part[:page_rows]
        mark = secrecy_of(canvas, round(dpi * mark_scale))
        del canvas, top_part
    if not found.blank:
        page = np.concatenate(reduced)
        reduced.clear()
        original = _reduced(image, scale)
        del image  # the page at full scale is not needed any more
        codes = decode_page(page, dpi * scale / 25.4, wanted=is_key(rules), original=original)
    report = _report(found, codes, rules, dpi, _at_scale(mark, 1 / mark_scale))
    return CleanPage(report, data, "jpg", width, height, codes.seconds)


def _at_scale(mark: dict[str, Any] | None, factor: float) -> dict[str, Any] | None:
    """A mark found on a reduced copy, its box in the page's own pixels."""
    if mark is None:
        return None
    return {**mark, "box": [round(v * factor) for v in mark["box"]]}
