"""Blank pages: the backs of single-sided documents in a duplex scan.

A page is blank when, inside the paper and away from its edges, nothing is left
after removing what is not ink:

- bleed-through from the other side is faint: ink must be darker than the paper
  by ``contrast`` levels (or clearly coloured, for red seals and blue pens);
- dust and scanner noise are specks: components under ``min_speck`` mm² go;
- a dirty scanner glass draws a thin streak along the feed direction through
  every page: components thinner than 0.6 mm that run most of the page go.

What is left is counted in mm² of ink. A signature alone is tens of mm², a seal
hundreds; a few lines of text more still, so the floor sits far below them.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from station.imaging.arrays import Pixels


@dataclass(frozen=True)
class BlankRule:
    contrast: int  # grey levels below the paper that count as ink
    saturation: int  # colour strength that counts as ink (seals, blue pens)
    min_speck_mm2: float  # smaller components are dust
    min_ink_mm2: float  # less ink than this in total is a blank page


SENSITIVITY: dict[str, BlankRule] = {
    # low: keeps more pages (faint pencil marks count)
    "low": BlankRule(contrast=45, saturation=60, min_speck_mm2=0.15, min_ink_mm2=2.0),
    "medium": BlankRule(contrast=60, saturation=70, min_speck_mm2=0.25, min_ink_mm2=4.0),
    # high: drops more (very faint content is taken for noise)
    "high": BlankRule(contrast=80, saturation=90, min_speck_mm2=0.4, min_ink_mm2=8.0),
}


def colour_spread(color: Pixels) -> Pixels:
    """Per pixel, the largest minus the smallest channel: 0 for greys, high for red or blue."""
    b, g, r = cv2.split(color)
    return cv2.subtract(cv2.max(cv2.max(b, g), r), cv2.min(cv2.min(b, g), r))


def ink_mask(
    gray: Pixels,
    spread: Pixels | None,
    region: Pixels,
    paper_level: float,
    rule: BlankRule,
) -> NDArray[np.bool_]:
    """Pixels that are ink: darker than the paper, or strongly coloured."""
    dark = gray < max(0.0, paper_level - rule.contrast)
    if spread is not None:
        dark |= spread > rule.saturation
    return dark & (region > 0)


@dataclass(frozen=True)
class Ink:
    """Connected components of ink: ``labels`` numbers them (0 is no ink),
    ``stats`` is OpenCV's row per label, ``kept`` says which are neither dust
    nor a streak."""

    labels: Pixels
    stats: NDArray[np.int32]
    kept: NDArray[np.bool_]


def ink_components(
    gray: Pixels,
    spread: Pixels | None,
    region: Pixels,
    paper_level: float,
    px_per_mm: float,
    rule: BlankRule,
) -> Ink:
    """The ink in ``region``, with dust and streaks told apart."""
    ink = ink_mask(gray, spread, region, paper_level, rule).astype(np.uint8)
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
    w, h = stats[:, cv2.CC_STAT_WIDTH], stats[:, cv2.CC_STAT_HEIGHT]
    height, width = gray.shape
    thin = 0.6 * px_per_mm
    # a streak from dirt on the scanner glass is thin and runs most of the page
    streak = ((w <= thin) & (h > 0.5 * height)) | ((h <= thin) & (w > 0.5 * width))
    kept = (stats[:, cv2.CC_STAT_AREA] >= rule.min_speck_mm2 * px_per_mm**2) & ~streak
    kept[0] = False  # the background
    return Ink(labels=labels, stats=stats.astype(np.int32), kept=kept)


@dataclass(frozen=True)
class BlankResult:
    blank: bool
    ink_mm2: float
    components: int
    ink: Ink  # what was counted, for the cut on a white backing


def detect_blank(
    gray: Pixels,
    spread: Pixels | None,
    region: Pixels,
    paper_level: float,
    px_per_mm: float,
    sensitivity: str = "medium",
) -> BlankResult:
    rule = SENSITIVITY[sensitivity]
    ink = ink_components(gray, spread, region, paper_level, px_per_mm, rule)
    ink_mm2 = float(ink.stats[ink.kept, cv2.CC_STAT_AREA].sum()) / px_per_mm**2
    return BlankResult(
        blank=ink_mm2 < rule.min_ink_mm2,
        ink_mm2=ink_mm2,
        components=int(ink.kept.sum()),
        ink=ink,
    )
