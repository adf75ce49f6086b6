"""The header of an administrative document, read from page 1 (docs/decree30.md#header).

Input: the words of page 1's text layer with their positions (:func:`station.ocr.pdf.page_words`)
and the page image. Output: the Decree 30 metadata of batch.json (docs/batch.md).

The layout of Phụ lục I is the map:

- the national motto ("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM") opens the right
  column; the agency block, the number and, for a công văn, the "V/v" subject
  are in the left column;
- the issuing agency is the bold line(s) of the agency block, the superior
  agency the plain line(s) above it: weight is measured on the image (stroke
  width), with the "Số:" line (plain) and the motto (bold) as the references;
- "Số: 45/QĐ-VKS" gives CodeNumber and CodeNotation, and the type through its
  abbreviation; the italic "…, ngày 06 tháng 3 năm 2024" gives IssuedDate;
- the type name is the centred bold line under the header, the subject the
  bold centred line(s) under it;
- urgency marks are red stamps, read on their own; the secrecy mark (red,
  black or by hand) is found by :mod:`station.ocr.secrecy`.

Every value is checked against the rules (type abbreviation table, a real
date, the number form). A value that does not pass, or that two sources
disagree on, stays ``None``: the clerk fills it in, rather than the DMS
receiving a wrong one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Any

from station.imaging.arrays import Pixels
from station.ocr import lexicon
from station.ocr.ink import Ink
from station.ocr.lines import (
    FIELD_KINDS,
    MOTTO,
    PLACE_UNITS,
    Line,
    Reader,
    bounds,
    from_its_kind,
    inside_phrases,
    join_row,
    known_only,
    lines_of,
    only_a_place,
    respace,
    restore_marks,
    split_known,
    unknown_syllable,
)
from station.ocr.overlays import coloured_words, outside, stamp_frames
from station.ocr.pdf import PageWords
from station.ocr.readings import (
    BY_DICTIONARY,
    MARKS_DISAGREE,
    ONE_READING,
    REFUSED,
    SURE,
    Reading,
    agreement,
    settle,
    union,
)
from station.ocr.slots import Slot, date_slots, filled_in, number_slot, typed_digits
from station.records.vocabulary import (
    CONG_VAN,
    FIELDS,
    SYLLABLE,
    clean,
    fold,
    is_number,
    misread_syllable,
    nfc,
    parse_date,
    parse_number,
    parse_symbol,
    priority_of,
    similar,
    type_name_of,
    type_of_symbol,
)


def sentence_case(words: list[str]) -> str:
    """An agency's name as written in running text (Phụ lục II): "SỞ TƯ PHÁP" →
    "Sở Tư pháp", "VIỆN KIỂM SÁT NHÂN DÂN TỈNH THANH HÓA" → "Viện kiểm sát nhân
    dân tỉnh Thanh Hóa"; abbreviations such as UBND stay as printed. Each field
    of an agency named by its fields opens with a capital, the fields joined
    by "và", a comma or a dash ("Sở Nông nghiệp và Môi trường", "Bộ Lao động -
    Thương binh và Xã hội"). A place unit inside a known phrase is a word of
    it, not a place ("BẢO HIỂM XÃ HỘI")."""
    low = [w.lower() for w in words]
    out: list[str] = []
    kind = 2 if " ".join(low[:2]) in FIELD_KINDS else 1 if low[:1] and low[0] in FIELD_KINDS else 0
    in_place = False
    field = False  # the word opens another field of the agency's name
    inside = inside_phrases(words)
    index = 0
    while index < len(words):
        two = " ".join(low[index : index + 2])
        if _is_abbreviation(words[index]):
            out.append(words[index])
        elif (
            index > 0
            and not in_place
            and index not in inside  # "Bảo hiểm xã hội": a word, no commune
            and (two in PLACE_UNITS or low[index] in PLACE_UNITS)
        ):
            unit = 2 if two in PLACE_UNITS else 1
            out.extend(low[index : index + unit])
            index += unit
            in_place = True
            continue
        elif index == 0 or in_place or (kind and (index == kind or (index > kind and field))):
            out.append(low[index][:1].upper() + low[index][1:])
        else:
            out.append(low[index])
        field = low[index] in ("và", "-", "–") or low[index].endswith(",")
        index += 1
    return " ".join(out)


def _is_abbreviation(word: str) -> bool:
    """UBND, HĐND, VKSND: upper-case words that are no Vietnamese syllable."""
    folded = fold(word)
    return word.isupper() and folded.isalpha() and not SYLLABLE.fullmatch(folded)


# --------------------------------------------------------------------- reader


@dataclass
class Header:
    lines: list[Line]
    motto: Line | None
    split_x: float
    number: Line | None  # the "Số:" line
    width: float


def _header(page: PageWords, ink: Ink) -> Header:
    lines = [line for line in lines_of(page.words) if line.y0 < page.height_mm * 0.45]
    motto = max(lines, key=lambda line: similar(line.text, MOTTO), default=None)
    if motto is not None and similar(motto.text, MOTTO) < 0.75:
        motto = _motto_again(lines, ink, page.width_mm, page.height_mm)
    split_x = motto.x0 - 1.0 if motto is not None else page.width_mm / 2
    head = Header(lines, motto, split_x, None, page.width_mm)
    for line in lines:
        if line.cx >= split_x or line.y0 > page.height_mm * 0.3:
            continue
        # "Số: 45/…", or "Số:" with the number written by hand and the symbol after;
        # or the label misread ("86:46 /CT-UBND") before a symbol that is one
        label = re.match(r"^S\S{0,2}\s*(?:[:;.,]?\s*[0-9]|[:;.,])", line.text)
        if not label and not (re.match(r"^\S{1,3}:", line.text) and parse_symbol(line.text)):
            continue
        row = join_row(line, lines, 0.0, split_x)
        if re.match(r"^S\S{0,2}\s*[:;.,]?\s*[0-9]", line.text) or re.search(r"[/|]", row.text):
            head.number = row
            break
    return head


@dataclass(frozen=True)
class HeaderRead:
    """The fields of a document's header and how each was read."""

    fields: dict[str, Any]
    readings: dict[str, Reading]

    def readings_json(self) -> dict[str, dict[str, Any]]:
        return {name: reading.as_json() for name, reading in self.readings.items()}


def _motto_again(lines: list[Line], ink: Ink, width: float, height: float) -> Line | None:
    """The national motto when the text layer garbled it (a seal or an
    e-signature box over it): the upper right lines read again on the image
    without its coloured ink."""
    for line in lines:
        if line.y0 < height * 0.2 and line.x1 > width * 0.5 and line.x1 - line.x0 > 30:
            # across the column: the text layer may have lost the words under the ink
            again = ink.read(line.x0 - 2, line.y0 - 1, width - 3, line.y1 + 1)
            if again and similar(" ".join(again), MOTTO) >= 0.75:
                return line
    return None


def read_fields(
    page: PageWords,
    image: Pixels,
    dpi: int,
    *,
    page_amount: int,
    latest: date | None = None,
    marks: list[str] | None = None,
    reader: Reader | None = None,
    recording: bool = False,
    min_confidence: float = 0.8,
) -> HeaderRead:
    """The Decree 30 fields of a document from its first page; None where unsure.

    ``marks`` are the marks :func:`red_marks` found (urgency, and the secrecy
    level read for sure); ``reader`` reads a
    few header lines again (see :class:`Ink`). A field read with less than
    ``min_confidence`` is left None, what was read kept in its reading."""
    latest = latest or date.today()
    found: dict[str, Any] = dict.fromkeys(FIELDS)
    readings: dict[str, Reading] = {}
    found["PageAmount"] = page_amount
    found["Language"] = language_of(page.text)
    ink = Ink(image, dpi, reader, recording)
    # received stamps, seals and e-signature boxes: not the header
    page = coloured_words(outside(page, stamp_frames(image, dpi)), image, dpi)
    head = _header(page, ink)
    title = _type_title(head)
    by_title = _title_name(title.text) if title is not None else None
    number_box = bounds([head.number]) if head.number is not None else None
    parsed: list[tuple[str, str]] = []
    consistent: list[tuple[str, str]] = []
    # the text layer's reading, then (only when that one fails) a second one
    for again in (False, True):
        if head.number is None or consistent:
            break
        texts = ink.texts([head.number], force=True) if again else [head.number.text]
        parsed += [value for value in map(parse_number, texts) if value]
        # a document with a type title carries its abbreviation first in the symbol
        consistent = [
            value for value in parsed if by_title is None or type_of_symbol(value[1]) == by_title
        ]
        sure = ONE_READING if again else SURE
    if consistent:
        found["CodeNumber"], found["CodeNotation"] = consistent[0]
    elif len({number for number, _ in parsed}) == 1:
        found["CodeNumber"] = parsed[0][0]
    if found["CodeNumber"] is not None:
        readings["CodeNumber"] = Reading(sure, number_box)
    if found["CodeNotation"] is not None:
        readings["CodeNotation"] = Reading(sure, number_box)
    if head.number is not None:
        slot = number_slot(head.number)
        by_hand = slot is not None and filled_in(ink, slot) is not None
        if by_hand or (slot is None and found["CodeNumber"] is not None):
            # written by hand (what Tesseract makes of it is not shown): for the clerk
            box = slot.box if slot is not None else number_box
            readings["CodeNumber"] = Reading(REFUSED, box, "handwritten" if by_hand else None)
            found["CodeNumber"] = None
        elif slot is not None:
            found["CodeNumber"], readings["CodeNumber"] = _typed_number(
                found["CodeNumber"], readings.get("CodeNumber"), ink, slot
            )
    if found["CodeNotation"] is None and head.number is not None:
        # the number unreadable (by hand), the printed symbol after it is not
        symbol = parse_symbol(head.number.text)
        if symbol is not None and (by_title is None or type_of_symbol(symbol) == by_title):
            found["CodeNotation"] = symbol
            readings["CodeNotation"] = Reading(SURE, number_box)
    found["IssuedDate"], readings["IssuedDate"] = _issued(head, ink, latest)
    found["OrganName"], readings["OrganName"] = _organ(head, ink)
    if title is not None:
        found["TypeName"] = by_title
        readings["TypeName"] = Reading(SURE, bounds([title]))
        found["Subject"], readings["Subject"] = _centred_subject(head, ink, title)
    elif found["CodeNotation"] is not None and not _other_title(head, ink):
        by_symbol = type_of_symbol(found["CodeNotation"])
        found["TypeName"] = by_symbol or CONG_VAN
        readings["TypeName"] = Reading(ONE_READING, number_box)
        if not by_symbol:
            found["Subject"], readings["Subject"] = _vv_subject(head, ink)
    found["Priority"] = priority_of(marks or [])
    if found["Priority"] is not None:
        readings["Priority"] = Reading(SURE)
    settle(found, readings, min_confidence)
    return HeaderRead(found, readings)


NOTHING = Reading(REFUSED)


def _typed_number(
    number: str | None, reading: Reading | None, ink: Ink, slot: Slot
) -> tuple[str | None, Reading]:
    """The number checked against its slot's digits read alone (as the day,
    :func:`_dated`): agreeing, sure; alone (the line's number unreadable, "542_"),
    from one reading; disagreeing, left for the clerk."""
    digits = typed_digits(ink, slot)
    if digits is None or not is_number(digits):
        return number, reading or NOTHING
    if number is None:
        return digits, Reading(ONE_READING, slot.box)
    if int(digits) == int(number):
        return number, Reading(SURE, reading.box if reading else slot.box)
    return None, Reading(MARKS_DISAGREE, slot.box, "disagree", digits)


def _issued(head: Header, ink: Ink, latest: date) -> tuple[str | None, Reading]:
    """The dated place line, in the right column under the motto; read again
    across the column when the text layer garbled it (italic print). Kept only
    when its day and month are printed, not filled in (:mod:`station.ocr.slots`)."""
    if head.motto is None:
        return None, NOTHING
    zone = [
        line
        for line in head.lines
        if line.x0 >= head.split_x - 5 and head.motto.y1 < line.y0 < head.motto.y1 + 30
    ]
    rows: list[Line] = []
    for line in zone:
        row = join_row(line, zone, head.split_x - 5, head.width)
        if not any(row.words == other.words for other in rows):
            rows.append(row)
    for again in (False, True):
        for line in rows:
            texts = (
                ink.read(head.split_x, line.y0 - 1, head.width - 3, line.y1 + 1)
                if again
                else [line.text]
            )
            for text in texts:
                dated = _dated(text, line, ink, latest, ONE_READING if again else SURE)
                if dated is not None:
                    return dated
    # not read at all: say so when the day or the month is written by hand
    for line in rows:
        refused = _by_hand(ink, line)
        if refused is not None and refused.code:
            return None, refused
    return None, NOTHING


def _dated(
    text: str, line: Line, ink: Ink, latest: date, sure: float
) -> tuple[str | None, Reading] | None:
    """The date of one reading of the date line, checked against its day slot;
    None when this reading gives no date.

    The day of a printed line is also read alone from its slot
    (:func:`typed_digits`): a day typed in by the signing system in a smaller,
    raised font is often misread with its line ("08" as "98"). The slot's
    digits agreeing with the line make the date sure; standing alone (the
    line's day unreadable) they give it from one reading; disagreeing, the
    date is left for the clerk with the slot's reading offered."""
    value = parse_date(text, latest)
    if value is None and parse_date(text, latest, day=1) is None:
        return None
    refused = _by_hand(ink, line)
    if refused is not None:
        return None, refused
    box = bounds([line])
    slot = next((slot for slot in date_slots(line) if slot.name == "day"), None)
    digits = typed_digits(ink, slot) if slot is not None else None
    day = int(digits) if digits else None
    if value is not None and (day is None or day == value.day):
        return value.isoformat(), Reading(SURE if day is not None else sure, box)
    by_slot = parse_date(text, latest, day=day) if day is not None else None
    if by_slot is None:
        return None
    if value is None:
        return by_slot.isoformat(), Reading(ONE_READING, slot.box if slot else box)
    return None, Reading(MARKS_DISAGREE, box, "disagree", by_slot.isoformat())


def _by_hand(ink: Ink, line: Line) -> Reading | None:
    """None when the date line's day and month are printed like its year; else
    the refusal: for the clerk, with the box of the slots written by hand (no
    slots found: refused without a reason)."""
    slots = date_slots(line)
    written = [slot.box for slot in slots if filled_in(ink, slot)]
    if slots and not written:
        return None
    return Reading(REFUSED, union(written) or bounds([line]), "handwritten" if written else None)


#: bold print's stroke over plain print's, at least (the motto over the "Số:" line)
BOLDER = 1.15


def _organ(head: Header, ink: Ink) -> tuple[str | None, Reading]:
    """The bold line(s) of the agency block, just above the number.

    The block's lines are found on the image, weighed against the plain
    "Số:" line and the bold motto, and read one by one."""
    if head.number is None or head.motto is None or ink.reader is None:
        return None, NOTHING
    above = [
        line
        for line in head.lines
        if line.x1 <= head.split_x + 2 and line.y1 <= head.number.y0 + 0.5
    ]
    plain, bold = _plain_stroke(head, ink), ink.stroke(head.motto)
    if not above or plain is None or bold is None:
        return None, NOTHING
    x0, x1 = max(0.0, min(line.x0 for line in above) - 2), head.split_x - 0.5
    bands = ink.bands(x0, min(line.y0 for line in above) - 1.5, x1, head.number.y0 - 0.3)
    weights = [ink.stroke_of(x0, top, x1, bottom) for top, bottom in bands]
    if not bands or any(w is None for w in weights):
        return None, NOTHING
    # bold lies between the plain "Số:" line and the bold motto; a motto printed
    # plain (forms from before Decree 30) leaves the margin the motto must have
    # over the "Số:" line to serve as bold
    middle = (plain + bold) / 2 if bold >= plain * BOLDER else plain * BOLDER
    flags = [w is not None and w > middle for w in weights]
    if not flags[-1] or any(flags[i] and not flags[i + 1] for i in range(len(flags) - 1)):
        return None, NOTHING  # the issuing agency is the last bold run, right above the number
    words: list[str] = []
    organ = bands[flags.index(True) :]
    reads = ink.read_lines_of([(x0, top - 0.8, x1, bottom + 0.8) for top, bottom in organ])
    for (top, bottom), read in zip(organ, reads, strict=True):
        if len(read) != 1:
            return None, NOTHING
        layer = [
            w.text
            for line in above
            for w in line.words
            if top - 0.5 <= (w.y0 + w.y1) / 2 <= bottom + 0.5
        ]
        band = split_known(_bare(respace(clean(read[0]), layer).split()))
        if any(misread_syllable(w) for w in band):
            # the second reading misread a syllable: the text layer's words,
            # when each is a word of a known name, with its marks
            band = known_only(_bare(layer)) or band
        words += band
    # letters, or the number of a region ("KHU VỰC 3")
    if not words or not all(re.fullmatch(r"[A-Z]+|[0-9]{1,2}", fold(w)) for w in words):
        return None, NOTHING
    box = (x0, organ[0][0], x1, organ[-1][1])
    if any(misread_syllable(w) for w in words):
        return None, Reading(REFUSED, box, "misread", " ".join(words))
    if any(w != w.upper() for w in words):
        return None, NOTHING
    name = from_its_kind(restore_marks(words))
    if only_a_place(name):
        return None, NOTHING  # the name's first line was taken for plain print
    return nfc(sentence_case(name)), Reading(ONE_READING, box)


def _plain_stroke(head: Header, ink: Ink) -> float | None:
    """Plain print's stroke, measured on the "Số:" line; on its printed symbol
    alone when the number was written in by hand: a pen's stroke is heavier
    than print's, and would make the agency's bold name look plain."""
    assert head.number is not None
    slot = number_slot(head.number)
    if slot is not None and filled_in(ink, slot):
        return ink.stroke_of(*slot.reference)
    return ink.stroke(head.number)


def _bare(words: list[str]) -> list[str]:
    return [w.strip(".,;:_'\"|") for w in words if w.strip(".,;:_'\"|")]


def _type_title(head: Header) -> Line | None:
    """The centred type name under the number ("QUYẾT ĐỊNH"), if any."""
    below = head.number.y1 if head.number is not None else 0.0
    centre = head.width / 2
    return next(
        (
            line
            for line in head.lines
            if line.y0 > below and abs(line.cx - centre) < 20 and _title_name(line.text)
        ),
        None,
    )


def _other_title(head: Header, ink: Ink) -> bool:
    """A title the station does not know ("PHIẾU TRÌNH DUYỆT"): a centred line
    of capitals under the number, bold against the "Số:" line. A công văn has
    no title, so such a document is none, whatever its symbol says."""
    if head.number is None:
        return False
    plain = _plain_stroke(head, ink)
    centre = head.width / 2
    for line in head.lines:
        if line.y0 <= head.number.y1 or abs(line.cx - centre) >= 20:
            continue
        if not _capitals(line.text) or fold(line.text).startswith("KINH GUI"):
            continue
        weight = ink.stroke(line)
        if plain is not None and weight is not None and weight >= plain * BOLDER:
            return True
    return False


def _title_name(text: str) -> str | None:
    """The type a title names: "QUYẾT ĐỊNH", or, as titles were printed
    before 2011, the type and the authority that issues it ("QUYẾT ĐỊNH CỦA
    ỦY BAN NHÂN DÂN TỈNH")."""
    words = text.split()
    of = next((i for i, w in enumerate(words) if fold(w) == "CUA"), None)
    if of is not None and of > 0:  # the authority may go on on the next line
        return type_name_of(" ".join(words[:of]))
    return type_name_of(text)


def _centred_subject(head: Header, ink: Ink, title: Line) -> tuple[str | None, Reading]:
    """The centred lines right under the type name, bold like it; or, as a legal
    normative document prints its name ("NGHỊ ĐỊNH / QUY ĐỊNH QUẢN LÝ …"), in
    plain capitals, every line of them (the body's first line is not), taken
    only when both readings spell them alike."""
    centre = head.width / 2
    reference = ink.stroke(title)
    parts: list[Line] = []
    plain = False
    last = title
    for line in head.lines:
        if (line.y0 + line.y1) / 2 <= title.y1 or _speck(line):
            continue
        if line.y0 - last.y1 > 2.2 * last.height or abs(line.cx - centre) > 20:
            break
        weight = ink.stroke(line)
        if reference is None or weight is None:
            break
        bold = weight >= 0.8 * reference
        if bold and plain:
            break
        if not bold and ((parts and not plain) or not _capitals(line.text)):
            break
        plain = not bold
        parts.append(line)
        last = line
    text, reading = _subject(ink, parts, capitals=plain)
    if plain and text is not None and reading.confidence not in (SURE, BY_DICTIONARY):
        # capitals lose their marks in one reading and gain wrong ones in the
        # other ("NGUON" / "NGUÔN" for NGUỒN): only two readings alike are
        # taken, or words the dictionary settles (lexicon.settle, ``capitals``)
        reading = Reading(MARKS_DISAGREE, reading.box, "marks_disagree")
    return text, reading


def _capitals(text: str) -> bool:
    """A line of capitals: every letter upper case, and more than a word's worth."""
    letters = [c for c in text if c.isalpha()]
    return len(letters) >= 8 and all(c.isupper() for c in letters)


def _subject(
    ink: Ink, parts: list[Line], vv: bool = False, capitals: bool = False
) -> tuple[str | None, Reading]:
    """The subject's lines read, with the confidence the two readings give;
    ``capitals``: printed in capitals (:func:`lexicon.settle`)."""
    if not parts:
        return None, NOTHING
    chosen, other = ink.texts_and_other(parts)
    text = _subject_text(" ".join(chosen), as_printed=vv)
    box = bounds(parts)
    again = _subject_text(other, as_printed=vv, checked=False) if other is not None else None
    confidence = agreement(text, again) if text is not None else REFUSED
    # a syllable's neighbours may tell which mark it carries (the readings
    # mark it differently, or alike but making no word)
    settled = lexicon.settle(" ".join(chosen), other, capitals=capitals)
    settled = _subject_text(settled, as_printed=vv) if settled is not None else None
    if settled is not None and settled != text:
        return settled, Reading(BY_DICTIONARY, box, "by_dictionary")
    if text is None:
        misread = _misread(" ".join(chosen).split())
        return None, Reading(REFUSED, box, "misread") if misread else NOTHING
    return text, Reading(confidence, box, "marks_disagree" if confidence < ONE_READING else None)


def _speck(line: Line) -> bool:
    """Dust or a stray mark read as a "line" of its own (a comma, a dot)."""
    return sum(c.isalnum() for c in line.text) < 2 and line.x1 - line.x0 < 5


def _vv_subject(head: Header, ink: Ink) -> tuple[str | None, Reading]:
    start = next(
        (
            line
            for line in head.lines
            if line.cx < head.split_x
            and re.match(r"^V\s*[/|lIií1]\s*[vV]\b", line.text)
            and (head.number is None or line.y0 >= head.number.y1 - 0.5)
        ),
        None,
    )
    if start is None:
        return None, NOTHING
    parts = [start]
    for line in head.lines:
        last = parts[-1]
        if (line.y0 + line.y1) / 2 <= last.y1 or line.x1 > head.split_x + 2 or _speck(line):
            continue
        if line.y0 - last.y1 > 1.2 * last.height or abs(line.cx - start.cx) > 15:
            break
        parts.append(line)
    return _subject(ink, parts, vv=True)


def _subject_text(text: str, *, as_printed: bool = False, checked: bool = True) -> str | None:
    """The subject's lines as one text; a công văn's (after "V/v") keeps the case
    it is printed in ("V/v góp ý …" → "góp ý …"), a title's starts with a capital.
    ``checked``: None when a word is no Vietnamese syllable (a second reading
    that is a witness, not a value, is not checked: its misreadings must count
    against the first)."""
    if as_printed:  # a công văn's: "V/v" goes
        text = re.sub(r"^V\s*[/|lIií1]\s*[vV]?\s*[:.]?\s*", "", text)
    text = nfc(re.sub(r"\s+", " ", text).strip(" .;:"))
    # Roman numerals read with a lower-case l ("quý IIl")
    text = re.sub(r"\b[IlV]*I[IlV]*\b", lambda m: m[0].replace("l", "I"), text)
    if len(text) < 4:
        return None
    if checked and _misread(text.split()):
        return None
    return text if as_printed else text[:1].upper() + text[1:]


def _misread(words: list[str]) -> bool:
    """A word that breaks a syllable's shape, or a syllable Tesseract's
    dictionary lacks that no word of the word list holds where it stands
    ("dột" in "nhà dột nát" is Vietnamese, "Dằn" in "Nhâm Dằn-năm" is not
    known to be)."""
    return any(
        misread_syllable(w) or (unknown_syllable(w) and not lexicon.vouched(words, i))
        for i, w in enumerate(words)
    )


def language_of(text: str) -> str | None:
    """ "vi" when Vietnamese letters are common, "en" for plain English, else None."""
    words = re.findall(r"[^\W\d_]+", text)
    if len(words) < 5:
        return None
    marked = sum(1 for w in words if fold(w) != w.upper())
    if marked / len(words) >= 0.15:
        return "vi"
    english = {"the", "and", "of", "to", "in", "for", "is", "on", "with", "by"}
    if sum(1 for w in words if w.lower() in english) / len(words) >= 0.05:
        return "en"
    return None
