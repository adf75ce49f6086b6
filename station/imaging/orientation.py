"""Upright or upside down, from the shape of the text lines.

Within a line of Vietnamese (or any Latin-script) text, most ink lies in the
x-height band; above it stand capitals, ascenders (b d h k l đ) and the tone and
vowel marks (á à ả ã, â ê ô, ơ ư), below it only descenders (g p q y) and the
dot of the nặng tone. So in an upright line the ink outside the band is mostly
above it; turned upside down, mostly below. Summed over every line of a page
this is a strong vote; when the vote is weak (a page with almost no text) the
caller may ask Tesseract's orientation detection instead.

A page is turned only on strong evidence (:func:`decide`): many text lines that
vote clearly, or the text lines and Tesseract's OSD agreeing, or OSD alone
very sure. A table, a map, a photograph or a page of two lines gives neither,
and is left as captured, marked unsure, for the clerk to turn in the review.
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


# The thresholds below were measured (bench/orientation.py, docs/benchmarks.md):
# on generated letters every page has 44 or more lines voting 0.30 or more,
# while a ruled table gives 120 "lines" voting 0.12 the wrong way, a map 21 at
# 0.28 and a photograph 5 at 0.49; OSD answered wrongly with confidence up to
# 2.7 (a photograph) and rightly from 8.1 on typed text and tables. Where the
# lines and OSD agreed wrongly (a map), the vote was at most 0.28 and OSD at
# most 0.6; sparse letter pages agree at 0.27 and 5.9, or 0.34 and 0.67.

#: The text-line vote alone turns a page when at least this many lines vote ...
STRONG_LINES = 30
#: ... and their vote is at least this clear.
STRONG_VOTE = 0.25
#: Text lines and OSD giving the same turn decide it when the vote is at least
#: the first figure and OSD's confidence at least the second.
AGREE = ((0.3, 0.5), (0.12, 1.0))
#: Tesseract's OSD confidence from which it decides alone (over twice the
#: highest wrong answer measured).
OSD_STRONG = 6.0


@dataclass(frozen=True)
class Evidence:
    """What the text lines say: the turn they find, how clearly, from how many lines."""

    turn: int  # 0, 90, 180 or 270, as :func:`orientation_deg`
    vote: float  # :attr:`UpDown.confidence`
    lines: int

    def strong(self) -> bool:
        """Clear enough to turn the page with no second opinion."""
        return self.lines >= STRONG_LINES and self.vote >= STRONG_VOTE


@dataclass(frozen=True)
class Decision:
    turn: int  # the quarter turn to undo; 0 when unsure
    source: str  # "text-lines", "agreed", "osd" or "none"
    sure: bool


def decide(lines: Evidence, osd: tuple[int, float] | None) -> Decision:
    """The page's turn from the text lines and Tesseract's OSD (its turn and
    confidence, None when it was not asked or found nothing).

    Turned only when the text lines are strong, when OSD is confident enough
    and agrees with them, or when OSD is very sure alone; otherwise the page
    stays as captured and is marked unsure."""
    if lines.strong():
        return Decision(lines.turn, "text-lines", True)
    if osd is not None:
        turn, confidence = osd
        agrees = turn == lines.turn and any(
            lines.vote >= vote and confidence >= least for vote, least in AGREE
        )
        if agrees or confidence >= OSD_STRONG:
            return Decision(turn, "agreed" if turn == lines.turn else "osd", True)
    return Decision(0, "none", False)
