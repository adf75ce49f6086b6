"""Barcodes: decoding with zxing-cpp and ZBar, and what each code means.

Decoding (:func:`decode_page`), in order, until the budget is spent:

1. zxing-cpp on the corrected page (any 90° turn, inverted codes, downscales);
2. if that read no registration or separator and bars are left unread (a
   patch of parallel bars found from the image's structure tensor, or a
   symbol zxing-cpp detected but could not read): ZBar on the whole page, then
   each such patch cut out, turned so its bars stand upright, and tried again
   with ZBar and zxing-cpp at other scales and binarisations;
3. the page as captured (before deskewing), with both libraries.

Classification (:func:`classify`): a code matching the registration pattern
(default ``DEN-YYYY-NNNNNN``) is a registration label; a code whose text is
exactly the separator text (default ``PATCHT``) is a separator sheet; any other
code (QR codes and EAN numbers printed by the issuing agency) is recorded and
never taken for either. Hostile text (control characters, path separators,
megabytes of data) is cleaned and cut before it goes anywhere.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from station.imaging.arrays import Pixels

#: Longest barcode text kept; longer text is cut and marked.
MAX_TEXT = 256
#: Formats the station reads: labels (Code 128, QR), separators, and the codes
#: agencies print (QR, Data Matrix, EAN/UPC, Code 39).
FORMATS = "Code128,QRCode,DataMatrix,EAN13,EAN8,UPCA,Code39"
_ZBAR_NAMES = {
    "CODE128": "Code128",
    "QRCODE": "QRCode",
    "EAN13": "EAN13",
    "EAN8": "EAN8",
    "UPCA": "UPCA",
    "CODE39": "Code39",
}
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


@dataclass(frozen=True)
class Barcode:
    format: str  # zxing-cpp's format name: Code128, QRCode, EAN13, …
    text: str  # cleaned: control characters replaced, at most MAX_TEXT characters
    library: str  # "zxing-cpp" or "zbar"
    box: tuple[int, int, int, int] = (0, 0, 0, 0)  # x, y, w, h on the corrected page

    def as_json(self) -> dict[str, str]:
        return {"format": self.format, "text": self.text}


#: 1D codes this short are nearly always a misread of text or of a bit of
#: another code (ZBar reads "'m" off a turned Code 128 now and then).
MIN_1D_TEXT = 4


def plausible(format_name: str, text: str) -> bool:
    return format_name not in ("Code128", "Code39") or len(text) >= MIN_1D_TEXT


def clean_text(raw: str) -> str:
    """Barcode text made safe to store, show and log."""
    text = _CONTROL.sub("\ufffd", raw)
    if len(text) > MAX_TEXT:
        text = text[:MAX_TEXT] + "…"
    return text


# --------------------------------------------------------------------------- libraries


def _zxing() -> Any:
    import zxingcpp

    return zxingcpp


def _formats() -> Any:
    return _zxing().barcode_formats_from_str(FORMATS)


def probe() -> dict[str, str]:
    """Both libraries load: their versions (zxing-cpp has no version attribute)."""
    from pyzbar import zbar_library

    zbar_library.load()
    _zxing()
    return {"zxing-cpp": "loaded", "zbar": "loaded"}


def _box(points: Iterable[tuple[float, float]]) -> tuple[int, int, int, int]:
    xs, ys = zip(*points, strict=True)
    return int(min(xs)), int(min(ys)), int(max(xs) - min(xs)), int(max(ys) - min(ys))


def read_zxing(
    gray: Pixels, *, binarizer: str = "LocalAverage", errors: bool = False
) -> list[tuple[Barcode, bool]]:
    """zxing-cpp on a grey image: (code, valid) pairs; invalid ones only with ``errors``."""
    zx = _zxing()
    found = zx.read_barcodes(
        gray,
        formats=_formats(),
        binarizer=getattr(zx.Binarizer, binarizer),
        return_errors=errors,
    )
    out = []
    for code in found:
        if not plausible(code.format.name, code.text):
            continue
        p = code.position
        points = [(q.x, q.y) for q in (p.top_left, p.top_right, p.bottom_right, p.bottom_left)]
        out.append(
            (
                Barcode(code.format.name, clean_text(code.text), "zxing-cpp", _box(points)),
                code.valid,
            )
        )
    return out


def read_zbar(gray: Pixels) -> list[Barcode]:
    from pyzbar import pyzbar

    symbols = [getattr(pyzbar.ZBarSymbol, name) for name in _ZBAR_NAMES]
    out = []
    for code in pyzbar.decode(gray, symbols=symbols):
        name = _ZBAR_NAMES.get(code.type)
        text = code.data.decode("utf-8", errors="replace")
        if name is None or not plausible(name, text):
            continue
        r = code.rect
        out.append(Barcode(name, clean_text(text), "zbar", (r.left, r.top, r.width, r.height)))
    return out


# --------------------------------------------------------------------------- candidates


Patch = tuple[tuple[float, float], tuple[float, float], float]
"""A patch of bars: centre, (extent across the bars, extent along them), and the
angle in degrees of the direction across the bars (the gradient's direction)."""


def bar_patches(gray: Pixels, px_per_mm: float) -> list[Patch]:
    """Patches of parallel bars (1D barcodes) at any angle.

    Where bars are, the image gradient is strong and points the same way over a
    whole patch (high coherence of the structure tensor); in text it points every
    way. A line across the bars must then cross at least 16 edges, which rules
    out seal rings, underlines and table rules.
    """
    scale = min(1.0, 6.0 / px_per_mm)  # about 150 dpi is enough to see bars
    small = cv2.resize(gray, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
    ppm = px_per_mm * scale
    gx = cv2.Scharr(small, cv2.CV_32F, 1, 0)
    gy = cv2.Scharr(small, cv2.CV_32F, 0, 1)
    # the structure tensor averaged over blocks of about 2 mm (an area resize is
    # a box filter with a stride, and far cheaper than filtering every pixel)
    block = max(2, round(2.0 * ppm))
    cells = (max(1, small.shape[1] // block), max(1, small.shape[0] // block))
    jxx = cv2.resize(cv2.multiply(gx, gx), cells, interpolation=cv2.INTER_AREA)
    jyy = cv2.resize(cv2.multiply(gy, gy), cells, interpolation=cv2.INTER_AREA)
    jxy = cv2.resize(cv2.multiply(gx, gy), cells, interpolation=cv2.INTER_AREA)
    energy = jxx + jyy
    # coherence > 0.75, squared to spare the root: (jxx-jyy)² + 4jxy² > 0.5625·energy²
    coherent = (jxx - jyy) ** 2 + 4 * jxy**2 > 0.5625 * energy**2
    mask: Pixels = (coherent & (energy > 2e5)).astype(np.uint8)
    mask = cv2.morphologyEx(mask, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    patches: list[Patch] = []
    for contour in contours:
        if cv2.contourArea(contour) < 2:
            continue
        x, y, bw, bh = cv2.boundingRect(contour)
        region = (slice(y, y + bh), slice(x, x + bw))
        theta = 0.5 * np.arctan2(2 * jxy[region].mean(), jxx[region].mean() - jyy[region].mean())
        # the cells' outline in ``small`` pixels, grown by half a cell all round
        points = (contour.reshape(-1, 2).astype(np.float64) + 0.5) * block
        cx, cy = points.mean(axis=0)
        across = _extent(points, theta) + block
        along = _extent(points, theta + np.pi / 2) + block
        if max(across, along) < 10 * ppm or min(across, along) < 3 * ppm:
            continue  # smaller than any label's code
        if along < 5 * ppm or _edges_crossed(small, (cx, cy), theta, across) < 16:
            continue
        patch = ((cx, cy), (across, along), float(np.degrees(theta)))
        if not _long_bars(_crop_upright(small, patch, 0), ppm):
            continue
        patches.append(
            ((cx / scale, cy / scale), (across / scale, along / scale), float(np.degrees(theta)))
        )
    return patches


def _long_bars(crop: Pixels, ppm: float) -> bool:
    """Bars run unbroken for 5 mm or more; the strokes of text never do."""
    if crop.size == 0:
        return False
    _, binary = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    dark = binary.astype(bool)
    # longest vertical run of dark pixels in every column
    runs = np.zeros(dark.shape[1], dtype=np.int32)
    current = np.zeros(dark.shape[1], dtype=np.int32)
    for row in dark:
        current = np.where(row, current + 1, 0)
        np.maximum(runs, current, out=runs)
    long_columns = int(np.count_nonzero(runs >= 5 * ppm))
    dark_columns = int(np.count_nonzero(runs > 0))
    return long_columns >= 12 and long_columns >= 0.3 * dark_columns


def _extent(points: Pixels, theta: float) -> float:
    proj = points.reshape(-1, 2) @ np.array([np.cos(theta), np.sin(theta)])
    return float(proj.max() - proj.min())


def _edges_crossed(gray: Pixels, center: tuple[float, float], theta: float, length: float) -> int:
    """Dark/light changes along a line through ``center`` in direction ``theta``."""
    steps = np.linspace(-length / 2, length / 2, max(8, int(length * 2)))
    xs = np.clip(center[0] + steps * np.cos(theta), 0, gray.shape[1] - 1).astype(int)
    ys = np.clip(center[1] + steps * np.sin(theta), 0, gray.shape[0] - 1).astype(int)
    line = gray[ys, xs].astype(np.int16)
    mid = (int(line.max()) + int(line.min())) / 2
    dark = line < mid
    return int(np.count_nonzero(dark[1:] != dark[:-1]))


def _crop_upright(gray: Pixels, patch: Patch, margin: float) -> Pixels:
    """Cut a patch out of the page, turned so that its bars stand upright."""
    (cx, cy), (across, along), angle = patch
    w, h = across + 2 * margin, along + 2 * margin
    matrix = cv2.getRotationMatrix2D((cx, cy), angle, 1.0)
    matrix[0, 2] += w / 2 - cx
    matrix[1, 2] += h / 2 - cy
    return cv2.warpAffine(gray, matrix, (int(w), int(h)), flags=cv2.INTER_CUBIC, borderValue=255)


def _binarised(gray: Pixels) -> list[Pixels]:
    _, otsu = cv2.threshold(gray, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    adaptive = cv2.adaptiveThreshold(
        gray, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY, 31, 10
    )
    return [otsu, adaptive]


# --------------------------------------------------------------------------- decoding


@dataclass
class DecodeResult:
    codes: list[Barcode] = field(default_factory=list)
    attempts: list[str] = field(default_factory=list)
    seconds: float = 0.0


def decode_page(
    page: Pixels,
    px_per_mm: float,
    *,
    wanted: Callable[[Barcode], bool],
    original: Pixels | None = None,
    budget_s: float = 0.6,
) -> DecodeResult:
    """Every code on a corrected page; retries until ``wanted`` finds one or time is up.

    ``wanted`` tells a code that settles the page (a registration or separator);
    distractor codes alone do not stop the retries where bars remain unread.
    """
    start = time.perf_counter()
    result = DecodeResult()
    gray = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY) if page.ndim == 3 else page

    def add(codes: Iterable[Barcode], attempt: str) -> bool:
        result.attempts.append(attempt)
        for code in codes:
            if not any(c.format == code.format and c.text == code.text for c in result.codes):
                result.codes.append(code)
        return any(wanted(c) for c in result.codes)

    def done() -> bool:
        return time.perf_counter() - start > budget_s

    first = read_zxing(gray, errors=True)
    settled = add((c for c, valid in first if valid), "zxing-cpp")
    unread = [c for c, valid in first if not valid]
    # a patch already decoded (its centre inside a decoded code's box) needs no retry
    patches = [] if settled else bar_patches(gray, px_per_mm)
    patches = [p for p in patches if not _covered(p, result.codes)]
    if not settled and (patches or unread):
        settled = add(read_zbar(gray), "zbar")
        margin = 4 * px_per_mm
        regions = list(patches) + [
            ((c.box[0] + c.box[2] / 2, c.box[1] + c.box[3] / 2), (c.box[2], c.box[3]), 0.0)
            for c in unread
        ]
        for patch in regions:
            if settled or done():
                break
            if _covered(patch, result.codes):
                continue  # read meanwhile (by ZBar on the whole page)
            crop = _crop_upright(gray, patch, margin)
            for variant_name, variant in _variants(crop):
                settled = add(read_zbar(variant), f"zbar {variant_name}") or add(
                    (c for c, _ in read_zxing(variant)), f"zxing-cpp {variant_name}"
                )
                if settled or done():
                    break
    if not settled and original is not None and (patches or unread) and not done():
        raw = cv2.cvtColor(original, cv2.COLOR_BGR2GRAY) if original.ndim == 3 else original
        add((c for c, _ in read_zxing(raw, binarizer="GlobalHistogram")), "zxing-cpp original")
        add(read_zbar(raw), "zbar original")
    result.seconds = time.perf_counter() - start
    return result


def _variants(crop: Pixels) -> Iterable[tuple[str, Pixels]]:
    yield "patch", crop
    for factor in (0.6, 1.5):
        yield (
            f"x{factor}",
            cv2.resize(
                crop,
                None,
                fx=factor,
                fy=factor,
                interpolation=cv2.INTER_AREA if factor < 1 else cv2.INTER_CUBIC,
            ),
        )
    for index, binary in enumerate(_binarised(crop)):
        yield ("otsu", "adaptive")[index], binary


def _covered(patch: Patch, codes: Iterable[Barcode]) -> bool:
    """Whether a decoded code lies in the patch (zxing-cpp boxes a 1D code by the
    line it read, so the test is whether the box's centre falls in the patch)."""
    (px, py), (across, along), _angle = patch
    reach = max(across, along) / 2 + 10
    for code in codes:
        x, y, w, h = code.box
        if (w or h) and abs(x + w / 2 - px) <= reach and abs(y + h / 2 - py) <= reach:
            return True
    return False


# --------------------------------------------------------------------------- meaning


@dataclass(frozen=True)
class Rules:
    registration: re.Pattern[str]
    separator: str
    #: cover sheets: barcode text -> the direction its batch takes
    #: ("VANBANDI": outgoing); a cover sheet is a separator too
    covers: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_config(
        cls, pattern: str, separator: str, covers: Mapping[str, str] | None = None
    ) -> Rules:
        return cls(re.compile(pattern), separator, dict(covers or {}))


@dataclass(frozen=True)
class Classified:
    registrations: list[Barcode]
    separator: bool
    others: list[Barcode]
    #: the direction a cover sheet gives its batch (None: no cover sheet)
    direction: str | None = None


def classify(codes: Iterable[Barcode], rules: Rules) -> Classified:
    registrations, others = [], []
    separator = False
    direction: str | None = None
    for code in codes:
        if code.text == rules.separator:
            separator = True
        elif code.text in rules.covers:
            separator = True
            direction = direction or rules.covers[code.text]
        elif rules.registration.fullmatch(code.text):
            registrations.append(code)
        else:
            others.append(code)
    return Classified(registrations, separator, others, direction)


def is_key(rules: Rules) -> Callable[[Barcode], bool]:
    """A code that settles a page: a registration label, a separator or a cover sheet."""
    return lambda code: (
        code.text == rules.separator
        or code.text in rules.covers
        or bool(rules.registration.fullmatch(code.text))
    )
