"""The header band, and the scoring of its text against the printed header fields, for
:mod:`bench.header_ocr`: field hits, the character error rate of the best
matching substring, syllable and tone-mark errors, the hunspell syllable list,
and a vote across several readings of one band.

Every rule here is the same for every reader and every document.
"""

from __future__ import annotations

import difflib
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

BAND = 0.4  # the header: the top 40 % of page 1
DPI = 200  # the page images' resolution
HEADER = ("TypeName", "CodeNumber", "CodeNotation", "IssuedDate", "OrganName", "Subject")
#: fields compared case-insensitively: they are printed in capitals
CASELESS = frozenset({"TypeName", "OrganName"})
#: a type name that is never printed: a công văn has no type-name line
UNPRINTED = {"TypeName": "Công văn"}
#: a field's best matching part farther than this (edits per character) is
#: not a reading of it: its syllables count as missing
FAR = 0.5
#: fields whose syllables are aligned for the tone-mark and hunspell figures
SYLLABIC = ("TypeName", "OrganName", "Subject")
HUNSPELL = Path("/usr/share/hunspell/vi_VN.dic")
#: the five Vietnamese tone marks (the vowel marks ˆ ˘ ʼ belong to the letter)
TONES = frozenset("\u0300\u0301\u0303\u0309\u0323")
PUNCT = "\"'“”‘’.,;:!?()[]{}<>«»-–—/\\|_*~`^"


def header_band(path: Path) -> NDArray[np.uint8]:
    """The top ``BAND`` of a page image, in colour (BGR)."""
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f"cannot read {path}")
    return np.ascontiguousarray(image[: round(BAND * image.shape[0])])


def normalise(text: str) -> str:
    """NFC, any run of white space (line breaks too) one space."""
    return " ".join(unicodedata.normalize("NFC", text).split())


def bare(text: str) -> str:
    """Without any diacritic (tone or vowel mark), đ as d: the letters alone."""
    decomposed = unicodedata.normalize("NFD", text)
    kept = "".join(c for c in decomposed if not unicodedata.combining(c))
    return kept.replace("đ", "d").replace("Đ", "D")


def syllable_key(word: str) -> str:
    """A syllable lower-cased with its tone mark moved to the end, so that the
    old and new placements (``hoà`` / ``hòa``, ``uỷ`` / ``ủy``) are one key."""
    decomposed = unicodedata.normalize("NFD", word.lower())
    tones = "".join(c for c in decomposed if c in TONES)
    rest = "".join(c for c in decomposed if c not in TONES)
    return unicodedata.normalize("NFC", rest) + tones


def load_lexicon(path: Path = HUNSPELL) -> frozenset[str] | None:
    """The syllables of a hunspell ``.dic`` (first line: the count), as
    :func:`syllable_key` keys; None when the file is missing."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()[1:]
    except OSError:
        return None
    return frozenset(syllable_key(line.split("/", 1)[0].strip()) for line in lines if line.strip())


def _date_pattern(iso: str) -> re.Pattern[str]:
    year, month, day = iso.split("-")
    return re.compile(
        rf"ngày\s*0?{int(day)}\s*tháng\s*0?{int(month)}\s*năm\s*{year}", re.IGNORECASE
    )


def field_hit(name: str, truth: str, text: str) -> bool:
    """Whether the printed field ``truth`` occurs in ``text`` (both normalised)."""
    truth = normalise(truth)
    if name == "IssuedDate":
        return bool(_date_pattern(truth).search(text))
    if name == "CodeNumber":
        return bool(re.search(rf"(?<![0-9]){re.escape(truth)}\s*/", text))
    if name == "OrganName":
        return _printed_organ(truth.casefold(), text.casefold())
    if name in CASELESS:
        return truth.casefold() in text.casefold()
    return truth in text


#: the e-signature box composited over the header: "Ký bởi: <agency>"
SIGNED_BY = re.compile(r"ky\s*boi\s*:?\s*$")


def _printed_organ(truth: str, text: str) -> bool:
    """The agency's name occurs other than as the signer of the e-signature box
    ("Ký bởi: Ủy ban nhân dân tỉnh …"), which is not the printed header."""
    start = text.find(truth)
    while start >= 0:
        if not SIGNED_BY.search(bare(text[max(0, start - 12) : start])):
            return True
        start = text.find(truth, start + 1)
    return False


def best_substring(pattern: str, text: str) -> tuple[int, int, int]:
    """The substring of ``text`` nearest to ``pattern`` in edit distance
    (Sellers' semi-global alignment, a row at a time): (distance, start, end)."""
    n, m = len(pattern), len(text)
    if not m or not n:
        return n, 0, 0
    codes = np.array([ord(c) for c in text], dtype=np.int64)
    index = np.arange(m + 1, dtype=np.int64)
    previous = np.zeros(m + 1, dtype=np.int64)  # a match may start anywhere
    starts = index.copy()
    for i in range(1, n + 1):
        sub = previous[:-1] + (codes != ord(pattern[i - 1]))
        dele = previous[1:] + 1
        step = np.minimum(sub, dele)
        step_starts = np.where(sub <= dele, starts[:-1], starts[1:])
        # a column entered by insertions: current[j] = min_k (step[k] + j - k)
        head = np.concatenate(([i], step))
        head_starts = np.concatenate(([0], step_starts))
        shifted = head - index
        running = np.minimum.accumulate(shifted)
        origin = np.maximum.accumulate(np.where(shifted == running, index, 0))
        previous = running + index
        starts = head_starts[origin]
    end = int(np.argmin(previous[::-1]))
    end = m - end  # the longest of the nearest (the last minimum)
    return int(previous[end]), int(starts[end]), end


def _tokens(text: str) -> list[str]:
    return [t for t in (w.strip(PUNCT) for w in text.split()) if t]


@dataclass
class Syllables:
    """The syllables of one field against the best matching part of a reading."""

    total: int = 0  # syllables of the truth
    right: int = 0
    wrong: int = 0  # aligned one to one, different
    tone: int = 0  # of ``wrong``: the same letters without diacritics
    missing: int = 0  # not aligned one to one (dropped, split, merged)
    wrong_read: list[str] | None = None  # the reader's wrong syllables

    def add(self, other: Syllables) -> None:
        self.total += other.total
        self.right += other.right
        self.wrong += other.wrong
        self.tone += other.tone
        self.missing += other.missing
        self.wrong_read = (self.wrong_read or []) + (other.wrong_read or [])


def syllables(truth: str, found: str, caseless: bool) -> Syllables:
    """Truth and found syllables aligned with difflib; punctuation around a
    syllable is not part of it."""
    fold = str.casefold if caseless else str
    t = [fold(w) for w in _tokens(truth)]
    f = [fold(w) for w in _tokens(found)]
    result = Syllables(total=len(t), wrong_read=[])
    matcher = difflib.SequenceMatcher(None, t, f, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            result.right += i2 - i1
        elif tag == "replace" and i2 - i1 == j2 - j1:
            for a, b in zip(t[i1:i2], f[j1:j2], strict=True):
                result.wrong += 1
                result.tone += bare(a) == bare(b)
                assert result.wrong_read is not None
                result.wrong_read.append(b)
        else:
            result.missing += i2 - i1
    return result


def score_text(text: str, fields: dict[str, Any], handwritten: set[str]) -> dict[str, Any]:
    """One reading of one header band against the document's truth."""
    text = normalise(text)
    hits: dict[str, bool] = {}
    sylls: dict[str, Syllables] = {}
    cer = None
    for name in HEADER:
        value = fields.get(name)
        if not value or name in handwritten or UNPRINTED.get(name) == value:
            continue
        hits[name] = field_hit(name, value, text)
        if name in SYLLABIC:
            truth = normalise(value)
            caseless = name in CASELESS
            fold = str.casefold if caseless else str
            distance, start, end = best_substring(fold(truth), fold(text))
            if name == "Subject":
                cer = distance / len(truth)
            found = text[start:end] if distance <= FAR * len(truth) else ""
            sylls[name] = syllables(truth, found, caseless)
    return {"hits": hits, "subject_cer": cer, "syllables": sylls}


def vote(readings: list[str], lexicon: frozenset[str] | None = None) -> str:
    """Syllable-level majority across readings of one band, aligned to the first
    (the pivot) with difflib: a reading votes where it aligns one to one with the
    pivot, and abstains elsewhere. A tie keeps the pivot's syllable, or with a
    ``lexicon`` the first tied one that is a known syllable."""
    base = normalise(readings[0]).split()
    options: list[list[str]] = [[w] for w in base]
    for reading in readings[1:]:
        other = normalise(reading).split()
        matcher = difflib.SequenceMatcher(None, base, other, autojunk=False)
        for tag, i1, i2, j1, j2 in matcher.get_opcodes():
            if tag == "equal" or (tag == "replace" and i2 - i1 == j2 - j1):
                for d in range(i2 - i1):
                    options[i1 + d].append(other[j1 + d])
    chosen = []
    for opts in options:
        counts = Counter(opts)
        top = max(counts.values())
        tied = [w for w in dict.fromkeys(opts) if counts[w] == top]
        pick = tied[0]
        if len(tied) > 1 and lexicon is not None:
            known = [w for w in tied if syllable_key(w.strip(PUNCT)) in lexicon]
            pick = known[0] if known else pick
        chosen.append(pick)
    return " ".join(chosen)


def known_share(words: list[str], lexicon: frozenset[str]) -> dict[str, Any]:
    """How many of ``words`` that hold a letter are syllables of the lexicon."""
    letters = [w for w in (x.strip(PUNCT) for x in words) if any(c.isalpha() for c in w)]
    known = sum(syllable_key(w) in lexicon for w in letters)
    return {
        "words": len(letters),
        "known": known,
        "known_pct": round(100 * known / len(letters), 1) if letters else None,
    }
