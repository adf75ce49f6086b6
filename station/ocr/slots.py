"""Filled-in slots: the number and the day of a document written into its printed form.

A Decree 30 document is printed with blanks the clerical desk fills in when the
document is issued (Phụ lục I: the number is given by the văn thư on the day of
issue): "Số:      /TTr-UBND" and "Quảng Ngãi, ngày      tháng 01 năm 2025". On
paper they are filled in by hand; born-digital documents get them typed by the
signing system in another font, smaller and raised. Tesseract reads handwriting
badly and confidently ("07" as "67", "20" as "02"), so a value read from a slot
is trusted only when the slot's ink is the print of its own line:

- its height is that of the line's printed digits or capitals (the year of
  the date line, the symbol after the "/" of the number line);
- its strokes are as heavy as theirs.

A typed fill-in may stand above the baseline in a smaller font: that is no
sign of a hand, and is read.

A slot that differs in any of these is reported with the reason, and its value
is left for the clerk. The comparisons are ratios within one line, so they hold
for any resolution, bilevel or grey, and any font size.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from station.ocr.ink import Glyphs, Ink
from station.ocr.lines import Line
from station.ocr.pdf import Word
from station.records.vocabulary import fold

#: printed digits are the height of the line's capitals: within these ratios
HEIGHT = (0.85, 1.10)
#: strokes as heavy as the print's (a pen's are heavier, a fill-in font's lighter)
STROKE = (0.75, 1.25)
#: slot and reference are measured this far above and below their line's box
#: (handwriting leaves the line; the text layer's boxes can be tighter than the print)
REACH_UP, REACH_DOWN = 0.35, 0.25

#: the least space between two words, in mm
SPACE = 0.6

Box = tuple[float, float, float, float]


@dataclass(frozen=True)
class Slot:
    """A filled-in value's region on the page and its printed reference, in mm."""

    name: str  # "number", "day", "month"
    box: Box
    reference: Box


def _folded(word: Word) -> str:
    """The word folded letter by letter, its length kept (one letter, one place)."""
    return "".join((fold(c) or "?")[:1] for c in word.text)


def _x(word: Word, index: int) -> float:
    """Where the ``index``-th letter of a word starts, sharing its width evenly."""
    return word.x0 + (word.x1 - word.x0) * index / max(1, len(word.text))


def _find(words: tuple[Word, ...], pattern: str, start: int = 0) -> tuple[int, int, int] | None:
    """(word index, first letter, after last letter) of the first match at or after ``start``."""
    for index in range(start, len(words)):
        match = re.search(pattern, _folded(words[index]))
        if match:
            return index, match.start(), match.end()
    return None


def _end(words: tuple[Word, ...], index: int) -> float:
    """Where a word ends; a text layer's box that reaches over the next word (it
    took in a raised fill-in) ends a space before the next word starts."""
    if index + 1 < len(words):
        return min(words[index].x1, words[index + 1].x0 - SPACE)
    return words[index].x1


def _band(line: Line) -> tuple[float, float, float]:
    return line.y0, line.y1, line.y1 - line.y0


def number_slot(line: Line) -> Slot | None:
    """The number between "Số:" and the "/" of the symbol, and the symbol after it."""
    words = line.words
    slash = next(
        ((i, w.text.index(c)) for i, w in enumerate(words) for c in "/|" if c in w.text), None
    )
    if slash is None:
        return None
    top, bottom, height = _band(line)
    first = words[0]
    colon = first.text.find(":")
    digit = re.search(r"[0-9]", first.text)
    if 0 <= colon < len(first.text) - 1:  # "Số:45/…" run together: after the label
        x0 = _x(first, colon + 1)
    elif digit is not None:
        x0 = _x(first, digit.start())
    elif slash[0] > 0:
        x0 = _end(words, 0)
    else:
        return None
    x1 = _x(words[slash[0]], slash[1])
    # the symbol after the "/" (in the same word or the next ones) is the reference
    ref_x0 = _x(words[slash[0]], slash[1] + 1)
    if x1 - x0 <= 0 or words[-1].x1 - ref_x0 <= 1.0:
        return None
    return Slot(
        "number",
        (x0, top - REACH_UP * height, x1, bottom + REACH_DOWN * height),
        (ref_x0, top - REACH_UP * height, words[-1].x1, bottom + REACH_DOWN * height),
    )


def date_slots(line: Line) -> list[Slot]:
    """The day (after "ngày") and the month (after "tháng"), with the year as reference."""
    words = line.words
    day = _find(words, r"NGAY")
    month = _find(words, r"THANG", day[0] if day else 0)
    if day is None or month is None:
        return []
    # "năm" may be lost to the reading ("ndm"): the year's four digits still end the month
    year_word = _find(words, r"NAM", month[0])
    year = _find(words, r"[0-9OIL]{4}", year_word[0] if year_word else month[0] + 1)
    if year is None:
        return []
    top, bottom, height = _band(line)
    year_box = (
        _x(words[year[0]], year[1]),
        top - REACH_UP * height,
        _x(words[year[0]], year[2]),
        bottom + REACH_DOWN * height,
    )

    def between(a: tuple[int, int, int], b: tuple[int, int, int]) -> Box:
        x0 = _x(words[a[0]], a[2]) if a[2] < len(words[a[0]].text) else _end(words, a[0])
        x1 = _x(words[b[0]], b[1])
        # the words read between the two keywords are the slot's, wherever the
        # text layer put the next keyword's box (a seal over it can move it)
        inside = words[a[0] + 1 : b[0]]
        if inside:
            x0, x1 = min(x0, *(w.x0 for w in inside)), max(x1, *(w.x1 for w in inside))
        return (x0, top - REACH_UP * height, x1, bottom + REACH_DOWN * height)

    return [
        Slot("day", between(day, month), year_box),
        Slot("month", between(month, year_word or year), year_box),
    ]


def filled_in(ink: Ink, slot: Slot) -> str | None:
    """Why the slot's ink is not the print of its line (English, for the reading's
    notes: "written by hand or filled in: taller than the print"), or None when
    it is printed like its line."""
    x0, y0, x1, y1 = slot.box
    pad = 0.3  # the colon and the slash beside the slot stay out
    found = ink.glyphs(x0 + pad, y0, x1 - pad, y1, inner=True)
    reference = ink.glyphs(*slot.reference, inner=True)
    if reference is None:
        return "no printed reference in the line"
    if found is None:
        return "nothing written in the slot"
    return _differs(found, reference)


def _differs(found: Glyphs, reference: Glyphs) -> str | None:
    height = found.height / reference.height
    if not HEIGHT[0] <= height <= HEIGHT[1]:
        return f"{'taller' if height > 1 else 'smaller'} than the print ({height:.2f}×)"
    stroke = found.stroke / reference.stroke
    if not STROKE[0] <= stroke <= STROKE[1]:
        return f"{'heavier' if stroke > 1 else 'lighter'} strokes than the print ({stroke:.2f}×)"
    return None


def typed_digits(ink: Ink, slot: Slot) -> str | None:
    """The digits in a slot, read alone (:meth:`Ink.digits`), when both
    readings agree on them; None otherwise. Asked only of a slot whose ink is
    print (:func:`filled_in` found no hand)."""
    x0, y0, x1, y1 = slot.box
    pad = 0.3
    found = ink.digits(x0 + pad, y0, x1 - pad, y1)
    if len(found) == 2 and found[0] and found[0] == found[1]:
        return found[0]
    return None
