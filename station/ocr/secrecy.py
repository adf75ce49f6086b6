"""The secrecy mark of page 1: "MẬT", "TỐI MẬT" or "TUYỆT MẬT" (docs/ocr.md#secrecy-mark).

A document of state secret must never leave a networked station, so the mark
must not be missed; a false alarm only asks the clerk. The mark (Decree
30/2020 Phụ lục I, Thông tư 24/2020/TT-BCA) is a rubber stamp in red ink, in
capitals, usually framed by a rectangle, under the number and symbol; on
copies and older papers it is printed in black in the same place, or written
by hand; a stamp may be pressed crooked and pale.

Candidates are found on the image alone (colour and shape, no OCR), on the
upper part of the page:

- **red ink** anywhere there: a run of ink longer than high (a seal is round),
  of a stamp's size, turned up to about ±40°;
- **pen ink** (blue, violet) and **black ink** in the left column under the
  agency block: a short run standing alone in its row, framed or not.

Each candidate is turned level, its frame taken off, and read as one line of
print (``read_line``): a secrecy level read, and as wide as that level is
printed, is sure; an urgency mark ("HỎA TỐC", "KHẨN") or other print read
clean is no secrecy mark; a red or framed or handwritten candidate that cannot
be read is returned with ``level=None``, for the clerk to answer.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from station.imaging.arrays import Pixels
from station.ocr.overlays import colour_mask, dropout, stamp_frames
from station.records.vocabulary import SECRECY, URGENCY, fold, similar

#: the share of the page height where a mark's centre may be (the header, with
#: room for a low stamp), and the share looked at (a seal across that line whole)
UPPER = 0.45
LOOKED = 0.6
#: the share of the width where black or pen ink may be a mark (the left column)
MARK_COLUMN = 0.45
#: the left column (the agency block, the number, the mark) as a share of the width
LEFT_COLUMN = 0.5
#: darker than this is black ink on the page without its coloured ink
DARK = 185
#: a run of ink this high (mm, accents included) is no 13-14 pt print: a hand's
HAND_HEIGHT = 6.5
#: no unframed black or pen mark is wider (mm): "TUYỆT MẬT" in 16 pt bold, or in a large hand
HAND_WIDTH = 45.0
#: a black run turned this much (degrees) is no print: a stamp pressed crooked
TURNED = 8.0
#: a reading this close to a mark's name is that mark; this close, its level
READ_AS = 0.75
SURE_AS = 0.85
#: text width over text height of each level as stamped or printed in capitals
#: ("MẬT" about 2.6, "TỐI MẬT" about 5.4, "TUYỆT MẬT" about 7.5): a reading of
#: a shorter level on a wider run lost a word, of a longer one on a narrower run
#: is a guess
SPAN = {"Mật": (1.4, 4.2), "Tối mật": (3.6, 7.6), "Tuyệt mật": (5.0, 11.0)}


@dataclass(frozen=True)
class SecrecyMark:
    """A secrecy mark found on a page."""

    #: "Tuyệt mật", "Tối mật" or "Mật" (the SECRECY spellings); None: it looks
    #: like a mark but was not read (the station asks the clerk)
    level: str | None
    box: tuple[int, int, int, int]  # x, y, w, h in page pixels
    how: str  # "stamp", "printed" or "handwritten"

    @property
    def sure(self) -> bool:
        return self.level is not None


@dataclass(frozen=True)
class _Candidate:
    ink: str  # "red", "pen" or "black"
    box: tuple[int, int, int, int]
    #: the run's ink as darkness (0 paper … 255 full ink), level and unframed
    crop: Pixels
    angle: float  # degrees the run is turned (counter-clockwise)
    boxed: bool
    covered: bool  # ink of another colour or a frame over it
    span: float  # width over height of its text
    tall: bool  # taller than print: a hand's
    left: bool  # in the left column, where the mark belongs
    cut: bool = False  # ink of its kind just before it: maybe part of a longer mark

    @property
    def how(self) -> str:
        if self.ink == "pen" or (self.ink == "black" and self.tall and not self.boxed):
            return "handwritten"
        if self.ink == "red" or self.boxed or abs(self.angle) >= TURNED:
            return "stamp"
        return "printed"


def find(
    image: Pixels,
    dpi: int,
    read_line: Callable[[Pixels, int], str],
    words: Any = None,
) -> SecrecyMark | None:
    """The secrecy mark of a page, the most certain one; None when there is none.

    ``read_line(gray, dpi)`` reads one line of print; it is called on candidate
    crops only, never on a page without one. ``words`` (the page's text layer,
    :func:`station.ocr.pdf.page_words`, or None) puts the top of the search
    under the "Số:" line."""
    return read_marks(image, dpi, read_line, words)[0]


def read_marks(
    image: Pixels,
    dpi: int,
    read_line: Callable[[Pixels, int], str],
    words: Any = None,
) -> tuple[SecrecyMark | None, list[str]]:
    """:func:`find`, and the urgency marks its candidates read as ("Hỏa tốc"
    in a turned arrow frame, which a level reading of red runs misses)."""
    sure: list[SecrecyMark] = []
    asked: list[SecrecyMark] = []
    urgency: list[str] = []
    for candidate in _candidates(image, dpi, words):
        text = read_line(_page_of(candidate.crop, dpi), dpi)
        verdict = _verdict(text, candidate, dpi / 25.4)
        if verdict is True:
            # not read: once more without the ink along its edges (a frame
            # broken by print under it), to tell an urgency stamp. A level read
            # so is never taken: the edges may have held a word of the mark
            inner = _inner(candidate.crop, dpi / 25.4)
            if inner is not None:
                again = _verdict(read_line(_page_of(inner, dpi), dpi), candidate, dpi / 25.4)
                verdict = again if again in URGENCY else verdict
        if verdict in URGENCY:
            if verdict not in urgency:
                urgency.append(str(verdict))
            continue
        if verdict is False:
            continue
        level = verdict if isinstance(verdict, str) else None
        mark = SecrecyMark(level, candidate.box, candidate.how)
        (sure if mark.sure else asked).append(mark)
    levels = {mark.level for mark in sure}
    if len(levels) == 1:
        return sure[0], urgency
    if len(levels) > 1:
        # two marks read differently: the clerk says which
        return SecrecyMark(None, sure[0].box, sure[0].how), urgency
    return (asked[0] if asked else None), urgency


def _verdict(text: str, candidate: _Candidate, mm: float) -> str | bool:
    """A level (sure), True (looks like a mark, not read), False (no mark), or
    the urgency mark it reads as."""
    letters = re.sub(r"[^0-9A-Z ]", "", fold(text)).strip()
    names = SECRECY + URGENCY
    scores = {name: similar(letters, name) for name in names} if letters else {}
    best = max(scores, key=lambda name: scores[name]) if scores else None
    if best is not None and scores[best] >= READ_AS:
        if best in URGENCY:
            return best if candidate.ink == "red" else False
        low, high = SPAN[best]
        whole = not ((candidate.cut or candidate.covered) and best != SECRECY[0])
        # no letter more than the level has ("TMẬT" is no "MẬT": a word lost)
        extra = len(letters.replace(" ", "")) - len(fold(best).replace(" ", ""))
        exact = extra <= (0 if best == SECRECY[-1] else 1)
        if scores[best] >= SURE_AS and low <= candidate.span <= high and whole and exact:
            return best
        return True
    words = [word for word in letters.split() if len(word) >= 2]
    if len(words) >= 3:
        return False  # a line of print (a stamp's office, a title): a mark has two words at most
    if candidate.ink == "red" and not candidate.left:
        # the mark's place is under the number: red ink elsewhere that does not
        # read as a mark is a seal's or a signature's (an e-seal over the motto)
        return False
    if candidate.ink == "red" or candidate.boxed:
        return True
    if candidate.ink == "pen":
        # a number or a day written by hand is no mark
        return not (
            sum(c.isdigit() for c in letters) >= 2 and not any(c.isalpha() for c in letters)
        )
    # black ink, no frame: print read clean is other print. A run read as no
    # word at all, or turned (print is level on a deskewed page), is a stamp
    # pressed badly; a tall one read as at most a word is a hand's
    if not words or (abs(candidate.angle) >= TURNED and len(words) <= 1):
        return True
    return _handwritten(letters, candidate, mm)


def _handwritten(letters: str, candidate: _Candidate, mm: float) -> bool:
    """A black unframed run that is no mark's print: written by hand when it
    is taller than print (a hand writes larger than 13-14 pt type)."""
    words = [word for word in letters.split() if len(word) >= 2]
    return candidate.tall and candidate.span <= 6 and len(words) <= 1


def _page_of(crop: Pixels, dpi: int) -> Pixels:
    """A crop of ink as black print on white paper with a margin, as Tesseract likes it."""
    margin = max(4, int(2.5 * dpi / 25.4))
    page: Pixels = np.pad(255 - crop, margin, constant_values=255)
    return page


# ---------------------------------------------------------------- candidates


def _candidates(image: Pixels, dpi: int, words: Any) -> list[_Candidate]:
    mm = dpi / 25.4
    height, width = image.shape[:2]
    bottom = int(height * LOOKED)
    top_image = image[:bottom]
    colour = _colour(top_image)
    layers: dict[str, Pixels] = {}
    if colour is not None:
        red, pen = colour
        if red.any():
            layers["red"] = red
        if pen.any():
            layers["pen"] = pen
    gray = dropout(top_image) if colour is not None else _gray(top_image)
    layers["black"] = np.clip((DARK + 20 - gray.astype(np.int16)) * 4, 0, 255).astype(np.uint8)
    layers["black"][gray >= DARK] = 0
    if colour is not None:
        # the pale edges of coloured ink are grey, not black
        tinted = cv2.dilate(
            ((colour[0] > 0) | (colour[1] > 0)).astype(np.uint8), np.ones((5, 5), np.uint8)
        )
        layers["black"][tinted > 0] = 0
    found: list[_Candidate] = []
    left = int(width * LEFT_COLUMN)
    lowest = int(height * UPPER)
    ceiling = _ceiling(layers["black"], left, mm, words)
    extent = (min(bottom, lowest + int(25 * mm)), min(width, int(width * MARK_COLUMN + 30 * mm)))
    near = layers["black"][: extent[0], : extent[1]] > 0
    anything = near & (_rules(near.astype(np.uint8), mm) == 0)
    if "pen" in layers:
        anything |= layers["pen"][: near.shape[0], : near.shape[1]] > 0
    frames: list[tuple[float, float, float, float]] | None = None
    # black and pen ink only where a run centred in the mark's column can reach
    for name in ("red", "pen", "black"):
        if name not in layers:
            continue
        strength = layers[name] if name == "red" else layers[name][: extent[0], : extent[1]]
        ink = (strength > 0).astype(np.uint8)
        rules = _rules(ink, mm)
        # in black, a frame's ragged edge (a pixel off its line on a skewed
        # bilevel scan) goes with it: left among the letters, it joins a mark to
        # a received stamp's text beside it. Not in pen: a stroke by hand as
        # long as a rule would take its neighbours with it
        lines = cv2.dilate(rules, np.ones((3, 3), np.uint8)) if name == "black" else rules
        letters = np.where(lines > 0, 0, ink).astype(np.uint8)
        joined = cv2.dilate(
            letters, cv2.getStructuringElement(cv2.MORPH_RECT, (int(3 * mm) | 1, int(0.6 * mm) | 1))
        )
        count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=8)
        for index in range(1, count):
            x, y, w, h, _ = (int(v) for v in stats[index])
            if not (6 * mm <= max(w, h) <= 80 * mm and min(w, h) >= 2.2 * mm and h <= 45 * mm):
                continue
            if y + h / 2 > lowest:
                continue
            if name != "red":
                if x + w / 2 > width * MARK_COLUMN or y + h / 2 < ceiling or w > 50 * mm:
                    continue
                framed = _ruled_around(rules, (x, y, w, h), mm)
                if not framed and not _alone(anything, labels, index, (x, y, w, h), mm):
                    continue
                if not framed:
                    # text in a received stamp's frame is the stamp's
                    if frames is None:
                        frames = stamp_frames(image, dpi, UPPER)
                    cx, cy = (x + w / 2) / mm, (y + h / 2) / mm
                    if any(x0 <= cx <= x1 and y0 <= cy <= y1 for x0, y0, x1, y1 in frames):
                        continue
            # the run with its accents (above and below its letters)
            reach = int(1.5 * mm)
            y0, y1 = max(0, y - reach), min(ink.shape[0], y + h + reach)
            around = cv2.dilate(
                (labels[y0:y1, x : x + w] == index).astype(np.uint8),
                np.ones((2 * reach + 1, 1), np.uint8),
            )
            own = (around > 0) & (letters[y0:y1, x : x + w] > 0)
            candidate = _shaped(name, strength, own, rules, (x, y0, w, y1 - y0), layers, mm, left)
            if candidate is not None:
                # ink of its kind just before it: a word of the mark the run lost
                # (a pale "TỐI" before "MẬT")
                before = letters[y + h // 4 : y + h - h // 4, max(0, x - int(12 * mm)) : x]
                others = labels[y + h // 4 : y + h - h // 4, max(0, x - int(12 * mm)) : x]
                cut = int(((before > 0) & (others != index)).sum()) > 0.5 * mm * mm
                found.append(dataclasses.replace(candidate, cut=cut) if cut else candidate)
    order = {"red": 0, "pen": 1, "black": 2}
    found.sort(key=lambda c: (order[c.ink], not c.boxed, c.box[1]))
    return found


def _gray(image: Pixels) -> Pixels:
    if image.ndim == 2:
        return image
    gray: Pixels = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    return gray


def _colour(image: Pixels) -> tuple[Pixels, Pixels] | None:
    """Red ink and pen ink (blue, violet) as darkness 0-255; None on a page
    without colour (grey or bilevel scanned as colour)."""
    if image.ndim != 3:
        return None
    blue, green, red = (c.astype(np.int16) for c in cv2.split(image))
    reddish = red - np.maximum(green, blue)
    red_ink = np.clip(reddish * 2, 0, 255).astype(np.uint8)
    red_ink[(reddish < 40) | (red < 100)] = 0
    mask = colour_mask(image)
    if mask is None or (not red_ink.any() and not mask.any()):
        return None
    bluish = blue - np.maximum(green, red) // 2 - green // 2
    pen = np.clip((255 - np.minimum(red, green)) * 1.2, 0, 255).astype(np.uint8)
    pen[(mask == 0) | (bluish < 25) | (red_ink > 0)] = 0
    return red_ink, pen


def _rules(ink: Pixels, mm: float) -> Pixels:
    """Ruled lines (frames, underlines): long straight runs across and down."""
    across = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, max(3, int(10 * mm))), np.uint8))
    down = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((max(3, int(6 * mm)), 1), np.uint8))
    rules: Pixels = cv2.bitwise_or(across, down)
    return rules


def _ceiling(black: Pixels, left: int, mm: float, words: Any) -> int:
    """Where a mark's centre can be in the left column: under the "Số:" line
    (from the text layer), else under the dated place line of the right column
    (the number stands beside it), else under the first two lines of print in
    the left column (the agency)."""
    by_words = int(black.shape[0])
    if words is not None:
        # the "Số:" of the number line; the body's "số" is lower case and lower
        for word in getattr(words, "words", ()):
            if (
                word.text[:1] == "S"
                and fold(word.text) == "SO"
                and word.x0 * mm < left
                and word.y1 * mm < 0.35 * black.shape[0] / LOOKED
            ):
                by_words = min(by_words, int(word.y1 * mm))
    fallback = _bands(black[:, int(4 * mm) : left], mm)
    lowest = min(by_words, fallback[1][1] if len(fallback) >= 2 else int(black.shape[0]))
    right = black[: int(black.shape[0] * 0.6), left : black.shape[1] - int(4 * mm)]
    if not right.size:
        return lowest
    ink = (right > 0).astype(np.uint8)
    rules = cv2.morphologyEx(ink, cv2.MORPH_OPEN, np.ones((1, max(3, int(10 * mm))), np.uint8))
    ruled = np.nonzero(rules.any(axis=1))[0]
    if not len(ruled):
        return lowest
    # the rule under the motto, then the dated place line
    under = int(ruled[0]) + int(0.8 * mm)
    bands = _bands(np.where(rules > 0, 0, ink)[under:], mm)
    if not bands:
        return lowest
    return min(by_words, under + int(bands[0][1]) - int(1 * mm))


def _bands(ink: Pixels, mm: float) -> list[tuple[int, int]]:
    """Lines of print in a strip, top to bottom, as (top, bottom) rows, at least 2 mm high."""
    rows = (ink > 0).sum(axis=1) > max(2, int(0.3 * mm))
    bands: list[tuple[int, int]] = []
    for index, on in enumerate(rows):
        if on and bands and index - bands[-1][1] <= int(0.8 * mm):
            bands[-1] = (bands[-1][0], index)
        elif on:
            bands.append((index, index))
    return [band for band in bands if band[1] - band[0] >= 2 * mm]


def _alone(
    anything: Pixels, labels: Pixels, index: int, box: tuple[int, int, int, int], mm: float
) -> bool:
    """No other ink in the run's row near it: a mark stands alone under the
    number; a number or a day written into a line of print does not."""
    x, y, w, h = box
    margin = int(8 * mm)
    y0, y1 = y + h // 4, y + h - h // 4
    x0, x1 = max(0, x - margin), min(anything.shape[1], x + w + margin)
    window = anything[y0:y1, x0:x1] & (labels[y0:y1, x0:x1] != index)
    return int(window.sum()) <= max(4, int(0.5 * mm * mm))


def _shaped(
    name: str,
    strength: Pixels,
    own: Pixels,
    rules: Pixels,
    box: tuple[int, int, int, int],
    layers: dict[str, Pixels],
    mm: float,
    column: int,
) -> _Candidate | None:
    """The run turned level and its frame taken off; None when its shape is no mark's."""
    x, y, w, h = box
    points = cv2.findNonZero(own.astype(np.uint8))
    if points is None or len(points) < 20:
        return None
    (cx, cy), (rw, rh), angle = cv2.minAreaRect(points)
    if rw < rh:
        rw, rh, angle = rh, rw, angle - 90
    angle = (angle + 90) % 180 - 90
    if abs(angle) > 40 or rw < 6 * mm or rh < 2.2 * mm or rw > 75 * mm or rh > 20 * mm:
        return None
    if rw < 1.35 * rh:
        return None  # round: a seal
    pad = int(2 * mm)
    region = np.where(own, strength[y : y + h, x : x + w], 0).astype(np.uint8)
    region = np.pad(region, pad)
    # turn the run level about its centre, in a canvas that holds it
    side = int(np.hypot(region.shape[0], region.shape[1])) + 2
    turn = cv2.getRotationMatrix2D((cx + pad, cy + pad), angle, 1.0)
    turn[0, 2] += side / 2 - (cx + pad)
    turn[1, 2] += side / 2 - (cy + pad)
    level = cv2.warpAffine(region, turn, (side, side), flags=cv2.INTER_LINEAR)
    on = level > 40
    rows, cols = np.nonzero(on.any(axis=1))[0], np.nonzero(on.any(axis=0))[0]
    if not len(rows):
        return None
    level = level[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    level, framed = _unframed(level, mm)
    boxed = framed or _ruled_around(rules, box, mm)
    trimmed = _trimmed(level, mm)
    if trimmed is None:
        return None
    level = trimmed
    text_h, text_w = level.shape
    if text_h < 2.2 * mm or text_w < 4 * mm:
        return None
    if name != "red" and not boxed and text_w > HAND_WIDTH * mm:
        # longer than any mark ("TUYỆT MẬT" in 16 pt, or by hand): a line of
        # print, a note in pen (routing, a reader's remark)
        return None
    covered = _covered(name, box, layers, mm) or (
        name != "red" and _ruled_around(rules, box, mm, cut=True)
    )
    tall = text_h >= HAND_HEIGHT * mm
    left = x + w / 2 <= column
    return _Candidate(
        name, (x, y, w, h), level, float(-angle), boxed, covered, text_w / text_h, tall, left
    )


def _unframed(level: Pixels, mm: float) -> tuple[Pixels, bool]:
    """A level run without its frame, and whether it had one. A frame is ink
    around the whole run (a rectangle, an arrow): one piece, or, broken by a
    pale impression or by print under it, long thin pieces along the edges."""
    on = (level > 40).astype(np.uint8)
    h, w = on.shape
    if h < 5 * mm:
        return level, False
    count, labels, stats, _ = cv2.connectedComponentsWithStats(on, connectivity=8)
    whole = [i for i in range(1, count) if stats[i][2] >= 0.85 * w and stats[i][3] >= 0.8 * h]
    pieces = [
        i
        for i in range(1, count)
        if (stats[i][2] >= 0.4 * w or stats[i][3] >= 0.6 * h)
        and stats[i][4] < 0.25 * stats[i][2] * stats[i][3]
        and _at_edge(stats[i], w, h, int(2.5 * mm))
    ]
    long_sides = sum(int(stats[i][2]) for i in pieces if stats[i][2] >= 0.4 * w)
    frame = whole or (pieces if long_sides >= 0.8 * w else [])
    if not frame:
        return level, False
    mask = cv2.dilate(np.isin(labels, frame).astype(np.uint8), np.ones((3, 3), np.uint8))
    out: Pixels = np.where(mask > 0, 0, level).astype(np.uint8)
    return out, True


def _inner(level: Pixels, mm: float) -> Pixels | None:
    """A run without the pieces of ink along the edges of its box; None when
    nothing is left or nothing was taken."""
    on = (level > 40).astype(np.uint8)
    h, w = on.shape
    count, labels, stats, _ = cv2.connectedComponentsWithStats(on, connectivity=8)
    band = int(1.5 * mm)
    edge = [i for i in range(1, count) if _at_edge(stats[i], w, h, band)]
    if not edge or len(edge) == count - 1:
        return None
    out: Pixels = np.where(np.isin(labels, edge), 0, level).astype(np.uint8)
    return _trimmed(out, mm)


def _at_edge(stat: Any, w: int, h: int, band: int) -> bool:
    """A piece of ink that lies along an edge of its run's box."""
    x, y, pw, ph = (int(v) for v in stat[:4])
    return x <= band or y <= band or x + pw >= w - band or y + ph >= h - band


def _trimmed(level: Pixels, mm: float) -> Pixels | None:
    """The text of a level run: cut to its ink, without the thin strokes left
    at its edges (a frame's sides and rules, broken off, and their pale edges)."""
    full = float(np.percentile(level[level > 0], 99)) if level.any() else 0.0
    on = level > max(40.0, 0.4 * full)
    keep = [0, on.shape[0], 0, on.shape[1]]
    for axis, thin in ((1, 1.2 * mm), (0, 1.2 * mm)):
        profile = [bool(v) for v in np.asarray(on.any(axis=axis)).ravel()]
        runs: list[list[int]] = []
        for index, inked in enumerate(profile):
            if inked and runs and index - runs[-1][1] <= max(1, int(0.7 * mm)):
                runs[-1][1] = index
            elif inked:
                runs.append([index, index])
        while len(runs) > 1 and runs[0][1] - runs[0][0] + 1 < thin:
            runs.pop(0)
        while len(runs) > 1 and runs[-1][1] - runs[-1][0] + 1 < thin:
            runs.pop()
        if not runs:
            return None
        at = 0 if axis == 1 else 2
        keep[at], keep[at + 1] = runs[0][0], runs[-1][1] + 1
    cut: Pixels = level[keep[0] : keep[1], keep[2] : keep[3]]
    return cut if cut.shape[0] >= 2 and cut.shape[1] >= 2 else None


def _ruled_around(
    rules: Pixels, box: tuple[int, int, int, int], mm: float, cut: bool = False
) -> bool:
    """A frame of ruled lines around the run, above and below it (``cut``: a
    rule crossing it, a stamp's frame over it)."""
    x, y, w, h = box
    reach = int(4 * mm)
    if cut:
        inside = rules[y + h // 4 : y + h - h // 4, x : x + w]
        return bool(inside.any())
    above = rules[max(0, y - reach) : y + max(1, h // 4), x : x + w]
    below = rules[y + h - max(1, h // 4) : y + h + reach, x : x + w]
    left = rules[y : y + h, max(0, x - reach) : x + max(1, w // 8)]
    right = rules[y : y + h, x + w - max(1, w // 8) : x + w + reach]
    if not (above.size and below.size and left.size and right.size):
        return False
    sides = left.any(axis=1).mean() > 0.5 or right.any(axis=1).mean() > 0.5
    return bool(above.any(axis=0).mean() > 0.5 and below.any(axis=0).mean() > 0.5 and sides)


def _covered(
    name: str, box: tuple[int, int, int, int], layers: dict[str, Pixels], mm: float
) -> bool:
    """Ink of another colour over the run (a stamp pressed on it)."""
    x, y, w, h = box
    for other, strength in layers.items():
        if other == name or other == "black":
            continue
        if (strength[y : y + h, x : x + w] > 0).mean() > 0.02:
            return True
    return False
