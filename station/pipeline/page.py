"""The page step, shared by the offline ``scanstation process`` and the station.

:func:`clean_page` decodes one captured frame, cleans it (deskew, crop, turn
upright, blank test), reads its barcodes and encodes the corrected page; what
was found is one typed :class:`PageReport`. It runs in worker processes so
that it never holds up capture. :func:`page_rules` is the one reading of the
barcode rules from the configuration.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from PIL import Image

from station.barcodes.decode import DecodeResult, Rules, classify, decode_page, is_key
from station.barcodes.split import low_resolution
from station.capture.imageio import EncodedFrame
from station.config import Config
from station.errors import InputError
from station.imaging import preprocess


def page_rules(config: Config) -> Rules:
    """The barcode rules of ``[pipeline]``: registration labels and the separator."""
    section = config.pipeline
    return Rules.from_config(section.registration_pattern, section.separator_text)


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
    if image is None:
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


def clean_page(frame: EncodedFrame, name: str, sensitivity: str, rules: Rules) -> CleanPage:
    """Deskew, crop, orient, test and read one frame; returns the corrected page encoded."""
    image = decode(frame, name)
    result = preprocess(image, frame.dpi, sensitivity=sensitivity)
    # a blank page has no codes of its own: what shows is bleed-through (a
    # separator's bars read well enough mirrored), so it is not read at all
    codes = (
        DecodeResult()
        if result.blank
        else decode_page(result.image, frame.dpi / 25.4, wanted=is_key(rules), original=image)
    )
    found = classify(codes.codes, rules)
    data, ext = encode(result.image, frame.dpi)
    height, width = result.image.shape[:2]
    report = PageReport(
        skew_deg=round(float(result.skew_deg), 2),
        orientation_deg=int(result.orientation_deg),
        blank=bool(result.blank),
        separator=found.separator,
        barcodes=[code.as_json() for code in codes.codes],
        registrations=[code.text for code in found.registrations],
        dpi=frame.dpi,
    )
    return CleanPage(report, data, ext, width, height, codes.seconds)
