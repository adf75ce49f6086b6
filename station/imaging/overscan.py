"""The paper on a white backing, when the scan area is larger than the paper.

Against a white backing the paper's edge cannot be seen (:mod:`~station.imaging.paper`
finds none), and a scanner set to a scan area larger than the paper (an
overscan, or ``page_size = "max"``) delivers the paper with a white margin
around it: the page would come out larger than any paper size. The scanner
profile's paper size is then taken as the truth of the paper, and the page is
cut to it around the ink:

- only when the image is larger than that paper by more than the tolerance of
  ``scanstation verify`` on one side and not smaller on the other (an A5 or
  Letter sheet scanned as such keeps its size);
- the paper lies the way the image lies (portrait or landscape; the other way
  only when that alone holds the ink and the image is large enough for it) and
  is turned by the page's skew;
- all the ink is inside the cut; where the ink leaves room, the cut gives it
  the margins of Decree 30 (Phụ lục I: top and bottom 20 mm, left 30 mm, right
  15 mm) on the sides the page's orientation makes top and left, and keeps the
  paper inside the scan area, where the paper was;
- ink wider or taller than the paper cannot be cut around: the page is left
  as it is.
"""

from __future__ import annotations

import cv2
import numpy as np
from numpy.typing import NDArray

from station.imaging.blank import Ink
from station.records.verify import PAPER_TOLERANCE_MM

#: Ink components up to this size (mm) count by their box's corners, larger ones
#: (seals, rules, pictures) by the hull of their pixels: a box turned by the skew
#: would stand out past a large round seal.
SMALL_MM = 5.0
#: Decree 30 margins in mm, leading side first (top, then bottom; left, then right).
MARGINS_MM = {"vertical": (20.0, 20.0), "horizontal": (30.0, 15.0)}


def needs_fit(image_mm: tuple[float, float], paper_mm: tuple[float, float]) -> bool:
    """Whether an image of ``image_mm`` (width, height) is the paper with a margin
    of backing around it: larger than the paper (laid the same way) by more than
    the tolerance, and nowhere smaller."""
    width, height = image_mm
    short, long = sorted(paper_mm)
    paper_w, paper_h = (long, short) if width > height else (short, long)
    if width < paper_w - PAPER_TOLERANCE_MM or height < paper_h - PAPER_TOLERANCE_MM:
        return False
    return width > paper_w + PAPER_TOLERANCE_MM or height > paper_h + PAPER_TOLERANCE_MM


def _leading(orientation_deg: int) -> tuple[tuple[bool, str], tuple[bool, str]]:
    """For the levelled image's x and y axes: whether the page's top or left lies
    at the low end, and which of the page's directions the axis runs along."""
    return {
        0: ((True, "horizontal"), (True, "vertical")),
        90: ((True, "vertical"), (False, "horizontal")),
        180: ((False, "horizontal"), (False, "vertical")),
        270: ((False, "vertical"), (True, "horizontal")),
    }[orientation_deg]


HalfPlane = tuple[NDArray[np.float64], float]  # a and b of a·z <= b


def _clip(polygon: NDArray[np.float64], plane: HalfPlane) -> NDArray[np.float64]:
    """The part of a convex polygon (rows of points, in order) on the plane's side."""
    a, b = plane
    kept: list[NDArray[np.float64]] = []
    for k in range(len(polygon)):
        p, q = polygon[k], polygon[(k + 1) % len(polygon)]
        fp, fq = float(a @ p) - b, float(a @ q) - b
        if fp <= 0:
            kept.append(p)
        if (fp < 0 < fq) or (fq < 0 < fp):
            kept.append(p + (q - p) * (fp / (fp - fq)))
    return np.array(kept, np.float64).reshape(-1, 2)


def _nearest(polygon: NDArray[np.float64], point: NDArray[np.float64]) -> NDArray[np.float64]:
    """The point of a convex polygon (counter-clockwise or clockwise) nearest to ``point``."""
    edges = np.roll(polygon, -1, axis=0) - polygon
    cross = edges[:, 0] * (point[1] - polygon[:, 1]) - edges[:, 1] * (point[0] - polygon[:, 0])
    if np.all(cross >= -1e-9) or np.all(cross <= 1e-9):
        return point
    lengths = np.maximum((edges**2).sum(axis=1), 1e-12)
    t = np.clip(((point - polygon) * edges).sum(axis=1) / lengths, 0.0, 1.0)
    candidates = polygon + edges * t[:, None]
    best: NDArray[np.float64] = candidates[int(np.argmin(((candidates - point) ** 2).sum(axis=1)))]
    return best


def outline(ink: Ink, px_per_mm: float) -> NDArray[np.float64] | None:
    """Points whose convex hull holds all the kept ink (analysis pixels), or None."""
    stats = ink.stats
    x, y, w, h = (stats[:, k] for k in range(4))
    small = ink.kept & (np.maximum(w, h) <= SMALL_MM * px_per_mm)
    parts = [
        np.stack([x[small], y[small]], axis=1),
        np.stack([x[small] + w[small], y[small] + h[small]], axis=1),
        np.stack([x[small] + w[small], y[small]], axis=1),
        np.stack([x[small], y[small] + h[small]], axis=1),
    ]
    for label in np.flatnonzero(ink.kept & ~small):
        window = ink.labels[y[label] : y[label] + h[label], x[label] : x[label] + w[label]]
        pixels = cv2.findNonZero((window == label).astype(np.uint8))
        hull = cv2.convexHull(pixels).reshape(-1, 2)
        # a pixel covers a unit square: its far corners too
        origin = np.array([x[label], y[label]])
        parts.append(np.concatenate([hull, hull + 1]) + origin)
    points = np.concatenate(parts).astype(np.float64)
    return points if len(points) else None


def fit_paper(
    shape: tuple[int, int],
    ink: NDArray[np.float64] | None,
    angle_deg: float,
    orientation_deg: int,
    paper_mm: tuple[float, float],
    px_per_mm: float,
) -> NDArray[np.float64] | None:
    """The paper's 4 corners in the analysis image (``shape``: height, width), or
    None when the ink (``ink``: points around it, see :func:`outline`) is larger
    than the paper either way round.

    ``angle_deg`` is the page's counter-clockwise skew, ``orientation_deg`` its
    quarter turn from upright (0, 90, 180, 270), ``paper_mm`` the paper's size."""
    height, width = shape
    short, long = (side * px_per_mm for side in sorted(paper_mm))
    # the paper lies the way the image lies; the other way only when the ink
    # needs it and the image is large enough for it (a nearly square scan area)
    laid = [np.array((long, short)), np.array((short, long))]
    if width <= height:
        laid.reverse()
    tolerance = PAPER_TOLERANCE_MM * px_per_mm
    # into the levelled frame: the image turned back by the skew (row vectors:
    # levelled = captured @ turn.T, captured = levelled @ turn)
    turn = np.asarray(cv2.getRotationMatrix2D((0.0, 0.0), -angle_deg, 1.0)[:, :2], np.float64)
    if ink is None:  # nothing printed: the paper in the middle of the scan area
        start = np.array([width / 2, height / 2]) @ turn.T - laid[0] / 2
        return _corners(start, laid[0], turn)
    points = ink @ turn.T
    low, high = points.min(axis=0), points.max(axis=0)
    room_for = np.array((width, height), np.float64) + tolerance
    fits = [
        size
        for k, size in enumerate(laid)
        if np.all(high - low <= size) and (k == 0 or np.all(size <= room_for))
    ]
    if not fits:
        return None
    size = fits[0]
    wanted = np.empty(2)
    for axis, (low_leads, direction) in enumerate(_leading(orientation_deg)):
        slack = size[axis] - (high[axis] - low[axis])
        lead_mm, trail_mm = MARGINS_MM[direction]
        lead = min(lead_mm * px_per_mm, slack * lead_mm / (lead_mm + trail_mm))
        wanted[axis] = low[axis] - lead if low_leads else high[axis] + lead - size[axis]
    # the paper's top-left corner may lie where all the ink is on the paper ...
    x0, y0 = high - size
    x1, y1 = low
    room = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
    # ... and the paper inside the scan area, where it lay
    for offset in (np.array([0.0, 0.0]), size * (1, 0), size, size * (0, 1)):
        shift = offset @ turn
        for axis, limit in enumerate((width, height)):
            room = _clip(room, (turn[:, axis], limit - float(shift[axis])))
            room = _clip(room, (-turn[:, axis], float(shift[axis])))
    if len(room) < 3:  # the sheet did not fit the scan area: the ink alone decides
        return _corners(np.clip(wanted, high - size, low), size, turn)
    return _corners(_nearest(room, wanted), size, turn)


def _corners(
    start: NDArray[np.float64], size: NDArray[np.float64], turn: NDArray[np.float64]
) -> NDArray[np.float64]:
    """A levelled box from its top-left corner, back in the captured image."""
    (x0, y0), (x1, y1) = start, start + size
    box = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], np.float64)
    corners: NDArray[np.float64] = box @ turn
    return corners
