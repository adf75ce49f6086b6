"""Ink on the page image: stroke weight (bold or plain lines), the red urgency
stamps and, through :mod:`station.ocr.secrecy`, the secrecy mark."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

from station.imaging.arrays import Pixels
from station.ocr.lines import Line, Reader, bounds, respace
from station.ocr.overlays import prepared
from station.ocr.tesseract import DIGITS
from station.records.vocabulary import URGENCY, clean, similar


@dataclass(frozen=True)
class Glyphs:
    """The print in a region, measured on the image (pixels)."""

    height: float  # of the tall characters: cap height for digits and capitals
    bottom: float  # where they end, from the top of the page: the baseline
    stroke: float  # mean stroke width


DASHES = frozenset("-–—")
#: darker than this is ink whatever the region's own threshold (a blank region
#: has none: its Otsu threshold would split the paper's grain)
INK_LEVEL = 170


class Ink:
    """The page image under the text layer: stroke weight of printed lines, and
    a second, closer reading of a few header lines.

    The text layer is read with ``vie+eng``; on bold capitals the English model
    often wins and drops the marks ("CUC THI HANH AN"). The header lines are
    therefore read again alone, with ``reader`` (Tesseract
    ``vie``), and that reading is used when it has the same lines and agrees
    with the text layer on the letters.
    """

    def __init__(
        self, image: Pixels, dpi: int, reader: Reader | None = None, recording: bool = False
    ) -> None:
        # seals, e-signature boxes and stamps are coloured: not the print
        self.gray, self.colour = prepared(image)
        #: the reader only records what would be read (:class:`station.pipeline.document.Prefetch`):
        #: no fallback readings
        self.recording = recording
        self.px_per_mm = dpi / 25.4
        self.dpi = dpi
        self.reader = reader

    def texts(self, lines: list[Line], force: bool = False) -> list[str]:
        """The text of ``lines`` (one block), read again when a reader is set;
        with ``force`` only the new reading, or []."""
        if force:
            again = self._again(lines)
            return [clean(" ".join(again))] if again else []
        return self.texts_and_other(lines)[0]

    def texts_and_other(self, lines: list[Line]) -> tuple[list[str], str | None]:
        """The text of ``lines`` as :meth:`texts` gives it, and the other
        reading (the text layer when the second reading was taken, and the
        reverse), None without a second reading."""
        layer = [line.text for line in lines]
        again = self._again(lines)
        if not again:
            return layer, None
        if self.under_colour(lines):
            # a seal or a box over the lines garbled the text layer: it is no
            # witness, the reading without the coloured ink stands alone
            return [clean(" ".join(again))] if len(again) != len(layer) else [
                respace(clean(a), [w.text for w in line.words])
                for a, line in zip(again, lines, strict=True)
            ], None
        if len(again) != len(layer):
            return layer, " ".join(again)
        if any(similar(a, b) < 0.75 for a, b in zip(again, layer, strict=True)):
            return layer, " ".join(again)
        chosen = [
            respace(clean(a), [w.text for w in line.words])
            for a, line in zip(again, lines, strict=True)
        ]
        return chosen, " ".join(layer)

    def under_colour(self, lines: list[Line]) -> bool:
        """Whether coloured ink (a seal, a box) covers more than a trace of these lines."""
        if self.colour is None:
            return False
        s = self.px_per_mm
        h, w = self.colour.shape
        x0, y0, x1, y1 = bounds(lines)
        region = self.colour[
            max(0, int(y0 * s)) : min(h, int(y1 * s) + 1),
            max(0, int(x0 * s)) : min(w, int(x1 * s) + 1),
        ]
        return bool(region.size and region.mean() > 0.01)

    def _again(self, lines: list[Line]) -> list[str]:
        if self.reader is None or not lines:
            return []
        pad = 1.5
        x0, y0, x1, y1 = bounds(lines)
        return self.read(x0 - pad, y0 - pad, x1 + pad, y1 + pad)

    def _crop(self, x0: float, y0: float, x1: float, y1: float) -> Pixels:
        s = self.px_per_mm
        h, w = self.gray.shape[:2]
        return self.gray[
            max(0, int(y0 * s)) : min(h, int(y1 * s) + 1),
            max(0, int(x0 * s)) : min(w, int(x1 * s) + 1),
        ]

    def _ink(self, crop: Pixels) -> Pixels:
        """Ink as 0/1 with ruled lines (an underline) taken out."""
        _, ink = cv2.threshold(crop, 0, 1, cv2.THRESH_BINARY_INV + cv2.THRESH_OTSU)
        rule = cv2.morphologyEx(
            ink, cv2.MORPH_OPEN, np.ones((1, max(3, int(8 * self.px_per_mm))), np.uint8)
        )
        cleaned: Pixels = np.where(rule > 0, 0, ink).astype(np.uint8)
        return cleaned

    def stroke_of(self, x0: float, y0: float, x1: float, y1: float) -> float | None:
        """Mean stroke width in pixels: twice the ink area over its outline."""
        crop = self._crop(x0, y0, x1, y1)
        if crop.size < 50:
            return None
        ink = self._ink(crop)
        area = int(ink.sum())
        outline = area - int(cv2.erode(ink, np.ones((3, 3), np.uint8)).sum())
        return 2.0 * area / outline if outline else None

    def glyphs(
        self, x0: float, y0: float, x1: float, y1: float, *, inner: bool = False
    ) -> Glyphs | None:
        """Height, baseline and stroke of the characters in a region; None when it has none.

        Characters are the connected marks; the tall ones (digits, capitals,
        ascenders) give the height and the baseline as their medians, so a
        stray mark or a letter's part does not. With ``inner`` only the marks
        inside the region count: a neighbouring letter cut by its left or right
        edge does not."""
        crop = self._crop(x0, y0, x1, y1)
        if crop.size < 50:
            return None
        level, _ = cv2.threshold(crop, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
        dark = (crop < min(level, INK_LEVEL)).astype(np.uint8)
        rule = cv2.morphologyEx(
            dark, cv2.MORPH_OPEN, np.ones((1, max(3, int(8 * self.px_per_mm))), np.uint8)
        )
        ink = np.where(rule > 0, 0, dark).astype(np.uint8)
        count, labels, stats, _ = cv2.connectedComponentsWithStats(ink, connectivity=8)
        speck = (0.25 * self.px_per_mm) ** 2
        marks = [
            i
            for i in range(1, count)
            if stats[i][4] >= speck
            and not (inner and (stats[i][0] == 0 or stats[i][0] + stats[i][2] >= ink.shape[1]))
        ]
        if not marks:
            return None
        chars = _characters([tuple(int(v) for v in stats[i][:4]) for i in marks])
        tallest = max(h for _, _, _, h in chars)
        tall = [(y, h) for _, y, _, h in chars if h >= 0.6 * tallest]
        kept = np.isin(labels, marks).astype(np.uint8)
        area = int(kept.sum())
        outline = area - int(cv2.erode(kept, np.ones((3, 3), np.uint8)).sum())
        if not outline:
            return None
        top = max(0, int(y0 * self.px_per_mm))
        return Glyphs(
            float(np.median([h for _, h in tall])),
            float(top + np.median([y + h for y, h in tall])),
            2.0 * area / outline,
        )

    def stroke(self, line: Line) -> float | None:
        return self.stroke_of(line.x0, line.y0, line.x1, line.y1)

    def bands(self, x0: float, y0: float, x1: float, y1: float) -> list[tuple[float, float]]:
        """The lines of print in a region, top to bottom, as (top, bottom) in mm.

        Rows of ink are found on the image (underlines removed); a thin run
        of rows (a row of tone marks) joins the nearest line."""
        crop = self._crop(x0, y0, x1, y1)
        if crop.size < 50:
            return []
        ink = self._ink(crop)
        rows = ink.sum(axis=1) > max(2, ink.shape[1] // 400)
        runs: list[list[int]] = []
        for index, on in enumerate(rows):
            if on and runs and index - runs[-1][1] <= max(1, int(0.3 * self.px_per_mm)):
                runs[-1][1] = index
            elif on:
                runs.append([index, index])
        thin = 1.8 * self.px_per_mm
        merged: list[list[int]] = []
        for run in runs:
            if merged and (run[1] - run[0] < thin or merged[-1][1] - merged[-1][0] < thin):
                below_gap = run[0] - merged[-1][1]
                if run[1] - run[0] < thin and below_gap > 1.2 * self.px_per_mm:
                    merged.append(run)  # tone marks of the next line
                    continue
                merged[-1][1] = run[1]
            else:
                merged.append(run)
        s = self.px_per_mm
        start = max(0, int(y0 * s)) / s
        return [(start + a / s, start + (b + 1) / s) for a, b in merged if b - a >= 2.0 * s]

    def read_lines_of(self, boxes: list[tuple[float, float, float, float]]) -> list[list[str]]:
        """Several one-line regions read in one pass: their crops stacked, read
        once, and the lines handed back in order; each region alone when the
        lines do not come back one per region."""
        if self.reader is None or len(boxes) < 2:
            return [self.read(*box) for box in boxes]
        crops = [self._crop(*box) for box in boxes]
        gap = int(4 * self.px_per_mm)
        width = max(c.shape[1] for c in crops) + 2 * gap
        stack = np.full((sum(c.shape[0] + gap for c in crops) + gap, width), 255, np.uint8)
        y = gap
        for crop in crops:
            stack[y : y + crop.shape[0], gap : gap + crop.shape[1]] = crop
            y += crop.shape[0] + gap
        lines = self._kept(self.reader(stack, self.dpi))
        if len(lines) == len(boxes):
            return [[line] for line in lines]
        if self.recording:
            return [[] for _ in boxes]
        return [self.read(*box) for box in boxes]

    @staticmethod
    def _kept(lines: list[str]) -> list[str]:
        kept = []
        for text in lines:
            # specks and rules read as "_" or "|" on their own; a dash before a
            # word ("2021 - 2026", "- Như trên;" opening a list's item) is print
            tokens = text.split()
            words = [
                t
                for i, t in enumerate(tokens)
                if any(c.isalnum() for c in t)
                or (t in DASHES and i < len(tokens) - 1 and tokens[i + 1] not in DASHES)
            ]
            if words:
                kept.append(clean(" ".join(words)))
        return kept

    def digits(self, x0: float, y0: float, x1: float, y1: float) -> list[str]:
        """The digits in a region (a filled-in number or day), read twice: at
        the scan's scale and at twice it, each on a white margin; [] without a
        reader. Two readings that agree are a witness for the value."""
        if self.reader is None:
            return []
        crop = self._crop(x0, y0, x1, y1)
        if crop.size < 50:
            return []
        margin = int(2 * self.px_per_mm)
        found = []
        for scale in (1, 2):
            image = (
                cv2.resize(crop, None, fx=scale, fy=scale, interpolation=cv2.INTER_CUBIC)
                if scale > 1
                else crop
            )
            image = np.pad(image, margin * scale, constant_values=255)
            found.append("".join("".join(self.reader(image, self.dpi * scale, DIGITS)).split()))
        return found

    def read(self, x0: float, y0: float, x1: float, y1: float) -> list[str]:
        """A region read again; [] without a reader."""
        if self.reader is None:
            return []
        crop = self._crop(x0, y0, x1, y1)
        if crop.size < 50:
            return []
        return self._kept(self.reader(crop, self.dpi))


def _characters(boxes: list[tuple[int, ...]]) -> list[tuple[int, int, int, int]]:
    """Marks (x, y, w, h) joined into characters where they stand over one
    another: a letter and its marks, an italic digit that fell apart in the scan."""
    chars: list[list[int]] = []
    for x, y, w, h in sorted(boxes):
        last = chars[-1] if chars else None
        if last is not None and min(last[0] + last[2], x + w) - x >= 0.5 * min(last[2], w):
            right, bottom = max(last[0] + last[2], x + w), max(last[1] + last[3], y + h)
            last[1] = min(last[1], y)
            last[2], last[3] = right - last[0], bottom - last[1]
        else:
            chars.append([x, y, w, h])
    return [(x, y, w, h) for x, y, w, h in chars]


# --------------------------------------------------------------------- parsers


def red_marks(image: Pixels, dpi: int, read: Any, words: Any = None) -> list[str]:
    """The marks of page 1: the urgency stamps in red ink on its upper part, and
    the secrecy level when :func:`station.ocr.secrecy.find` reads it for sure
    (a mark it could not read is the clerk's question, not a value).

    ``read(gray, dpi)`` reads one line of print (:func:`station.ocr.tesseract.read_line`).
    Each red text run is read alone, black on white, and kept only when it is
    one of the urgency marks.
    """
    from station.ocr import secrecy

    found, urgency = secrecy.read_marks(image, dpi, read, words)
    marks: list[str] = [found.level] if found is not None and found.level is not None else []
    marks += urgency
    if image.ndim != 3:
        return marks
    top = image[: int(image.shape[0] * 0.45)]
    hsv = cv2.cvtColor(top, cv2.COLOR_BGR2HSV)
    hue, sat, val = cv2.split(hsv)
    red = ((hue < 10) | (hue > 170)) & (sat > 90) & (val > 80)
    mask = red.astype(np.uint8) * 255
    px_mm = dpi / 25.4
    joined = cv2.dilate(mask, np.ones((max(1, int(1.5 * px_mm)), max(1, int(4 * px_mm))), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(joined)
    for index in range(1, count):
        x, y, w, h = (int(v) for v in stats[index][:4])
        if not (3 * px_mm <= h <= 15 * px_mm and 8 * px_mm <= w <= 90 * px_mm):
            continue
        pad = int(2 * px_mm)
        crop = mask[max(0, y - pad) : y + h + pad, max(0, x - pad) : x + w + pad]
        text = read(255 - crop, dpi)
        best = max(URGENCY, key=lambda name: similar(text, name))
        if text and similar(text, best) >= 0.8 and best not in marks:
            marks.append(best)
    return marks
