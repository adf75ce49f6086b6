"""Annex pages that give orientation little to go on, drawn at 200 dpi A4:

- ``table``: a ruled table of figures with a short caption;
- ``map``: a road and river drawing with parcels, a north arrow and place names;
- ``photo``: a photograph-like image (sky, hills, a house, noise) on the page;
- ``two-lines``: a page with only two lines of text;
- ``letter``: a page of Vietnamese text (the control: it must be turned upright).

Shared by tests/test_orientation.py and bench/orientation.py. Each page is
returned upright as BGR; :func:`turned` gives it as captured at a quarter turn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

from station.common.fonts import font
from station.demo.samples import SAMPLE_DOCUMENTS, render_document

DPI = 200
SIZE = (1654, 2339)  # A4 at 200 dpi
PAPER = (250, 249, 245)
INK = (25, 25, 25)

Pixels = np.ndarray[Any, Any]


def _blank() -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("RGB", SIZE, PAPER)
    return image, ImageDraw.Draw(image)


def _bgr(image: Image.Image) -> Pixels:
    return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)


def table(seed: int = 0) -> Pixels:
    """Phụ lục: a ruled table, digits in the cells, one caption line."""
    rng = np.random.default_rng(seed)
    image, pen = _blank()
    pen.text((200, 180), "PHỤ LỤC 1", font=font("bold", 34), fill=INK)
    left, top, cols, rows, cell_w, cell_h = 170, 300, 5, 22, 260, 80
    for r in range(rows + 1):
        y = top + r * cell_h
        pen.line((left, y, left + cols * cell_w, y), fill=INK, width=3 if r in (0, 1) else 2)
    for c in range(cols + 1):
        x = left + c * cell_w
        pen.line((x, top, x, top + rows * cell_h), fill=INK, width=2)
    digits = font("regular", 26)
    for r in range(1, rows):
        for c in range(cols):
            value = f"{int(rng.integers(10, 99_999)):,}".replace(",", ".")
            pen.text((left + c * cell_w + 30, top + r * cell_h + 24), value, font=digits, fill=INK)
    return _bgr(image)


def map_page(seed: int = 0) -> Pixels:
    """A map-like drawing: roads, a river, parcel outlines, a north arrow, names."""
    rng = np.random.default_rng(seed)
    image, pen = _blank()
    pen.rectangle((120, 160, 1534, 2180), outline=INK, width=5)
    river = [(120 + k * 30, 900 + 180 * np.sin(k / 6) + 60 * np.sin(k / 2.3)) for k in range(48)]
    pen.line(river, fill=(150, 90, 40), width=22)
    for _ in range(7):
        a = (int(rng.integers(120, 1534)), int(rng.integers(160, 2180)))
        b = (int(rng.integers(120, 1534)), int(rng.integers(160, 2180)))
        pen.line((a, b), fill=(60, 60, 60), width=int(rng.integers(4, 10)))
    for _ in range(40):
        x, y = int(rng.integers(150, 1400)), int(rng.integers(200, 2050))
        w, h = int(rng.integers(40, 160)), int(rng.integers(40, 160))
        pen.polygon(
            [(x, y), (x + w, y + int(rng.integers(-20, 20))), (x + w, y + h), (x, y + h)],
            outline=INK,
            width=2,
        )
    pen.polygon([(1420, 220), (1450, 320), (1390, 320)], fill=INK)  # north arrow
    pen.text((1405, 330), "N", font=font("bold", 40), fill=INK)
    names = font("regular", 28)
    for name in ("Thôn Đông", "Xã Hòa Bình", "Sông Cầu", "Đồi Thông"):
        x, y = int(rng.integers(200, 1200)), int(rng.integers(300, 2000))
        pen.text((x, y), name, font=names, fill=INK)
    return _bgr(image)


def photo(seed: int = 0) -> Pixels:
    """A photograph-like image: a sky gradient, hills, a house, trees, grain.
    Pages of evidence photos in an annex look like this: no text at all."""
    rng = np.random.default_rng(seed)
    height, width = 1500, 1300
    y = np.linspace(0.0, 1.0, height)[:, None]
    sky = np.stack([235 - 60 * y, 210 - 40 * y, 160 + 20 * y], axis=2) * np.ones((1, width, 1))
    picture = sky.astype(np.float32)
    xs = np.arange(width)
    for base, amp, period, colour in (
        (900, 120, 400, (70, 120, 60)),
        (1100, 80, 260, (40, 90, 40)),
    ):
        ridge = base + amp * np.sin(xs / period * 2 * np.pi + rng.uniform(0, 6))
        below = np.arange(height)[:, None] >= ridge[None, :]
        picture[below] = colour
    cv2.rectangle(picture, (450, 800), (850, 1150), (180, 190, 200), -1)  # house
    cv2.fillPoly(picture, [np.array([[420, 800], [650, 620], [880, 800]])], (40, 40, 140))
    cv2.rectangle(picture, (600, 980), (700, 1150), (50, 60, 80), -1)
    for _ in range(25):  # trees
        cx, cy = int(rng.integers(0, width)), int(rng.integers(1050, 1450))
        cv2.circle(picture, (cx, cy), int(rng.integers(30, 70)), (30, 70, 30), -1)
    picture += rng.normal(0, 12, picture.shape).astype(np.float32)
    grain = cv2.GaussianBlur(np.clip(picture, 0, 255).astype(np.uint8), (3, 3), 0)
    page = np.full((SIZE[1], SIZE[0], 3), PAPER[::-1], np.uint8)
    page[300 : 300 + height, 177 : 177 + width] = grain
    return page


def two_lines(seed: int = 0) -> Pixels:
    """A page with only two lines of text (a cover note, a caption page)."""
    image, pen = _blank()
    f = font("regular", 36)
    pen.text((260, 400), "Kèm theo hồ sơ số 125/2026 của UBND xã.", font=f, fill=INK)
    pen.text((260, 460), "Bản đồ và ảnh hiện trạng xem các trang sau.", font=f, fill=INK)
    return _bgr(image)


def letter(seed: int = 0) -> Pixels:
    """A page of text from the demo documents (the control)."""
    return _bgr(render_document(SAMPLE_DOCUMENTS[seed % len(SAMPLE_DOCUMENTS)], DPI)[0])


#: name -> (drawing, whether the page has enough text that it must be put upright)
ANNEXES: dict[str, tuple[Callable[[int], Pixels], bool]] = {
    "table": (table, False),
    "map": (map_page, False),
    "photo": (photo, False),
    "two-lines": (two_lines, False),
    "letter": (letter, True),
}

_TURN = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


def turned(page: Pixels, turn: int) -> Pixels:
    """The page as captured with its content turned ``turn``° counter-clockwise
    (the station's ``orientation_deg``), on a grey scanner background."""
    out = cv2.rotate(page, _TURN[turn]) if turn else page
    return cv2.copyMakeBorder(out, 40, 40, 40, 40, cv2.BORDER_CONSTANT, value=(110, 110, 110))
