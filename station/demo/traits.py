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
- **Secrecy marks.** "MẬT", "TỐI MẬT", "TUYỆT MẬT" under the number (Decree
  30/2020 Phụ lục I): a rubber stamp in red ink, usually framed, often pressed
  crooked and unevenly inked; on copies and older papers printed in black in
  the same place, or written by hand ("Mật").
- **Urgency stamps.** "HỎA TỐC" in a red arrow-shaped frame, pressed turned in
  the left margin.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from PIL import Image, ImageDraw

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


#: the secrecy marks as stamped or printed, least secret first
SECRECY_STAMPS = ("MẬT", "TỐI MẬT", "TUYỆT MẬT")
#: stamp inks: red (as the rules want), black (copies, older papers)
STAMP_INKS = {"red": (200, 30, 40), "black": (25, 25, 25)}


@dataclass(frozen=True)
class Secrecy:
    """A secrecy mark as it is put on a page."""

    level: str = "MẬT"  # one of SECRECY_STAMPS
    how: str = "stamp"  # "stamp", "printed" (in the document's font) or "handwritten"
    ink: str = "red"  # a stamp's ink (STAMP_INKS); a hand writes with a pen ink
    boxed: bool = True
    angle: float = 0.0  # degrees, counter-clockwise
    faded: bool = False  # an unevenly inked, pale impression
    covered: bool = False  # a received stamp pressed over part of it


def _blend(page: Image.Image, cover: Image.Image, left: int, top: int, ink: Any) -> None:
    """Stamp ink of ``cover`` (0-255 L layer) on ``page`` at ``left, top``: translucent,
    the print under it stays dark."""
    x0, y0 = max(0, left), max(0, top)
    x1, y1 = min(page.width, left + cover.width), min(page.height, top + cover.height)
    if x1 <= x0 or y1 <= y0:
        return
    region = np.asarray(page.crop((x0, y0, x1, y1)), dtype=np.float32)
    alpha = np.asarray(cover, dtype=np.float32)[y0 - top : y1 - top, x0 - left : x1 - left]
    alpha = (alpha / 255.0)[:, :, None]
    colour = np.asarray(ink, dtype=np.float32)[None, None, :] / 255.0
    out = region * (1.0 - alpha * (1.0 - colour))
    page.paste(Image.fromarray(np.clip(out, 0, 255).astype(np.uint8)), (x0, y0))


def _stamp_layer(
    pen: Any, text: str, size_pt: float, frame: str, faded: bool, rng: random.Random
) -> Image.Image:
    """The impression of a rubber stamp as coverage (L): its text, a frame
    ("box", "arrow" or "none"), and with ``faded`` a pale, broken inking."""
    face = pen.font(size_pt, "bold")
    left, top, right, bottom = face.getbbox(text, anchor="ls")
    pad, line = pen.px(2.0), max(2, pen.px(0.55))
    width, height = right - left + 2 * pad, bottom - top + 2 * pad
    extra = round(height * 0.7) if frame == "arrow" else 0
    layer = Image.new("L", (width + extra + 2 * line, height + 2 * line), 0)
    draw = ImageDraw.Draw(layer)
    draw.text((line + pad - left, line + pad - top), text, font=face, fill=255, anchor="ls")
    box = (line // 2, line // 2, line // 2 + width + line, line // 2 + height + line)
    if frame == "box":
        draw.rectangle(box, outline=255, width=line)
    elif frame == "arrow":
        x0, y0, x1, y1 = box
        mid = (y0 + y1) / 2
        points = [(x0, y0), (x1, y0), (x1 + extra, mid), (x1, y1), (x0, y1), (x0, y0)]
        draw.line(points, fill=255, width=line, joint="curve")
    coverage = np.asarray(layer, dtype=np.float32)
    if faded:
        grain = np.random.default_rng(rng.randrange(2**32)).uniform(0.35, 1.0, coverage.shape)
        coverage = (coverage * grain * rng.uniform(0.6, 0.75)).astype(np.float32)
    else:
        coverage = coverage * np.float32(rng.uniform(0.85, 1.0))
    return Image.fromarray(coverage.astype(np.uint8))


def press_stamp(
    pen: Any,
    centre_mm: tuple[float, float],
    text: str,
    rng: random.Random,
    *,
    ink: Any = STAMP_INKS["red"],
    frame: str = "box",
    angle: float = 0.0,
    faded: bool = False,
    size_pt: float = 14.0,
    hang: bool = False,
) -> tuple[float, float]:
    """A rubber stamp pressed with its centre at ``centre_mm`` (with ``hang``
    its top there), turned by ``angle``; returns its width and height in mm as
    it lies on the page."""
    layer = _stamp_layer(pen, text, size_pt, frame, faded, rng)
    layer = layer.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True)
    cx, cy = pen.px(centre_mm[0]), pen.px(centre_mm[1])
    top = cy if hang else cy - layer.height // 2
    _blend(pen.image, layer, cx - layer.width // 2, top, ink)
    mm = 25.4 / pen.dpi
    return layer.width * mm, layer.height * mm


def routing_note(pen: Any, xy_mm: tuple[float, float], rng: random.Random) -> None:
    """A reader's note in blue pen, two lines of running hand ("Chuyển P. TH xử
    lý"), its top left at ``xy_mm``: loops no reader can read as print."""
    x0, y0 = pen.px(xy_mm[0]), pen.px(xy_mm[1])
    for row, length_mm in enumerate((rng.uniform(48, 60), rng.uniform(30, 45))):
        top = y0 + pen.px(7.5) * row
        points = []
        for k in range(160):
            t = k / 159
            x = x0 + pen.px(length_mm) * t
            y = top + pen.px(1.6) * math.sin(t * 38.0) + pen.px(0.8) * math.sin(t * 91.0)
            points.append((x, y + (x - x0) * 0.03))
        pen.draw.line(points, fill=INKS[0], width=max(2, pen.dpi // 110), joint="curve")


#: pen strokes of "Mật" written by hand, in a box one capital high (x right, y
#: down; the dot under the â below 1), and the advance of each letter
_MAT = (
    ("0,100 8,0 38,72 62,0 72,100", 0.82),
    (
        " ".join(
            f"{30 + 22 * math.cos(a):.0f},{72 + 26 * math.sin(a):.0f}"
            for a in [math.pi * (-0.2 - 1.7 * k / 10) for k in range(11)]
        )
        + " 50,48 52,100 | 12,34 28,18 44,34 | 30,118 33,121",
        0.6,
    ),
    ("16,8 16,94 34,100 | 0,40 34,40", 0.4),
)


def write_word_mat(
    draw: ImageDraw.ImageDraw,
    left_px: float,
    baseline_px: float,
    cap_px: float,
    rng: random.Random,
    ink: tuple[int, int, int] | None = None,
) -> tuple[float, float, float, float]:
    """ "Mật" written by hand from ``left_px`` on a baseline; returns the box written."""
    height = cap_px
    slant = rng.uniform(0.1, 0.3)
    stroke = max(2, round(cap_px * rng.uniform(0.08, 0.11)))
    colour = ink or rng.choice(INKS)
    slope = rng.uniform(-0.08, 0.08)
    x = left_px
    xs: list[float] = []
    ys: list[float] = []
    for strokes, advance in _MAT:
        for part in strokes.split("|"):
            points = []
            for pair in part.split():
                u, v = (int(n) / 100 for n in pair.split(","))
                px = x + u * height + (1 - v) * height * slant + rng.uniform(-0.8, 0.8)
                py = baseline_px - height + v * height + (px - left_px) * slope
                points.append((px, py + rng.uniform(-0.8, 0.8)))
            draw.line(points, fill=colour, width=stroke, joint="curve")
            xs += [p[0] for p in points]
            ys += [p[1] for p in points]
        x += advance * height * rng.uniform(0.95, 1.1)
    return min(xs), min(ys), max(xs), max(ys)


def secrecy_mark(pen: Any, top_mm: tuple[float, float], mark: Secrecy, rng: random.Random) -> float:
    """``mark`` put on the page centred on ``top_mm[0]``, its top at
    ``top_mm[1]`` (under the number: Phụ lục I); returns its height in mm."""
    x, y = top_mm
    if mark.how == "handwritten":
        cap = pen.px(rng.uniform(5.0, 7.0))
        ink = INKS[0] if mark.ink == "red" else INKS[1]
        x0, _top, x1, y1 = write_word_mat(
            pen.draw, pen.px(x - 9), pen.px(y + 1) + cap, cap, rng, ink
        )
        # from ``y``: the word starts 1 mm under it
        height = y1 * 25.4 / pen.dpi - y
        width = (x1 - x0) * 25.4 / pen.dpi
    elif mark.how == "printed":
        face = pen.font(13, "bold")
        at = (pen.px(x), pen.px(y + 1.5))
        box = pen.draw.textbbox(at, mark.level, font=face, anchor="ma")
        pen.draw.text(at, mark.level, font=face, fill=(20, 20, 20), anchor="ma")
        if mark.boxed:
            pad = pen.px(1.5)
            frame = (box[0] - pad, box[1] - pad, box[2] + pad, box[3] + pad)
            pen.draw.rectangle(frame, outline=(20, 20, 20), width=max(2, pen.px(0.4)))
        width = (box[2] - box[0]) * 25.4 / pen.dpi + 3
        height = (box[3] - box[1]) * 25.4 / pen.dpi + 3
    else:
        width, height = press_stamp(
            pen,
            (x, y),
            mark.level,
            rng,
            ink=STAMP_INKS[mark.ink],
            frame="box" if mark.boxed else "none",
            angle=mark.angle,
            faded=mark.faded,
            hang=True,
        )
    if mark.covered:
        # a received stamp pressed later, its frame's corner over the mark's right end
        received_stamp(pen, (x + width / 2 - 10, y + height * 0.5), "2352", "21/3/24", rng)
    return float(height)
