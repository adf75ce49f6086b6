"""White backing with a scan area larger than the paper: the page is cut to the
profile's paper around its ink (docs/imaging.md#white-backing-and-overscan)."""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from station.common.fonts import font
from station.config import PAGE_SIZES_MM
from station.demo.samples import SAMPLE_DOCUMENTS, render_document
from station.imaging import Preprocessed, analyse, corrected_strips, preprocess
from station.imaging.overscan import needs_fit
from station.records.verify import PAPER_TOLERANCE_MM
from tests.docgen import back_of, scan
from tests.helpers.cli import scanstation

A4 = PAGE_SIZES_MM["A4"]
Array = np.ndarray[Any, Any]


def _decode(data: bytes) -> Array:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def _mm(image: Array, dpi: int) -> tuple[float, float]:
    return image.shape[1] * 25.4 / dpi, image.shape[0] * 25.4 / dpi


def _ink(image: Array) -> Array:
    """Print, seals and signatures: dark, or strongly coloured."""
    channels = image.astype(np.int16)
    spread = channels.max(axis=2) - channels.min(axis=2)
    result: Array = (cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) < 120) | (spread > 90)
    return result


def _ink_mass(image: Array) -> float:
    """How much darker than the paper the page is, summed: unlike a count of
    thresholded pixels, a turn and a shift of the page do not change it."""
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).astype(np.float64)
    return float(np.clip(200.0 - gray, 0.0, None).sum())


def _margins_mm(ink: Array, dpi: int) -> tuple[float, float, float, float]:
    """Left, top, right and bottom distance of the ink from the page's edges;
    specks of dust (under 0.3 mm²) left out."""
    _, labels, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    large = stats[:, cv2.CC_STAT_AREA] >= 0.3 * (dpi / 25.4) ** 2
    large[0] = False
    ink = large[labels]
    rows, cols = np.flatnonzero(ink.any(axis=1)), np.flatnonzero(ink.any(axis=0))
    height, width = ink.shape
    edges = (cols[0], rows[0], width - 1 - cols[-1], height - 1 - rows[-1])
    return tuple(float(e) * 25.4 / dpi for e in edges)  # type: ignore[return-value]


def _marked(page: Image.Image, dpi: int, inset_mm: float = 6.0) -> Image.Image:
    """The page with a 2 mm black square near each corner: ink that spans
    nearly the whole sheet, so a cut off by more than the inset loses a square."""
    marked = page.copy()
    pen = ImageDraw.Draw(marked)
    side, inset = round(2 / 25.4 * dpi), round(inset_mm / 25.4 * dpi)
    for x in (inset, marked.width - inset - side):
        for y in (inset, marked.height - inset - side):
            pen.rectangle((x, y, x + side, y + side), fill=(0, 0, 0))
    return marked


def _squares(ink: Array, dpi: int) -> int:
    """2 mm squares in a page's ink."""
    _, _, stats, _ = cv2.connectedComponentsWithStats(ink.astype(np.uint8), connectivity=8)
    side = 2 / 25.4 * dpi
    w, h = stats[1:, cv2.CC_STAT_WIDTH], stats[1:, cv2.CC_STAT_HEIGHT]
    area = stats[1:, cv2.CC_STAT_AREA]
    square = (abs(w - side) < 0.35 * side) & (abs(h - side) < 0.35 * side) & (area > 0.7 * w * h)
    return int(square.sum())


def _overscan(
    page: Image.Image, dpi: int, turn: int, skew: float, seed: int, overscan_mm: float = 12.0
) -> Array:
    scanned = scan(
        page,
        "first",
        random.Random(seed),
        dpi,
        0,
        {},
        False,
        orientation=turn,
        skew_deg=skew,
        backing="white",
        overscan_mm=overscan_mm,
    )
    return _decode(scanned.jpeg)


def _check_a4(result: Preprocessed, dpi: int, turn: int) -> None:
    assert result.paper_fitted and not result.paper_found
    assert result.orientation_deg == turn
    width, height = _mm(result.image, dpi)
    assert abs(width - A4[0]) <= PAPER_TOLERANCE_MM, (width, height)
    assert abs(height - A4[1]) <= PAPER_TOLERANCE_MM, (width, height)


CASES = [
    (dpi, turn, skew)
    for dpi in (200, 300)
    for turn in (0, 90, 180, 270)
    for skew in ((-10.0, 3.7) if dpi == 200 else (10.0, -0.4))
]


@pytest.mark.parametrize(("dpi", "turn", "skew"), CASES)
def test_white_overscan_is_cut_to_a4_keeping_all_ink(dpi: int, turn: int, skew: float) -> None:
    document = SAMPLE_DOCUMENTS[turn // 90 % len(SAMPLE_DOCUMENTS)]
    clean = render_document(document, dpi)
    page = clean[-1] if skew < 0 else clean[0]  # the last page holds the seal and signature
    captured = _overscan(page, dpi, turn, skew, seed=dpi + turn)
    assert needs_fit(_mm(captured, dpi), A4)
    result = preprocess(captured, dpi, paper_mm=A4)
    _check_a4(result, dpi, turn)
    assert abs(result.skew_deg - skew) < 0.3

    # the same page levelled the same way but not cut: all its ink is inside the cut
    whole = preprocess(captured, dpi)
    assert whole.skew_deg == result.skew_deg and not whole.paper_fitted
    inside, everywhere = _ink_mass(result.image), _ink_mass(whole.image)
    assert inside >= 0.995 * everywhere, (inside, everywhere)
    # nothing cut at an edge, and margins a sheet printed to Decree 30 has
    truth = _margins_mm(_ink(_bgr(page)), dpi)
    found = _margins_mm(_ink(result.image), dpi)
    assert min(found) >= 5.0, found
    assert max(abs(f - t) for f, t in zip(found, truth, strict=True)) <= 12.0, (found, truth)


def _bgr(image: Image.Image) -> Array:
    return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)


@pytest.mark.parametrize(("dpi", "turn", "skew"), [(200, 0, 9.5), (300, 90, -6.0), (200, 270, 2.0)])
def test_ink_up_to_the_paper_edges_is_kept(dpi: int, turn: int, skew: float) -> None:
    page = _marked(render_document(SAMPLE_DOCUMENTS[0], dpi)[0], dpi)
    assert _squares(_ink(_bgr(page)), dpi) == 4
    result = preprocess(_overscan(page, dpi, turn, skew, seed=7), dpi, paper_mm=A4)
    _check_a4(result, dpi, turn)
    assert _squares(_ink(result.image), dpi) == 4


def test_a_large_page_is_cut_the_same_strip_by_strip() -> None:
    # pages over 24 MP are corrected strip by strip from the same analysis
    dpi = 200
    captured = _overscan(render_document(SAMPLE_DOCUMENTS[1], dpi)[0], dpi, 270, 5.5, seed=4)
    found = analyse(captured, dpi, paper_mm=A4)
    assert found.paper_fitted
    strips = np.concatenate(list(corrected_strips(captured, found.turn, 256)))
    whole = preprocess(captured, dpi, paper_mm=A4).image
    assert strips.shape == whole.shape
    diff = cv2.absdiff(strips, whole)  # to within the rounding of the warp's coordinates
    assert int(diff.max()) <= 2 and np.count_nonzero(diff) / diff.size < 1e-3


def test_a_square_scan_area_takes_the_paper_the_way_the_ink_needs() -> None:
    # 300 x 299 mm: the image lies landscape, but a portrait page's print is
    # taller than an A4 sheet laid landscape
    dpi = 200
    page = render_document(SAMPLE_DOCUMENTS[0], dpi)[0]
    width, height = round(300 / 25.4 * dpi), round(299 / 25.4 * dpi)
    area = Image.new("RGB", (width, height), (250, 250, 250))
    area.paste(page, ((width - page.width) // 2, (height - page.height) // 2))
    result = preprocess(_bgr(area), dpi, paper_mm=A4)
    assert result.paper_fitted and result.orientation_deg == 0
    cut_w, cut_h = _mm(result.image, dpi)
    assert abs(cut_w - A4[0]) <= PAPER_TOLERANCE_MM and abs(cut_h - A4[1]) <= PAPER_TOLERANCE_MM


def test_a_blank_back_is_cut_to_the_paper_too() -> None:
    dpi = 200
    back = back_of(render_document(SAMPLE_DOCUMENTS[2], dpi)[0], random.Random(2))
    result = preprocess(_overscan(back, dpi, 0, 4.0, seed=3), dpi, paper_mm=A4)
    assert result.blank
    _check_a4(result, dpi, 0)


def _sheet(size_mm: tuple[float, float], dpi: int) -> Image.Image:
    """A plain sheet of another paper size with a few lines of print."""
    size = (round(size_mm[0] / 25.4 * dpi), round(size_mm[1] / 25.4 * dpi))
    sheet = Image.new("RGB", size, (250, 249, 245))
    pen = ImageDraw.Draw(sheet)
    text = font("regular", round(13 / 72 * dpi))
    step = round(8 / 25.4 * dpi)
    for k in range(12):
        line = "Căn cứ Nghị định số 30/2020/NĐ-CP về công tác văn thư."
        pen.text(
            (round(20 / 25.4 * dpi), round(25 / 25.4 * dpi) + k * step), line, font=text, fill=0
        )
    return sheet


@pytest.mark.parametrize(("paper", "profile"), [("A5", "A4"), ("Letter", "A4"), ("A3", "A3")])
def test_other_paper_without_overscan_keeps_its_size(paper: str, profile: str) -> None:
    dpi = 200
    sheet = _sheet(PAGE_SIZES_MM[paper], dpi)
    scanned = scan(
        sheet,
        "first",
        random.Random(3),
        dpi,
        0,
        {},
        False,
        orientation=0,
        skew_deg=1.5,
        backing="white",
    )
    captured = _decode(scanned.jpeg)
    result = preprocess(captured, dpi, paper_mm=PAGE_SIZES_MM[profile])
    assert not result.paper_fitted and not result.paper_found
    assert result.image.shape[:2] == captured.shape[:2]


def test_the_profiles_paper_is_the_truth() -> None:
    dpi = 200
    a5 = PAGE_SIZES_MM["A5"]
    captured = _overscan(_sheet(a5, dpi), dpi, 0, -4.0, seed=5, overscan_mm=10.0)
    result = preprocess(captured, dpi, paper_mm=a5)
    assert result.paper_fitted
    width, height = _mm(result.image, dpi)
    assert abs(width - a5[0]) <= PAPER_TOLERANCE_MM and abs(height - a5[1]) <= PAPER_TOLERANCE_MM


def test_slightly_larger_than_the_paper_is_left_alone() -> None:
    dpi = 200
    page = render_document(SAMPLE_DOCUMENTS[1], dpi)[0]
    # 1.2 mm of backing left and right, 1 mm above and below
    side, top = round(1.2 / 25.4 * dpi), 8
    frame = Image.new("RGB", (page.width + 2 * side, page.height + 2 * top), (250, 250, 250))
    frame.paste(page, (side, top))
    captured = _bgr(frame)
    width, height = _mm(captured, dpi)
    assert 0 < width - A4[0] <= PAPER_TOLERANCE_MM and 0 < height - A4[1] <= PAPER_TOLERANCE_MM
    result = preprocess(captured, dpi, paper_mm=A4)
    assert not result.paper_fitted
    assert result.image.shape[:2] == captured.shape[:2]


def test_ink_larger_than_the_paper_is_not_cut() -> None:
    dpi = 200
    page = render_document(SAMPLE_DOCUMENTS[2], dpi)[0]
    # a drawing that overflows the sheet: print 225 mm wide on a 240 mm scan
    wide = Image.new("RGB", (round(240 / 25.4 * dpi), page.height + 60), (250, 250, 250))
    wide.paste(page, (60, 30))
    pen = ImageDraw.Draw(wide)
    pen.rectangle((40, 900, 40 + round(225 / 25.4 * dpi), 912), fill=(20, 20, 20))
    captured = _bgr(wide)
    result = preprocess(captured, dpi, paper_mm=A4)
    assert not result.paper_fitted
    assert result.image.shape[:2] == captured.shape[:2]


@pytest.mark.parametrize("backing", ["grey", "black"])
def test_a_dark_backing_still_finds_the_paper_edge(backing: str) -> None:
    dpi = 200
    page = render_document(SAMPLE_DOCUMENTS[0], dpi)[0]
    captured = _decode(
        scan(
            page,
            "first",
            random.Random(9),
            dpi,
            0,
            {},
            False,
            orientation=90,
            skew_deg=-5.0,
            backing=backing,
        ).jpeg
    )
    with_paper = preprocess(captured, dpi, paper_mm=A4)
    without = preprocess(captured, dpi)
    assert with_paper.paper_found and not with_paper.paper_fitted
    assert np.array_equal(with_paper.image, without.image)


@pytest.mark.parametrize(
    ("image_mm", "paper_mm", "fits"),
    [
        ((223.0, 310.0), A4, True),  # the overscan of the issue
        ((310.0, 223.0), A4, True),  # the same, landscape
        ((212.0, 299.0), A4, False),  # within verify's tolerance
        ((213.0, 330.0), A4, True),  # longer only
        ((148.0, 210.0), A4, False),  # an A5 sheet
        ((215.9, 279.4), A4, False),  # a Letter sheet: wider but shorter
        ((297.0, 420.0), PAGE_SIZES_MM["A3"], False),
    ],
)
def test_needs_fit(
    image_mm: tuple[float, float], paper_mm: tuple[float, float], fits: bool
) -> None:
    assert needs_fit(image_mm, paper_mm) is fits


def test_process_cuts_a_white_overscan_to_the_profiles_paper(tmp_path: Path) -> None:
    dpi = 200
    page = render_document(SAMPLE_DOCUMENTS[0], dpi)[0]
    source = tmp_path / "overscan.jpg"
    Image.fromarray(cv2.cvtColor(_overscan(page, dpi, 0, 2.5, seed=11), cv2.COLOR_BGR2RGB)).save(
        source, "JPEG", quality=90, dpi=(dpi, dpi)
    )
    out = tmp_path / "out"
    proc = scanstation("process", str(source), "--out", str(out), "--no-ocr", "--jobs", "1")
    assert proc.returncode == 0, proc.stderr
    with Image.open(out / "pages" / "p0001.jpg") as cleaned:
        width, height = (side * 25.4 / dpi for side in cleaned.size)
    assert abs(width - A4[0]) <= PAPER_TOLERANCE_MM and abs(height - A4[1]) <= PAPER_TOLERANCE_MM
