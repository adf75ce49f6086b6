"""What is put on a document after it was printed, and is not its header.

Decree 30 (Phụ lục I) prints a document's text in black. Red and blue ink on
page 1 is what came after: the seal, the e-signature box the signing software
composites ("Ký bởi: …", "Thời gian ký: …"), received stamps in violet or red,
a reader's notes in pen. :func:`dropout` turns such ink into paper before the
header is read, and :func:`coloured_words` takes the words printed in it out
of the text layer's header (the red secrecy and urgency marks are read on
their own, :func:`station.ocr.ink.red_marks`).

A received stamp ("CV ĐẾN — Số: 2352 — Ngày: 21/3/18 — Chuyển: …") is pressed
on page 1 by every office the paper passes through, often over the header. Its
register number and date are the receiving office's, never the document's. A
rubber stamp of that kind is a rectangle of ruled lines around its text: words
inside such a frame are taken out of the header before it is read.
"""

from __future__ import annotations

import threading
import weakref

import cv2
import numpy as np

from station.imaging.arrays import Pixels
from station.ocr.pdf import PageWords, Word

Box = tuple[float, float, float, float]

#: ink this far from grey (max - min of its B, G, R) is coloured: toner black is
#: within 20-30 of grey even in a JPEG
CHROMA = 60


def colour_mask(image: Pixels) -> Pixels | None:
    """Coloured ink (red, blue, violet) on a colour page; None for a grey or bilevel one."""
    if image.ndim != 3:
        return None
    blue, green, red = cv2.split(image)
    spread = cv2.subtract(cv2.max(cv2.max(blue, green), red), cv2.min(cv2.min(blue, green), red))
    mask: Pixels = (spread > CHROMA).astype(np.uint8)
    return mask


def dropout(image: Pixels, mask: Pixels | None = None) -> Pixels:
    """The page in grey with coloured ink (``mask``, else worked out) turned to paper."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    mask = colour_mask(image) if mask is None else mask
    if mask is None or not mask.any():
        return gray
    out: Pixels = gray.copy()
    out[mask > 0] = 255
    return out


#: the grey page without its coloured ink and the colour mask, per page image
#: (the header, the closing and both passes of the second readings share them)
_PREPARED: dict[int, tuple[weakref.ref[Pixels], Pixels, Pixels | None]] = {}
_PREPARED_LOCK = threading.Lock()


def prepared(image: Pixels) -> tuple[Pixels, Pixels | None]:
    """:func:`dropout` and :func:`colour_mask` of a page image, worked out once."""
    key = id(image)
    with _PREPARED_LOCK:
        found = _PREPARED.get(key)
        if found is not None and found[0]() is image:
            return found[1], found[2]
    mask = colour_mask(image)
    result = dropout(image, mask), mask
    with _PREPARED_LOCK:
        for stale in [k for k, (ref, _, _) in _PREPARED.items() if ref() is None]:
            del _PREPARED[stale]
        _PREPARED[key] = (weakref.ref(image), *result)
    return result


def coloured_words(page: PageWords, image: Pixels, dpi: int) -> PageWords:
    """The page's words without those printed in colour (most of their ink coloured)."""
    _, mask = prepared(image)
    if mask is None:
        return page
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    mm = dpi / 25.4
    h, w = gray.shape

    def coloured(word: Word) -> bool:
        x0, y0 = max(0, int(word.x0 * mm)), max(0, int(word.y0 * mm))
        x1, y1 = min(w, int(word.x1 * mm) + 1), min(h, int(word.y1 * mm) + 1)
        ink = gray[y0:y1, x0:x1] < 170
        if ink.sum() < 10:
            return False
        return bool(mask[y0:y1, x0:x1][ink].mean() > 0.6)

    kept = tuple(word for word in page.words if not coloured(word))
    return PageWords(page.width_mm, page.height_mm, kept)


#: a received stamp's frame, in millimetres (Decree 30 Phụ lục IV: about 50 × 20 mm)
FRAME_WIDTH = (25.0, 110.0)
FRAME_HEIGHT = (10.0, 50.0)
#: the share of the four sides that must be ruled ink, and of each side
SIDES_COVER, SIDE_COVER = 0.6, 0.3


def stamp_frames(image: Pixels, dpi: int, upper: float = 0.5) -> list[Box]:
    """The frames of stamps on the upper part of the page, in mm from its top left."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    top = gray[: int(gray.shape[0] * upper)]
    _, ink = cv2.threshold(top, 0, 255, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
    mm = dpi / 25.4
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, int(12 * mm)), np.uint8))
    down = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((int(6 * mm), 1), np.uint8))
    # a stamp's impression is broken: its sides are joined across small gaps
    gap = max(3, int(8 * mm))
    ruled = cv2.dilate(cv2.bitwise_or(across, down), np.ones((gap, gap), np.uint8))
    contours, _ = cv2.findContours(ruled, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    frames: list[Box] = []
    for contour in contours:
        x, y, w, h = cv2.boundingRect(contour)
        if not (FRAME_WIDTH[0] * mm <= w <= FRAME_WIDTH[1] * mm):
            continue
        if not (FRAME_HEIGHT[0] * mm <= h <= FRAME_HEIGHT[1] * mm):
            continue
        if _closed(across[y : y + h, x : x + w], down[y : y + h, x : x + w], gap + int(1.5 * mm)):
            # the box reaches half the joining gap beyond the ruled ink: room for
            # the stamp's agency line, printed in its top over a rule of its own
            frames.append((x / mm, y / mm, (x + w) / mm, (y + h) / mm))
    return frames


def _closed(across: Pixels, down: Pixels, band: int) -> bool:
    """Ruled ink along all four sides, within ``band`` pixels of them (an
    underline or a column rule is not a frame)."""
    h, w = across.shape
    sides = (
        across[:band].max(axis=0).mean(),
        across[h - band :].max(axis=0).mean(),
        down[:, :band].max(axis=1).mean(),
        down[:, w - band :].max(axis=1).mean(),
    )
    covers = [float(side) / 255 for side in sides]
    return min(covers) >= SIDE_COVER and sum(covers) / 4 >= SIDES_COVER


def outside(page: PageWords, frames: list[Box]) -> PageWords:
    """The page's words without those inside a frame."""
    if not frames:
        return page

    def inside(word: Word) -> bool:
        cx, cy = (word.x0 + word.x1) / 2, (word.y0 + word.y1) / 2
        return any(x0 <= cx <= x1 and y0 <= cy <= y1 for x0, y0, x1, y1 in frames)

    kept = tuple(word for word in page.words if not inside(word))
    return PageWords(page.width_mm, page.height_mm, kept)
