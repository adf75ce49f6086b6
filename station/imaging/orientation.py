"""Upright or upside down, from the shape of the text lines.

Within a line of Vietnamese (or any Latin-script) text, most ink lies in the
x-height band; above it stand capitals, ascenders (b d h k l đ) and the tone and
vowel marks (á à ả ã, â ê ô, ơ ư), below it only descenders (g p q y) and the
dot of the nặng tone. So in an upright line the ink outside the band is mostly
above it; turned upside down, mostly below. Summed over every line of a page
this is a strong vote; when the vote is weak (a page with almost no text) the
caller may ask Tesseract's orientation detection instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class UpDown:
    upside_down: bool
    confidence: float  # |above - below| / (above + below), 0..1
    lines: int


def _line_bands(profile: NDArray[np.int64], min_height: int) -> list[tuple[int, int]]:
    """Runs of rows holding ink, split at empty rows: one per text line."""
    threshold = max(1, int(profile.max() * 0.02))
    filled = profile >= threshold
    bands = []
    start = None
    for row, on in enumerate(filled):
        if on and start is None:
            start = row
        elif not on and start is not None:
            if row - start >= min_height:
                bands.append((start, row))
            start = None
    if start is not None and len(filled) - start >= min_height:
        bands.append((start, len(filled)))
    return bands


def _vote(rows: NDArray[np.float64], min_height: int, max_height: int) -> tuple[float, float, int]:
    """Ink above and below the x-height band, summed over the lines of one strip.

    Bands taller than a line of text (barcodes, seals, pictures) do not vote.
    """
    if len(rows) < 20:
        return 0.0, 0.0, 0
    profile = np.bincount((rows - rows.min()).astype(np.int64))
    above = below = 0.0
    lines = 0
    for top, bottom in _line_bands(profile, min_height):
        band = profile[top:bottom].astype(np.float64)
        if band.sum() < 20 or bottom - top > max_height:
            continue
        core = np.nonzero(band >= 0.5 * band.max())[0]
        core_top, core_bottom = int(core[0]), int(core[-1])
        if core_bottom - core_top < 1:
            continue
        above += float(band[:core_top].sum())
        below += float(band[core_bottom + 1 :].sum())
        lines += 1
    return above, below, lines


def up_down(
    points: NDArray[np.float64], angle_deg: float, vertical: bool, px_per_mm: float
) -> UpDown:
    """Vote on the ink points (x, y) of a page whose lines run at ``angle_deg``.

    The page is cut into strips 35 mm wide so that blocks side by side (the
    recipients list beside the signature block, the agency block beside the
    national motto) do not blur each other's lines.
    """
    x, y = points[:, 0], points[:, 1]
    if vertical:
        x, y = -y, x
    theta = np.radians(angle_deg)
    # turn the points so the lines are level
    rows = y * np.cos(theta) + x * np.sin(theta)
    cols = x * np.cos(theta) - y * np.sin(theta)
    min_height = max(3, int(1.2 * px_per_mm))  # a line of text is over ~1.2 mm tall
    max_height = int(8.0 * px_per_mm)  # ... and under 8 mm, marks included
    strip = 35 * px_per_mm
    keys = ((cols - cols.min()) // strip).astype(np.int64)
    above = below = 0.0
    lines = 0
    for key in np.unique(keys):
        a, b, n = _vote(rows[keys == key], min_height, max_height)
        above, below, lines = above + a, below + b, lines + n
    total = above + below
    if total == 0:
        return UpDown(upside_down=False, confidence=0.0, lines=lines)
    return UpDown(upside_down=below > above, confidence=abs(above - below) / total, lines=lines)


def orientation_deg(vertical: bool, upside_down: bool) -> int:
    """How far the content is turned counter-clockwise from upright.

    Lines along the height (``vertical``) are turned by 90° or 270°; after the
    page is turned back clockwise by 90°, the up/down vote tells which.
    """
    if not vertical:
        return 180 if upside_down else 0
    return 270 if upside_down else 90
