"""Who signed a document and who receives it, from its first and last pages.

Phụ lục I places them the same way on every document:

- **Kính gửi** (page 1, under the subject): the addressees, on the same line
  after the colon or one per line below it, each opened with a dash;
- **Nơi nhận** (last page, bottom left, in italics): the recipients of copies,
  one per line opened with a dash and closed with ";" (the last with ".");
- **the signature block** (last page, bottom right): the signing authority when
  someone signs on another's behalf ("TM." on behalf of a collective, "KT."
  as deputy, "TL." and "TUQ." by delegation, "Q." acting), the signer's
  position in capitals, the signature and the seal, and the signer's full name.

Each block's lines are read again on the image without its coloured ink (the
seal sits over the block), and the two readings give the confidence
(:mod:`station.ocr.readings`).
"""

from __future__ import annotations

import re
from typing import Any

from station.ocr.ink import Ink
from station.ocr.lines import KNOWN_WORDS, Line, bounds, lines_of, restore_marks, unknown_syllable
from station.ocr.pdf import PageWords
from station.ocr.readings import (
    MARKS_DISAGREE,
    ONE_READING,
    REFUSED,
    SURE,
    Box,
    Reading,
    agreement,
)
from station.records.vocabulary import fold, misread_syllable, nfc, similar

#: how a signing authority opens ("KT. CHỦ TỊCH", "T/M UBND TỈNH", "Q. CHỦ TỊCH")
_COMPETENCE = re.compile(r"^(?:TM|KT|TL|TUQ|Q|T/M|K/T|T/L)\s*[.:]?\s")
_ITEM = re.compile(r"^\s*[-–—+•]\s*")

Found = dict[str, tuple[Any, Reading]]


#: the words every "Nơi nhận" has (Phụ lục I: "- Như trên;", "- Lưu: VT, …"):
#: a reading that spells them without marks has lost the marks, not read others
_FIXED = ("Như trên", "Lưu")


def _read(ink: Ink, lines: list[Line]) -> tuple[list[str], float]:
    """The lines' texts (read again on the image) and the readings' agreement."""
    chosen, other = ink.texts_and_other(lines)
    return chosen, agreement(" ".join(chosen), _fixed_marks(other) if other else other)


_FIXED_BARE = [
    (re.compile(r"(?<!\w)" + r"\s+".join(re.escape(w) for w in fold(words).capitalize().split())
                + r"(?!\w)"), words)
    for words in _FIXED
]  # fmt: skip


def _fixed_marks(text: str) -> str:
    """``text`` with the marks of the list's fixed words where it spells them without."""
    for bare, words in _FIXED_BARE:
        text = bare.sub(words, text)
    return text


def _list_reading(items: list[str], confidence: float, box: Box | None) -> Reading:
    """A list's items have no vocabulary to check them against: only two
    readings that agree word for word are trusted, and no word may be a
    syllable Vietnamese does not have ("triên")."""
    if any(unknown_syllable(word) for item in items for word in item.split()):
        return Reading(REFUSED, box, "misread")
    return Reading(confidence if confidence >= SURE else MARKS_DISAGREE, box)


def _items(texts: list[str]) -> list[str]:
    """A list's items: a line opened by a dash starts one, another line continues it.
    An item in capitals (an agency) gets the marks of the names it spells."""
    items: list[str] = []
    for text in texts:
        if _ITEM.match(text) or not items:
            items.append(_ITEM.sub("", text))
        else:
            items[-1] += " " + text
    # each item ends with ";": one inside an item ends it, its next one's dash
    # lost ("- Lãnh đạo đơn vị; Lưu: VT.")
    parts = [part for item in items for part in re.split(r";\s*(?=\S)", item)]
    cleaned = [re.sub(r"\s+", " ", item).strip(" ;.,") for item in parts]
    return [
        nfc(" ".join(restore_marks(item.split())) if item.isupper() else item)
        for item in cleaned
        if len(item) >= 2
    ]


def _following(start: Line, lines: list[Line], x0: float, x1: float) -> list[Line]:
    """The lines under ``start`` between ``x0`` and ``x1``, while they follow closely."""
    block: list[Line] = []
    last = start
    for line in sorted(lines, key=lambda line: line.y0):
        if line.y0 <= start.y0 + 0.5 or not (x0 <= line.x0 and line.x1 <= x1):
            continue
        if line.y0 - last.y1 > 1.6 * max(last.height, 3.0):
            break
        block.append(line)
        last = line
    return block


def addressees(page: PageWords, ink: Ink) -> Found:
    """ "Kính gửi: …" on page 1."""
    lines = lines_of(page.words)
    opening = next(
        (
            line
            for line in lines
            if fold(line.text).startswith("KINH GUI") and line.y0 < page.height_mm * 0.6
        ),
        None,
    )
    if opening is None:
        return {}
    block = [opening] + [
        line
        for line in _following(opening, lines, opening.x0 - 5, page.width_mm)
        if _ITEM.match(line.text)
    ]
    texts, confidence = _read(ink, block)
    first = re.sub(r"^\S+\s+\S+\s*[:;.]?\s*", "", texts[0]) if texts else ""
    items = _items(([first] if first else []) + texts[1:])
    if not items:
        return {}
    return {"Addressees": (items, _list_reading(items, confidence, bounds(block)))}


def _recipients_line(lines: list[Line], width: float) -> Line | None:
    """The last "Nơi nhận:" in the left half: the closing's anchor."""
    openings = [
        line for line in lines if fold(line.text).startswith("NOI NHAN") and line.x0 < width / 2
    ]
    return openings[-1] if openings else None


def recipients(page: PageWords, ink: Ink) -> Found:
    """The "Nơi nhận:" list at the bottom left of the last page."""
    lines = lines_of(page.words)
    opening = _recipients_line(lines, page.width_mm)
    if opening is None:
        return {}
    block = _following(opening, lines, 0.0, page.width_mm * 0.55)
    if not block:
        return {}
    texts, confidence = _read(ink, block)
    inline = re.sub(r"^\S+\s+\S+\s*[:;.]?\s*", "", opening.text)
    items = _items(([inline] if inline else []) + texts)
    if not items:
        return {}
    return {"ToPlaces": (items, _list_reading(items, confidence, bounds(block)))}


def signer(page: PageWords, ink: Ink) -> Found:
    """The signature block at the bottom right of the last page, beside "Nơi nhận".

    The block is read on the image without its coloured ink: the seal and the
    signature sit over it, and the text layer often lost its lines there. A
    line of the block that names a position with anything else on it (letters
    of the seal's ring read into it: "VIỆN TRƯỞNG VN") refuses the block: the
    position and the name are left for the clerk, with what was read."""
    lines = lines_of(page.words)
    anchor = _recipients_line(lines, page.width_mm)
    if anchor is None:
        return {}
    x0, x1 = page.width_mm * 0.42, page.width_mm - 3
    top = anchor.y0 - 8
    read = [" ".join(restore_marks(text.split())) for text in ink.read(x0, top, x1, top + 60)]
    box = (x0, top, x1, top + 60)
    titles: list[str] = []
    above: str | None = None  # the line over the first title
    for text in read:
        kind = _title(text)
        # a line in capitals right over the titles is one of them that could
        # not be read ("TM. ỦY BAN NHÂN DÂN" under the seal): the authority
        # would be read without it
        if kind == "title" and not titles and above is not None and _capitals(above):
            kind, text = "spoilt", above
        if kind == "spoilt":
            return {"SignerPosition": (None, Reading(REFUSED, box, "misread", nfc(text)))}
        if kind == "title":
            titles.append(_authority_as_printed(text))
        elif titles:
            break
        above = text
    found: Found = {}
    # the text layer's lines of the block, where it has them, are the second reading
    layer = [line.text for line in lines if line.x0 >= x0 and top <= line.y0 <= top + 60]
    if titles:
        competence = [t for t in titles if _COMPETENCE.match(fold(t))]
        position = [t for t in titles if t not in competence]
        for name, parts in (("SignerCompetence", competence), ("SignerPosition", position)):
            if parts:
                sure = min(_witnessed(part, layer) for part in parts)
                found[name] = (nfc(" ".join(parts)), Reading(sure, box))
    names = [text for text in read if _a_name(text)]
    if titles and names:
        # a name has no vocabulary to check it against: without a second
        # reading it is left for the clerk
        sure = _witnessed(names[-1], layer, alone=MARKS_DISAGREE)
        found["SignerName"] = (nfc(names[-1]), Reading(sure, box))
    return found


#: the positions that sign (Phụ lục I: the position in capitals under the
#: authority), each also with "PHÓ " before it for a deputy
POSITIONS = (
    "CHỦ TỊCH", "VIỆN TRƯỞNG", "CHÁNH ÁN", "GIÁM ĐỐC", "TỔNG GIÁM ĐỐC", "CHÁNH VĂN PHÒNG",
    "CHÁNH THANH TRA", "TỔNG CỤC TRƯỞNG", "CỤC TRƯỞNG", "CHI CỤC TRƯỞNG", "VỤ TRƯỞNG",
    "BỘ TRƯỞNG", "THỨ TRƯỞNG", "THỦ TƯỚNG", "TRƯỞNG BAN", "TRƯỞNG PHÒNG", "TRƯỞNG ĐOÀN",
    "TRƯỞNG KHOA", "HIỆU TRƯỞNG", "THỦ TRƯỞNG", "BÍ THƯ", "CHỦ NHIỆM", "TỔNG THƯ KÝ",
    "TỔNG KIỂM TOÁN NHÀ NƯỚC", "KIỂM TOÁN TRƯỞNG",
)  # fmt: skip
_POSITION_WORDS = frozenset(
    [tuple(p.split()) for p in POSITIONS] + [("PHÓ", *p.split()) for p in POSITIONS]
)
#: the collectives' names that sign abbreviated ("T/M UBND TỈNH")
_COLLECTIVES = frozenset({"UBND", "HĐND", "VKSND", "TAND", "UBMTTQ", "HĐQT"})
#: the authority as printed, before the collective or the position it signs for
_AUTHORITY = re.compile(r"^(TM|KT|TL|TUQ|Q|T/M|K/T|T/L)\s*[.:]?\s+")


def _title(text: str) -> str:
    """What a line of the signature block is: ``title``, a line of the signing
    authority or the position; ``spoilt``, an authority or a position with
    words that are none of it ("VIỆN TRƯỞNG VN": letters of the seal's ring);
    else ``other``.

    Phụ lục I: the authority ("TM." on behalf of a collective, then the
    collective's name, "TM. ỦY BAN NHÂN DÂN", "T/M UBND TỈNH"; "KT.", "TL.",
    "TUQ.", "Q." then a position, "KT. CHỦ TỊCH"), then the position alone on
    its line ("PHÓ CHỦ TỊCH"). A position is a known title, not a free text,
    so a word cut short under the seal ("TỊC") is none; a collective's name is
    made of words of the agencies the station knows and abbreviations ("UBND")."""
    marker = _AUTHORITY.match(text)
    rest = text[marker.end() :].split() if marker else text.split()
    if marker and marker.group(1) in ("TM", "T/M"):
        collective = bool(rest) and all(w in KNOWN_WORDS or w in _COLLECTIVES for w in rest)
        return "title" if collective else "spoilt"
    if tuple(rest) in _POSITION_WORDS:
        return "title"
    # an authority not followed by a position, or a position with other words
    named = marker is not None or any(
        tuple(rest[i : i + len(p)]) == p for p in _POSITION_WORDS for i in range(len(rest))
    )
    return "spoilt" if named else "other"


def _authority_as_printed(text: str) -> str:
    """The authority as Phụ lục I prints it, with its dot ("KT. CHỦ TỊCH"); a
    colon or a lost dot is the reading's ("KT: CHỦ TỊCH"). The slashed forms of
    before Decree 30 ("T/M", "K/T") have none."""
    marker = _AUTHORITY.match(text)
    if marker is None:
        return text
    authority = marker.group(1)
    return f"{authority}{'' if '/' in authority else '.'} {text[marker.end() :]}"


def _capitals(text: str) -> bool:
    """A line in capitals: two letters or more, none in lower case."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 2 and not any(c.islower() for c in letters)


def _witnessed(text: str, layer: list[str], alone: float = ONE_READING) -> float:
    """The confidence of a line read on the image, against the text layer's
    line of the same letters; ``alone`` when the text layer has none (it lost
    the line under the seal or the signature)."""
    best = max(layer, key=lambda other: similar(other, text), default=None)
    if best is None or similar(best, text) < 0.85:
        return alone
    return agreement(text, best)


def _a_name(text: str) -> bool:
    """A Vietnamese full name: two to five capitalised syllables ("Trần Hoàng Tuấn")."""
    words = text.split()
    return 2 <= len(words) <= 5 and all(
        w[:1].isupper() and w[1:].islower() and w.isalpha() and not misread_syllable(w)
        for w in words
    )
