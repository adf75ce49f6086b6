"""One page through every imaging step (see the package docstring)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np
from numpy.typing import NDArray

from station.imaging.arrays import Pixels
from station.imaging.blank import SENSITIVITY, colour_spread, detect_blank
from station.imaging.orientation import Evidence, decide, orientation_deg, up_down
from station.imaging.overscan import fit_paper, needs_fit, outline
from station.imaging.paper import content_mask, find_paper, percentile_u8
from station.imaging.skew import estimate_skew, ink_points

#: Resolution of the analysis copy. Enough for 12 pt text lines and diacritics.
ANALYSIS_DPI = 100
#: Edge band ignored for ink (shadows, torn edges, punched holes), in mm.
EDGE_MM = 8.0
#: Text printed this close to parallel with the paper edge is taken as parallel.
PAPER_AGREES_DEG = 0.5
#: Pages larger than this (in pixels) are worked on at reduced scale wherever the
#: full scale is not needed, and corrected strip by strip (:func:`corrected_strips`),
#: so that no second full-resolution copy is made. A3 at 300 dpi (17 MP) and A4 at
#: 400 dpi (16 MP) stay below it and are cleaned as they always were.
FRUGAL_PIXELS = 24_000_000
#: Resolution of the copy given to Tesseract's orientation detection on a large page.
OSD_DPI = 300


@dataclass(frozen=True)
class Preprocessed:
    image: Pixels  # corrected page, full resolution, colour kept
    skew_deg: float  # counter-clockwise skew of the page as captured
    orientation_deg: int  # 0, 90, 180 or 270: counter-clockwise turn from upright
    blank: bool
    paper_found: bool  # the paper's edge was seen against the backing
    paper_fitted: bool  # no edge seen: cut to the profile's paper around the ink
    ink_mm2: float
    orientation_confidence: float  # the text-line vote, 0..1
    orientation_source: str  # "text-lines", "osd", "agreed", "none"
    #: the evidence was strong enough to turn the page
    #: (docs/imaging.md#orientation-only-on-strong-evidence);
    #: when False the page is left as captured (``orientation_deg`` 0)
    orientation_sure: bool
    timings: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Turn:
    """How the page as captured becomes the corrected page: one affine warp that
    levels and crops it (``matrix`` from captured to corrected pixels, ``None``
    when the page is kept as it is), then a lossless quarter turn."""

    matrix: NDArray[np.float64] | None  # 2×3
    size: tuple[int, int]  # width, height after the warp
    fill: float  # grey level of what the warp brings in from outside the page
    quarter: int  # 0, 90, 180 or 270: clockwise turn that makes the page upright

    @property
    def final_size(self) -> tuple[int, int]:
        """Width and height of the corrected page."""
        width, height = self.size
        return (height, width) if self.quarter in (90, 270) else (width, height)


@dataclass(frozen=True)
class Analysis:
    """Everything :func:`preprocess` finds, before the page itself is corrected."""

    turn: Turn
    skew_deg: float
    orientation_deg: int
    blank: bool
    paper_found: bool
    paper_fitted: bool
    ink_mm2: float
    orientation_confidence: float
    orientation_source: str
    orientation_sure: bool
    timings: dict[str, float] = field(default_factory=dict)


def large_page(width: int, height: int) -> bool:
    """Whether a page is large enough to be worked on at reduced scale and
    corrected strip by strip (FRUGAL_PIXELS); it is cleaned with no other page."""
    return width * height > FRUGAL_PIXELS


def _large(image: Pixels) -> bool:
    return large_page(int(image.shape[1]), int(image.shape[0]))


def _analysis_copy(image: Pixels, dpi: int) -> tuple[Pixels, Pixels | None, float]:
    scale = min(1.0, ANALYSIS_DPI / dpi)
    size = (max(1, round(image.shape[1] * scale)), max(1, round(image.shape[0] * scale)))
    small = cv2.resize(image, size, interpolation=cv2.INTER_AREA) if scale < 1 else image
    if small.ndim == 3:
        return cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), small, scale
    return small, None, scale


def _warp(
    image: Pixels,
    angle_deg: float,
    corners: Pixels | None,
    scale: float,
    fill: float,
) -> Pixels:
    """Turn the page back by ``angle_deg`` and crop it to the paper (its 4 corners
    in the analysis copy), in one warp."""
    plan = _warp_plan(image.shape, angle_deg, corners, scale)
    if plan is None:
        return image
    return _warp_by(image, plan[0], plan[1], fill)


def _warp_plan(
    shape: tuple[int, ...], angle_deg: float, corners: Pixels | None, scale: float
) -> tuple[NDArray[np.float64], tuple[int, int]] | None:
    """The matrix and output size of :func:`_warp`; ``None`` when nothing is to be done."""
    height, width = shape[:2]
    if corners is None:
        center = (width / 2, height / 2)
        out_size = (width, height)
    else:
        full = corners / scale
        rot = cv2.getRotationMatrix2D((0.0, 0.0), -angle_deg, 1.0)
        turned = full @ rot[:, :2].T
        lo, hi = turned.min(axis=0), turned.max(axis=0)
        out_size = (max(1, round(hi[0] - lo[0])), max(1, round(hi[1] - lo[1])))
        center = tuple(np.mean(full, axis=0))
    matrix = cv2.getRotationMatrix2D((float(center[0]), float(center[1])), -angle_deg, 1.0)
    matrix[0, 2] += out_size[0] / 2 - center[0]
    matrix[1, 2] += out_size[1] / 2 - center[1]
    if abs(angle_deg) < 1e-3 and corners is None:
        return None
    return np.asarray(matrix, dtype=np.float64), out_size


def _warp_by(
    image: Pixels, matrix: NDArray[np.float64], out_size: tuple[int, int], fill: float
) -> Pixels:
    border = (fill, fill, fill) if image.ndim == 3 else fill
    return cv2.warpAffine(
        image,
        matrix,
        out_size,
        flags=cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_CONSTANT,
        borderValue=border,
    )


def _osd_turn(image: Pixels, angle_deg: float, dpi: int) -> tuple[int, float] | None:
    """Tesseract's orientation detection on the levelled page: its quarter turn
    (counter-clockwise from upright, as ``orientation_deg``) and its confidence."""
    from station.ocr import tesseract

    if _large(image) and dpi > OSD_DPI:
        # Tesseract needs no more than this; a full-scale grey copy would double the page
        image = cv2.resize(image, None, fx=OSD_DPI / dpi, fy=OSD_DPI / dpi,
                           interpolation=cv2.INTER_AREA)  # fmt: skip
        dpi = OSD_DPI
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    level = _warp(gray, angle_deg, None, 1.0, percentile_u8(gray, 90))
    result = tesseract.detect_orientation(level, dpi)
    if result is None or result.rotate not in _QUARTER_OR_NONE:
        return None
    # Tesseract's "Rotate: N" is the clockwise turn that makes the page upright,
    # which is how far the content is turned counter-clockwise
    return result.rotate, result.confidence


FINE_DPI = 200


def _text_only(ink: Pixels, px_per_mm: float) -> Pixels:
    """Drop what is not text from the ink: blobs wider and taller than any line of
    text (barcodes and QR codes, pictures, a label) and long thin strokes (the
    bars of a code, rules). A barcode's bars would otherwise outvote a short
    letter's lines and turn the page by a quarter."""
    count, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    if count <= 1:
        return ink
    w = stats[:, cv2.CC_STAT_WIDTH] / px_per_mm
    h = stats[:, cv2.CC_STAT_HEIGHT] / px_per_mm
    small_side, large_side = np.minimum(w, h), np.maximum(w, h)
    drop = (small_side > 8.0) | ((large_side > 12.0) & (small_side < 1.5))
    drop[0] = False
    if not drop.any():
        return ink
    kept: Pixels = ink & ~drop[labels]
    return kept


def _fine_points(
    image: Pixels, dpi: int, scale: float, level: float, ink: NDArray[np.bool_]
) -> NDArray[np.float64] | None:
    """Ink points at up to 200 dpi, in their own pixels, for the last skew steps."""
    fine_scale = min(1.0, FINE_DPI / dpi)
    if fine_scale <= scale * 1.2:
        return None
    if _large(image) and fine_scale < 1.0:
        # reduced first, then grey: no full-scale grey copy of a large page
        small = cv2.resize(image, None, fx=fine_scale, fy=fine_scale, interpolation=cv2.INTER_AREA)
        gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY) if small.ndim == 3 else small
        del small
    else:
        gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
        if fine_scale < 1.0:
            gray = cv2.resize(
                gray, None, fx=fine_scale, fy=fine_scale, interpolation=cv2.INTER_AREA
            )
    # only where the analysis found text ink (dilated): no background, no colour marks
    allowed = cv2.resize(
        cv2.dilate(ink.astype(np.uint8), np.ones((3, 3), np.uint8)),
        (gray.shape[1], gray.shape[0]),
        interpolation=cv2.INTER_NEAREST,
    )
    dark = (gray < max(0.0, level - 60)) & (allowed > 0)
    return ink_points(dark)


_QUARTER = {90: cv2.ROTATE_90_CLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_COUNTERCLOCKWISE}
_QUARTER_OR_NONE = (0, *_QUARTER)


def preprocess(
    image: Pixels,
    dpi: int,
    *,
    sensitivity: str = "medium",
    osd: bool = True,
    paper_mm: tuple[float, float] | None = None,
) -> Preprocessed:
    """Deskew, crop, orient and test one page (BGR or grey, full resolution).

    ``paper_mm``: the paper's size as the scanner was set (width, height, either
    way round); a page whose paper edge cannot be seen and that is larger than it
    is cut to it around the ink (:mod:`~station.imaging.overscan`)."""
    found = analyse(image, dpi, sensitivity=sensitivity, osd=osd, paper_mm=paper_mm)
    t0 = time.perf_counter()
    turn = found.turn
    corrected = image if turn.matrix is None else _warp_by(image, turn.matrix, turn.size, turn.fill)
    if turn.quarter:
        corrected = cv2.rotate(corrected, _QUARTER[turn.quarter])
    found.timings["warp"] = time.perf_counter() - t0
    return Preprocessed(
        image=corrected,
        skew_deg=found.skew_deg,
        orientation_deg=found.orientation_deg,
        blank=found.blank,
        paper_found=found.paper_found,
        paper_fitted=found.paper_fitted,
        ink_mm2=found.ink_mm2,
        orientation_confidence=found.orientation_confidence,
        orientation_source=found.orientation_source,
        orientation_sure=found.orientation_sure,
        timings=found.timings,
    )


def analyse(
    image: Pixels,
    dpi: int,
    *,
    sensitivity: str = "medium",
    osd: bool = True,
    paper_mm: tuple[float, float] | None = None,
) -> Analysis:
    """Every step of :func:`preprocess` but the correction itself: the page's skew,
    paper, orientation and blank test, and the :class:`Turn` that corrects it."""
    if sensitivity not in SENSITIVITY:
        raise ValueError(f"unknown blank sensitivity {sensitivity!r}")
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    gray, color, scale = _analysis_copy(image, dpi)
    px_per_mm = dpi * scale / 25.4
    margin = max(2, round(EDGE_MM * px_per_mm))
    paper = find_paper(gray, margin)
    region = content_mask(gray, paper, margin)
    level = paper.level if paper else percentile_u8(gray[region > 0], 90)
    t1 = time.perf_counter()
    timings["analysis"] = t1 - t0

    spread = colour_spread(color) if color is not None else None
    blank = detect_blank(gray, spread, region, level, px_per_mm, sensitivity)
    t2 = time.perf_counter()
    timings["blank"] = t2 - t1

    # skew and orientation from the ink (dark pixels only: colour marks such as
    # seals are round and would only blur the text lines)
    ink = (gray < max(0.0, level - SENSITIVITY["medium"].contrast)) & (region > 0)
    if spread is not None:
        # text is black or grey; red seals and blue signatures are round or
        # loopy and only blur the text lines
        ink &= spread < 50
    ink = _text_only(ink, px_per_mm)
    points = ink_points(ink)
    skew = None
    if not blank.blank:
        skew = estimate_skew(points, _fine_points(image, dpi, scale, level, ink))
    t3 = time.perf_counter()
    timings["skew"] = t3 - t2

    source = "none"
    confidence = 0.0
    orientation = 0
    sure = False
    if skew is not None:
        angle = skew.angle_deg
        if paper is not None and abs(paper.angle_deg - angle) <= PAPER_AGREES_DEG:
            # the paper's long straight edges are the finer measure, and turning
            # by them leaves no sliver of background along the crop
            angle = paper.angle_deg
        vote = up_down(points, angle, skew.vertical, px_per_mm)
        confidence = vote.confidence
        lines = Evidence(orientation_deg(skew.vertical, vote.upside_down), confidence, vote.lines)
        osd_found = None
        if osd and not lines.strong():
            osd_found = _osd_turn(image, angle, dpi)
        decision = decide(lines, osd_found)
        orientation, source, sure = decision.turn, decision.source, decision.sure
    elif paper is not None:
        angle = paper.angle_deg  # a blank page: the paper edge is all there is
    else:
        angle = 0.0
    t4 = time.perf_counter()
    timings["orientation"] = t4 - t3

    corners = paper.corners if paper is not None else None
    image_mm = (image.shape[1] * 25.4 / dpi, image.shape[0] * 25.4 / dpi)
    if paper is None and paper_mm is not None and needs_fit(image_mm, paper_mm):
        # the ink the blank test counted, at the station's sensitivity
        ink_outline = outline(blank.ink, px_per_mm)
        corners = fit_paper(gray.shape, ink_outline, angle, orientation, paper_mm, px_per_mm)
    timings["fit"] = time.perf_counter() - t4

    fill = float(np.clip(level, 0, 255))
    plan = _warp_plan(image.shape, angle, corners, scale)
    height, width = image.shape[:2]
    turn = (
        Turn(None, (int(width), int(height)), fill, orientation)
        if plan is None
        else Turn(plan[0], plan[1], fill, orientation)
    )
    return Analysis(
        turn=turn,
        skew_deg=round(float(angle), 3),
        orientation_deg=orientation,
        blank=bool(blank.blank),
        paper_found=paper is not None,
        paper_fitted=paper is None and corners is not None,
        ink_mm2=round(float(blank.ink_mm2), 1),
        orientation_confidence=round(float(confidence), 3),
        orientation_source=source,
        orientation_sure=sure,
        timings=timings,
    )


def _quarter_matrix(quarter: int, size: tuple[int, int]) -> NDArray[np.float64]:
    """3×3: pixels of a ``size`` image to the same image turned ``quarter`` degrees
    clockwise, as :func:`cv2.rotate` turns it."""
    width, height = size
    if quarter == 90:
        return np.array([[0.0, -1.0, height - 1.0], [1.0, 0.0, 0.0], [0.0, 0.0, 1.0]])
    if quarter == 180:
        return np.array([[-1.0, 0.0, width - 1.0], [0.0, -1.0, height - 1.0], [0.0, 0.0, 1.0]])
    if quarter == 270:
        return np.array([[0.0, 1.0, 0.0], [-1.0, 0.0, width - 1.0], [0.0, 0.0, 1.0]])
    return np.eye(3)


def corrected_strips(image: Pixels, turn: Turn, rows: int) -> Iterator[Pixels]:
    """The corrected page, ``rows`` rows at a time from the top: the same page
    as :func:`preprocess` makes, without ever holding it whole. The warp and the
    quarter turn are one affine map, evaluated for each strip."""
    width, height = turn.final_size
    if turn.matrix is None and not turn.quarter:
        for top in range(0, height, rows):
            yield image[top : top + rows]
        return
    matrix = np.eye(3)
    if turn.matrix is not None:
        matrix[:2] = turn.matrix
    matrix = _quarter_matrix(turn.quarter, turn.size) @ matrix
    border = (turn.fill, turn.fill, turn.fill) if image.ndim == 3 else turn.fill
    for top in range(0, height, rows):
        shifted = matrix.copy()
        shifted[1, 2] -= top
        yield cv2.warpAffine(
            image,
            shifted[:2],
            (width, min(rows, height - top)),
            flags=cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=border,
        )
