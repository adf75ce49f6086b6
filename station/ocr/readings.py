"""How sure the reader is of each header field, and where on page 1 it read it.

Every field the header reader gives comes with a :class:`Reading`: a
confidence from 0 to 1, the box it was read from (millimetres from the top
left of page 1, as the PDF page is the paper), and, for a field left empty
or in doubt, a code saying why and what was read. A field whose confidence is
below ``[ocr] min_confidence`` is left empty; the review marks it "cần kiểm
tra" and shows what was read, so the clerk confirms or corrects it with the
page's region beside it (docs/ocr.md#confidence).

Confidence is a rule, not a model's score:

- 1.0: read the same by the page's text layer and by the line's second
  reading, and passing its checks;
- 0.9: passing its checks from one reading, the other missing or having lost
  marks (the mixed ``vie+eng`` text layer drops marks on bold print);
- 0.85: a tone mark settled by the dictionary (station/ocr/lexicon.py): the
  readings put different marks on a syllable and only one way to mark it
  makes a word with its neighbours ("bố sung" / "bồ sung": "bổ sung"), or
  alike marks that make no word where one other would, or a syllable
  Vietnamese does not have ("buỗi"), or capitals whose marks were lost and
  changed ("NGUÔN VÓN" / "NGUON VON"); filled in, and marked for the clerk
  to check;
- 0.5: the two readings put different marks on a syllable: one of them is wrong
  and nothing tells which ("bỗ" / "bố");
- 0.0: refused: written by hand, a misread syllable, a value that fails its check.
"""

from __future__ import annotations

import difflib
import unicodedata
from dataclasses import dataclass
from typing import Any

from station.records.vocabulary import READING_CODES, fold

Box = tuple[float, float, float, float]

SURE, ONE_READING, BY_DICTIONARY, MARKS_DISAGREE, REFUSED = 1.0, 0.9, 0.85, 0.5, 0.0
CODES = frozenset(READING_CODES)


@dataclass(frozen=True)
class Reading:
    confidence: float
    box: Box | None = None
    code: str | None = None  # a key of READING_CODES
    read: str | None = None  # what was read, when it is not the field's value

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"confidence": round(self.confidence, 2)}
        if self.box is not None:
            out["box"] = [round(v, 1) for v in self.box]
        if self.code is not None:
            out["code"] = self.code
        if self.read is not None:
            out["read"] = self.read
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Reading:
        box = data.get("box")
        return cls(
            float(data["confidence"]),
            tuple(float(v) for v in box) if box else None,  # type: ignore[arg-type]
            data.get("code"),
            data.get("read"),
        )


def union(boxes: list[Box]) -> Box | None:
    if not boxes:
        return None
    return (
        min(b[0] for b in boxes),
        min(b[1] for b in boxes),
        max(b[2] for b in boxes),
        max(b[3] for b in boxes),
    )


def _marks(word: str) -> str:
    """The word's vowel and tone marks, in order."""
    return "".join(c for c in unicodedata.normalize("NFD", word) if unicodedata.combining(c))


def agreement(chosen: str, other: str | None) -> float:
    """The confidence of ``chosen`` given a second reading of the same print.

    Word by word: the same word, or the other reading without any mark (the
    mixed text layer's known loss) agree; different letters or different marks
    on a word do not: one of the two is wrong, and nothing tells which. Words
    split or run together differently agree when their letters do."""
    if other is None:
        return ONE_READING
    a, b = chosen.split(), other.split()
    matcher = difflib.SequenceMatcher(None, [fold(w) for w in a], [fold(w) for w in b])
    lost = False
    for op, i0, i1, j0, j1 in matcher.get_opcodes():
        if op == "equal":
            for x, y in zip(a[i0:i1], b[j0:j1], strict=True):
                if x.lower() == y.lower():
                    continue
                if _marks(y):
                    return MARKS_DISAGREE
                lost = True
        elif fold("".join(a[i0:i1])).replace(" ", "") != fold("".join(b[j0:j1])).replace(" ", ""):
            return MARKS_DISAGREE  # other letters
        elif i1 - i0 == j1 - j0:
            return MARKS_DISAGREE
    return ONE_READING if lost else SURE


def settle(fields: dict[str, Any], readings: dict[str, Reading], min_confidence: float) -> None:
    """Fields read with less than ``min_confidence`` are left None, what was read
    kept in their reading; readings of nothing are dropped."""
    for name, reading in list(readings.items()):
        if reading.confidence == 0.0 and reading.code is None and fields.get(name) is None:
            del readings[name]  # nothing found: nothing to say
        elif fields.get(name) is not None and reading.confidence < min_confidence:
            readings[name] = Reading(reading.confidence, reading.box, reading.code, fields[name])
            fields[name] = None  # in doubt: for the clerk, with what was read
