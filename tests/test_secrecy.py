"""The secrecy mark of page 1 (station/ocr/secrecy.py, docs/ocr.md#secrecy-mark): every
way a generated mark reaches the station is found, with its level or as a question,
never with a wrong level; what real pages carry in red and in pen is no mark."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import cv2
import pytest

from station.demo.traits import SECRECY_STAMPS, Secrecy
from station.imaging.arrays import Pixels
from station.ocr import secrecy
from station.ocr.ink import red_marks
from station.ocr.tesseract import read_line
from station.records.vocabulary import SECRECY, priority_of
from tests.docgen import MARK_VARIANTS, MarkVariant, marked_page, stamped_scan

REAL = Path(__file__).parent / "data" / "realscans"
#: the level each stamp is read as
LEVEL_OF = dict(zip(SECRECY_STAMPS, reversed(SECRECY), strict=True))
#: each committed real page's number line: the centre of "Số: …" and its bottom, in mm
NUMBER_LINES = {
    "B01_ttr_01_TTr-UBND_2025": (71, 50),
    "B04_ct_07_CT-UBND_2018": (57, 38),
    "B06_ct_16_CT-UBND_2021": (61, 44),
    "G02_cv_507_UBND-KGVX_2025": (60, 45),
    "G05_nd_45_2026-ND-CP_2026": (55, 44),
}


class Reads:
    """``read_line`` counting its calls."""

    def __init__(self) -> None:
        self.calls = 0

    def __call__(self, gray: Pixels, dpi: int) -> str:
        self.calls += 1
        return read_line(gray, dpi)


@pytest.mark.parametrize(
    "index,variant", list(enumerate(MARK_VARIANTS)), ids=[v.name for v in MARK_VARIANTS]
)
def test_every_variant_of_the_mark_is_found(index: int, variant: MarkVariant) -> None:
    stamped = "MẬT" if variant.mark.how == "handwritten" else SECRECY_STAMPS[index % 3]
    mark = dataclasses.replace(variant.mark, level=stamped)
    image = marked_page(mark, seed=index, dpi=variant.dpi, render=variant.render)
    found = secrecy.find(image, variant.dpi, Reads())
    assert found is not None, variant
    # a level given is the right one; None asks the clerk
    assert found.level in (None, LEVEL_OF[stamped]), (variant, found)
    assert found.sure == (found.level is not None)
    x, y, _w, h = found.box
    mm = variant.dpi / 25.4
    assert x < 105 * mm and 25 * mm < y + h / 2 < 75 * mm, found  # under the number


def test_a_mark_whose_frame_a_received_stamp_crosses_on_a_bilevel_scan_is_found() -> None:
    """A received stamp's frame crossing the mark's frame on a black-and-white
    scan: a column of pixels along the mark's frame once joined the mark to the
    stamp's text, and the page (bench/secrecy.py's seed 1110) was missed."""
    (variant,) = [v for v in MARK_VARIANTS if v.name == "bilevel covered"]
    for stamped in SECRECY_STAMPS:
        mark = dataclasses.replace(variant.mark, level=stamped)
        found = secrecy.find(marked_page(mark, seed=1110, render=variant.render), 200, Reads())
        assert found is not None and found.level in (None, LEVEL_OF[stamped]), (stamped, found)


def test_a_clear_red_stamp_is_read_with_its_level() -> None:
    for seed, stamped in enumerate(SECRECY_STAMPS):
        mark = dataclasses.replace(MARK_VARIANTS[0].mark, level=stamped)
        found = secrecy.find(marked_page(mark, seed=seed), 200, Reads())
        assert found is not None and found.level == LEVEL_OF[stamped], found
        assert found.how == "stamp"


@pytest.mark.parametrize("render", ["grey", "bilevel"])
def test_seals_signature_boxes_stamps_urgency_numbers_and_notes_are_no_mark(
    render: str,
) -> None:
    """The dev set's red and pen ink, drawn: an e-signature box and e-seal over
    the header, a received stamp under the number, a turned HỎA TỐC in an arrow,
    the number and the day written by hand, a routing note in pen under the
    number, the seal of the signature."""
    for seed in range(2):
        image = marked_page(
            None,
            seed=seed + 40,
            render=render,
            esigned=True,
            received="2352" if seed == 0 else None,
            handwritten=True,
            urgency_stamp="HỎA TỐC",
            note=seed == 1,
        )
        assert secrecy.find(image, 200, Reads()) is None


def test_the_real_pages_carry_no_mark_and_cost_no_reading() -> None:
    """Red seals, e-signature boxes, a received stamp on a bilevel scan, numbers
    written by hand: no candidate, so no Tesseract call (the page is cheap)."""
    pages = sorted(REAL.glob("*/p*.jpg"))
    assert len(pages) >= 3
    for page in pages:
        image = cv2.imread(str(page))
        assert image is not None
        reads = Reads()
        assert secrecy.find(image, 200, reads) is None, page
        assert reads.calls == 0, page


def test_a_red_stamp_under_the_number_of_a_real_scan_is_found() -> None:
    """A framed red "MẬT", "TỐI MẬT" or "TUYỆT MẬT" pressed a little crooked under
    the number of a real page (its seal, handwriting, received stamp and
    e-signature boxes left as they are): found on every page, with its level or
    as the clerk's question, never with another level; on the scan of a signed
    paper original the level is read and goes into Priority."""
    for name, under in NUMBER_LINES.items():
        for angle, stamped in zip((-6, 3, 8), SECRECY_STAMPS, strict=True):
            image = stamped_scan(
                REAL / name / "p01.jpg", Secrecy(level=stamped, angle=angle), under
            )
            found = secrecy.find(image, 200, Reads())
            assert found is not None, (name, stamped)
            assert found.level in (None, LEVEL_OF[stamped]), (name, stamped, found)
            _x, y, _w, _h = found.box
            assert abs(y - under[1] * 200 / 25.4) < 20 * 200 / 25.4, (name, found)
    original = "B01_ttr_01_TTr-UBND_2025"
    image = stamped_scan(REAL / original / "p01.jpg", Secrecy(angle=-6), NUMBER_LINES[original])
    assert priority_of(red_marks(image, 200, read_line)) == "Mật"


def test_print_alone_under_the_number_is_read_and_let_be() -> None:
    """A short line of print alone in the left column is a candidate; read
    clean, it is no mark."""
    reads = Reads()
    image = marked_page(None, seed=3, esigned=True)
    assert secrecy.find(image, 200, reads) is None
    assert reads.calls <= 3


def test_the_level_read_goes_into_priority_with_the_urgency() -> None:
    mark = dataclasses.replace(MARK_VARIANTS[0].mark, level="TỐI MẬT")
    image = marked_page(mark, seed=5, urgency_stamp="HỎA TỐC")
    marks = red_marks(image, 200, read_line)
    assert priority_of(marks) == "Tối mật, Hỏa tốc", marks
    # a question is no value: an unread mark leaves Priority to the clerk
    assert priority_of(red_marks(marked_page(None, seed=5), 200, read_line)) is None


def test_the_text_layers_number_line_never_hides_a_mark() -> None:
    from station.ocr.pdf import PageWords, Word

    mark = dataclasses.replace(MARK_VARIANTS[3].mark, level="TỐI MẬT")  # black, unframed
    image = marked_page(mark, seed=8)
    alone = secrecy.find(image, 200, Reads())
    assert alone is not None and alone.level == "Tối mật"
    mm = 200 / 25.4
    top = alone.box[1] / mm
    for y in (top - 7, top + 30):  # the "Số:" line where it is, and misplaced below
        words = PageWords(210, 297, (Word("Số:", 30, y - 5, 36, y),))
        found = secrecy.find(image, 200, Reads(), words)
        assert found is not None and found.level == "Tối mật", (y, found)
