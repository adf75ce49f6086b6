"""Finding the paper against the scanner's background.

ADF scanners with a grey or black backing deliver the paper as a bright,
slightly turned rectangle inside a darker frame. On a white backing there is no
contrast to find, and the image is taken to be the paper itself, or cut to the
profile's paper when it is larger (:mod:`~station.imaging.overscan`).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from station.imaging.arrays import Pixels

#: The paper must be this much brighter than the background to be told apart.
MIN_CONTRAST = 45
#: ... and cover at least this share of the image.
MIN_AREA = 0.25


@dataclass(frozen=True)
class Paper:
    """The paper as a turned rectangle, in the analysis image's pixels."""

    center: tuple[float, float]
    size: tuple[float, float]  # width, height along the rectangle's own axes
    angle_deg: float  # counter-clockwise turn of the rectangle, within ±45°
    corners: Pixels  # the rectangle's 4 corners
    mask: Pixels  # 255 on the paper, eroded away from its edge
    level: float  # typical brightness of the paper
    background: float  # typical brightness of the background


def percentile_u8(values: Pixels, q: float) -> float:
    """Percentile of 8-bit values from their histogram (much faster than np.percentile)."""
    counts = np.bincount(values.ravel(), minlength=256)
    if counts.sum() == 0:
        return 255.0
    cumulative = np.cumsum(counts)
    return float(np.searchsorted(cumulative, q / 100 * cumulative[-1]))


def _border_level(gray: Pixels) -> float:
    h, w = gray.shape
    band = max(2, min(h, w) // 50)
    strips = np.concatenate(
        [gray[:band].ravel(), gray[-band:].ravel(), gray[:, :band].ravel(), gray[:, -band:].ravel()]
    )
    return percentile_u8(strips, 50)


def rect_angle(points: Pixels) -> tuple[float, tuple[float, float]]:
    """Counter-clockwise angle within ±45° and (width, height) of a box's 4 corners."""
    edge_a = points[1] - points[0]
    edge_b = points[2] - points[1]
    len_a, len_b = float(np.hypot(*edge_a)), float(np.hypot(*edge_b))
    # image y grows downwards: a counter-clockwise turn makes a rising edge
    angle = float(np.degrees(np.arctan2(-edge_a[1], edge_a[0])))
    angle = (angle + 45.0) % 90.0 - 45.0
    # the edge closer to horizontal after normalising is the width
    raw = float(np.degrees(np.arctan2(-edge_a[1], edge_a[0])))
    horizontal_a = abs(((raw + 90.0) % 180.0) - 90.0) < 45.0
    size = (len_a, len_b) if horizontal_a else (len_b, len_a)
    return angle, size


def find_paper(gray: Pixels, margin_px: int) -> Paper | None:
    """The paper rectangle, or None when the background cannot be told apart."""
    level = percentile_u8(gray, 90)
    background = _border_level(gray)
    if level - background < MIN_CONTRAST:
        return None
    threshold = (level + background) / 2
    mask: Pixels = (gray > threshold).astype(np.uint8) * 255
    # fill text and pictures so the paper is one solid region; the padding keeps
    # the closing from filling background wedges that touch the image border
    k = max(3, (margin_px // 2) | 1)
    padded = cv2.copyMakeBorder(mask, k, k, k, k, cv2.BORDER_CONSTANT, value=0)
    padded = cv2.morphologyEx(
        padded, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_RECT, (k, k))
    )
    mask = cv2.morphologyEx(padded[k:-k, k:-k], cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    if not contours:
        return None
    contour = max(contours, key=cv2.contourArea)
    if cv2.contourArea(contour) < MIN_AREA * gray.size:
        return None
    box = cv2.minAreaRect(contour)
    corners = cv2.boxPoints(box)
    angle, size = rect_angle(corners)
    solid = np.zeros_like(mask)
    cv2.fillPoly(solid, [contour], 255)
    # away from the paper's edges, the image border counting as an edge too
    inner = cv2.erode(
        solid,
        np.ones((3, 3), np.uint8),
        iterations=max(1, margin_px),
        borderType=cv2.BORDER_CONSTANT,
        borderValue=0,
    )
    return Paper(
        center=(float(box[0][0]), float(box[0][1])),
        size=size,
        angle_deg=angle,
        corners=corners,
        mask=inner,
        level=level,
        background=background,
    )


def content_mask(gray: Pixels, paper: Paper | None, margin_px: int) -> Pixels:
    """Where to look for ink: inside the paper, away from its edges and shadows."""
    if paper is not None:
        return paper.mask
    mask = np.zeros_like(gray)
    mask[margin_px:-margin_px, margin_px:-margin_px] = 255
    return mask
