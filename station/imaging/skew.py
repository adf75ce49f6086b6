"""Skew of the text lines from projection profiles of the ink.

The ink pixels are projected onto a line at angle θ; when θ matches the text
lines' angle, the projection falls into sharp peaks (one per text line) and
the sum of squared bin counts is highest. The search runs coarse to fine
(1° over ±20°, then 0.1°, 0.01° and 0.002°), for lines that run across the page
and for lines that run along it (a page turned by a quarter): the axis with the
sharper profile tells which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

MAX_POINTS = 60_000
COARSE_POINTS = 12_000
SEARCH_DEG = 20.0


@dataclass(frozen=True)
class Skew:
    angle_deg: float  # counter-clockwise turn of the text lines from the nearest axis
    vertical: bool  # lines run along the page height: turned by 90° or 270°
    sharpness: float  # profile score at the best angle over the score at the worst
    points: int  # ink pixels that took part


def ink_points(ink: NDArray[np.bool_], rng_seed: int = 0) -> NDArray[np.float64]:
    """(x, y) of ink pixels, at most MAX_POINTS of them, evenly drawn."""
    ys, xs = np.nonzero(ink)
    if len(xs) > MAX_POINTS:
        pick = np.random.default_rng(rng_seed).choice(len(xs), MAX_POINTS, replace=False)
        xs, ys = xs[pick], ys[pick]
    return np.stack([xs, ys], axis=1).astype(np.float64)


def _scores(
    points: NDArray[np.float64], angles: NDArray[np.float64], vertical: bool
) -> NDArray[np.float64]:
    x, y = points[:, 0].astype(np.float32), points[:, 1].astype(np.float32)
    if vertical:
        # lines along the height: project onto x, turned the same way
        x, y = -y, x
    # keeps every projection non-negative without a min() per angle
    offset = np.float32(np.abs(x).max() + np.abs(y).max() + 1)
    out = np.empty(len(angles))
    for i, angle in enumerate(np.radians(angles)):
        # a line turned counter-clockwise by θ rises to the right (y falls):
        # y·cosθ + x·sinθ is constant along it
        proj = y * np.float32(np.cos(angle)) + x * np.float32(np.sin(angle)) + offset
        counts = np.bincount(proj.astype(np.int32))
        out[i] = float(np.dot(counts, counts))
    return out


def _refine(
    points: NDArray[np.float64], center: float, half: float, step: float, vertical: bool
) -> tuple[float, float]:
    angles = np.arange(center - half, center + half + step / 2, step)
    scores = _scores(points, angles, vertical)
    best = int(np.argmax(scores))
    if 0 < best < len(scores) - 1:
        # parabola through the best three for a sub-step estimate
        a, b, c = scores[best - 1 : best + 2]
        denom = a - 2 * b + c
        offset = 0.5 * (a - c) / denom if denom < 0 else 0.0
        return float(angles[best] + offset * step), float(scores[best])
    return float(angles[best]), float(scores[best])


def estimate_skew(
    points: NDArray[np.float64], fine: NDArray[np.float64] | None = None
) -> Skew | None:
    """Angle of the text lines; None when there is too little ink to tell.

    ``fine``: the same ink at a higher resolution, for the last refinement
    (short lines, as on a page with only a signature block, need it).
    """
    if len(points) < 200:
        return None
    coarse = np.arange(-SEARCH_DEG, SEARCH_DEG + 0.5, 1.0)
    sample = points[:: max(1, len(points) // COARSE_POINTS)]
    best: tuple[float, float, float, bool] | None = None
    for vertical in (False, True):
        scores = _scores(sample, coarse, vertical)
        peak = float(scores.max())
        sharp = peak / max(float(np.median(scores)), 1.0)
        if best is None or sharp > best[2]:
            best = (float(coarse[int(np.argmax(scores))]), peak, sharp, vertical)
    assert best is not None
    angle, _, sharpness, vertical = best
    angle, _ = _refine(points, angle, 1.2, 0.1, vertical)
    detail = fine if fine is not None and len(fine) >= len(points) else points
    angle, _ = _refine(detail, angle, 0.1, 0.01, vertical)
    angle, _ = _refine(detail, angle, 0.015, 0.002, vertical)
    return Skew(angle_deg=angle, vertical=vertical, sharpness=sharpness, points=len(points))
