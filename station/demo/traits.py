"""What real paper has and a printer does not, drawn on generated pages.

- **Numbers written by hand.** The number and the day are often left blank in
  the print and written in by the clerical desk on the day of issue, with a
  pen: taller than the print, heavier, slanted, not quite on the line. Digits
  are drawn here as pen strokes (polylines with a little tremor), never with a
  font, so a reader cannot recognise them as print.
- **E-signatures.** A document signed with the agency's key gets the signing
  software's box in blue ("Ký bởi: …", "Cơ quan: …", "Thời gian ký: …") and a
  red e-seal, composited over the page, the header included.
- **Received stamps.** Every office the paper reaches presses its "ĐẾN" stamp
  on page 1, often over the header: a ruled frame with the office's name, "CV
  ĐẾN", and "Số: …", "Ngày: …", "Chuyển: …" filled in by hand. Its number is
  the receiving office's, never the document's.
"""

from __future__ import annotations

import math
import random
from datetime import date
from typing import Any

from PIL import ImageDraw

#: pen strokes of the digits in a unit box, in hundredths (x right, y down);
#: "|" starts another stroke
_STROKES = {
    "0": " ".join(
        f"{50 + 42 * math.sin(math.pi * k / 8):.0f},{50 - 50 * math.cos(math.pi * k / 8):.0f}"
        for k in range(17)
    ),
    "1": "25,22 60,0 60,100",
    "2": "10,25 30,2 70,2 90,25 80,50 10,100 95,100",
    "3": "10,10 50,0 85,15 80,40 45,50 | 45,50 85,60 90,85 50,100 10,90",
    "4": "70,100 70,0 5,70 95,70",
    "5": "85,0 20,0 15,45 60,40 90,65 80,95 40,100 10,90",
    "6": "80,5 40,10 15,50 15,85 45,100 80,85 80,60 45,50 15,65",
    "7": "5,0 95,0 40,100",
    "8": "50,50 15,30 20,5 50,0 80,5 85,30 50,50 10,72 20,95 50,100 80,95 90,72 50,50",
    "9": "85,35 50,50 15,35 20,5 60,0 85,30 80,100",
}
_DIGITS = {
    digit: [
        [(int(x) / 100, int(y) / 100) for x, y in (p.split(",") for p in stroke.split())]
        for stroke in strokes.split("|")
    ]
    for digit, strokes in _STROKES.items()
}
#: pen inks: blue-black ballpoint, black gel, violet
INKS = ((25, 35, 110), (30, 30, 35), (70, 40, 120))


def write_digits(
    draw: ImageDraw.ImageDraw,
    text: str,
    left_px: float,
    baseline_px: float,
    cap_px: float,
    rng: random.Random,
    ink: tuple[int, int, int] | None = None,
) -> float:
    """Write digits by hand from ``left_px`` on a line whose print has capitals
    ``cap_px`` high; returns where the writing ends (px)."""
    height = cap_px * rng.uniform(1.3, 1.7)
    width = height * 0.55
    slant = rng.uniform(0.15, 0.3)
    stroke = max(2, round(cap_px * rng.uniform(0.13, 0.17)))
    colour = ink or rng.choice(INKS)
    # the writing sits a little below the line or above it
    bottom = baseline_px + cap_px * rng.uniform(-0.05, 0.2)
    x = left_px
    for digit in text:
        for line in _DIGITS[digit]:
            points = [
                (
                    x + u * width + (1 - v) * height * slant + rng.uniform(-0.6, 0.6),
                    bottom - height + v * height + rng.uniform(-0.6, 0.6),
                )
                for u, v in line
            ]
            draw.line(points, fill=colour, width=stroke, joint="curve")
        x += width * rng.uniform(1.05, 1.3)
    return x + height * slant


def received_stamp(
    pen: Any, xy_mm: tuple[float, float], number: str, day: str, rng: random.Random
) -> None:
    """A received stamp ("CV ĐẾN") with its frame, its office and a handwritten
    register number and date, its top left at ``xy_mm``. ``pen`` is the page's
    pen (:class:`station.demo.samples._Pen`)."""
    x, y = xy_mm
    ink = (60, 40, 110)
    w, h = 56.0, 21.0
    px = pen.px
    width = max(2, pen.dpi // 100)
    pen.draw.rectangle((px(x), px(y), px(x + w), px(y + h)), outline=ink, width=width)
    pen.draw.line((px(x), px(y + 5), px(x + w), px(y + 5)), fill=ink, width=width)
    pen.draw.line((px(x + 12), px(y + 5), px(x + 12), px(y + h)), fill=ink, width=width)
    pen.text((x + w / 2, y + 1), "VĂN PHÒNG VIỆN KIỂM SÁT", size_pt=7, anchor="ma", fill=ink)
    pen.text((x + 6, y + 7), "CV", size_pt=11, anchor="ma", fill=ink)
    pen.text((x + 6, y + 13), "ĐẾN", size_pt=11, anchor="ma", fill=ink)
    cap = px(2.2)
    for row, (label, value) in enumerate((("Số:", number), ("Ngày:", day), ("Chuyển:", ""))):
        top = y + 6.5 + row * 4.6
        pen.text((x + 14, top), label, size_pt=8, fill=ink)
        dots = "." * 40
        pen.text((x + 24, top), dots, size_pt=8, fill=ink)
        if value:
            digits = value.replace("/", "")
            write_digits(pen.draw, digits, px(x + 27), px(top + 3.2), cap, rng)


def esign_box(pen: Any, xy_mm: tuple[float, float], organ: str, when: date) -> None:
    """The signing software's box, in blue, its top left at ``xy_mm``."""
    blue = (30, 60, 200)
    x, y = xy_mm
    lines = (
        f"Ký bởi: {organ.title()[:40]}",
        "Cơ quan: Văn phòng",
        f"Thời gian ký: {when:%d/%m/%Y} 10:09:57",
    )
    for row, text in enumerate(lines):
        pen.text((x, y + row * 3.2), text, size_pt=7, fill=blue)
