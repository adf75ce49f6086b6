"""Page imaging: accuracy on generated scans, and the hard cases one by one."""

from __future__ import annotations

import io
import json
import statistics
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw

from station.demo.samples import SAMPLE_DOCUMENTS, Layout, render_document
from station.imaging import Preprocessed, preprocess
from station.ocr import tesseract
from tests.docgen import (
    ScannedPage,
    angle_error,
    back_of,
    generate_suite_parallel,
)

SUITE_PAGES = 96


def _decode(data: bytes) -> np.ndarray[Any, Any]:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def _bgr(image: Image.Image) -> np.ndarray[Any, Any]:
    return cv2.cvtColor(np.asarray(image.convert("RGB")), cv2.COLOR_RGB2BGR)


@pytest.fixture(scope="module")
def suite() -> list[tuple[ScannedPage, Preprocessed]]:
    pages = generate_suite_parallel(SUITE_PAGES, seed=2026)
    return [(page, preprocess(_decode(page.jpeg), page.truth.dpi)) for page in pages]


@pytest.mark.slow
def test_accuracy_suite(suite: list[tuple[ScannedPage, Preprocessed]], tmp_path: Path) -> None:
    content = [(p, r) for p, r in suite if not p.truth.blank]
    backs = [(p, r) for p, r in suite if p.truth.blank]
    assert len(suite) >= 80 and len(backs) >= 20
    assert {p.truth.dpi for p, _ in suite} == {200, 300}
    assert {p.truth.orientation_deg for p, _ in suite} == {0, 90, 180, 270}
    assert {p.truth.background for p, _ in suite} == {"grey", "black", "white"}
    assert any(p.truth.kind == "last-sparse" for p, _ in suite)
    assert max(abs(p.truth.skew_deg) for p, _ in suite) > 12

    errors = [angle_error(r.skew_deg, p.truth.skew_deg) for p, r in content]
    wrong_orientation = [
        (p.truth, r.orientation_deg)
        for p, r in content
        if r.orientation_deg != p.truth.orientation_deg
    ]
    dropped = [p.truth for p, r in content if r.blank]
    kept_backs = [(p.truth, r.ink_mm2) for p, r in backs if not r.blank]
    report = {
        "pages": len(suite),
        "content_pages": len(content),
        "blank_backs": len(backs),
        "skew_mean_error_deg": round(statistics.mean(errors), 4),
        "skew_max_error_deg": round(max(errors), 4),
        "orientation_correct": len(content) - len(wrong_orientation),
        "blank_backs_dropped": len(backs) - len(kept_backs),
        "content_pages_dropped": len(dropped),
    }
    print(json.dumps(report))
    assert report["skew_mean_error_deg"] <= 0.1
    assert report["skew_max_error_deg"] <= 0.5
    assert wrong_orientation == []
    assert kept_backs == []
    assert dropped == []


@pytest.mark.slow
def test_crop_gives_the_paper_size_in_colour(suite: list[tuple[ScannedPage, Preprocessed]]) -> None:
    for page, result in suite:
        height, width = result.image.shape[:2]
        paper_w, paper_h = page.truth.paper_px
        if page.truth.blank:  # a blank page has no up: either way round is right
            width, height = sorted((width, height))
        assert abs(width - paper_w) <= max(4, 0.005 * paper_w), page.truth
        assert abs(height - paper_h) <= max(4, 0.005 * paper_h), page.truth
        assert result.image.ndim == 3 and result.image.shape[2] == 3
        if page.truth.background != "white" and not page.truth.blank:
            # no scanner background left along the edges
            edge = np.concatenate(
                [result.image[:3].reshape(-1, 3), result.image[-3:].reshape(-1, 3)]
            )
            assert float(np.median(edge)) > 200, page.truth


def _page(draw: Any = None, size: tuple[int, int] = (1654, 2339)) -> Image.Image:
    image = Image.new("RGB", size, (250, 249, 245))
    if draw is not None:
        draw(ImageDraw.Draw(image))
    return image


def _grey_scan(image: Image.Image, angle: float = 0.0, quality: int = 80) -> np.ndarray[Any, Any]:
    turned = image.rotate(angle, expand=True, fillcolor=(110, 110, 110))
    canvas = Image.new("RGB", (turned.width + 80, turned.height + 80), (110, 110, 110))
    canvas.paste(turned, (40, 40))
    buf = io.BytesIO()
    canvas.save(buf, "JPEG", quality=quality)
    return _decode(buf.getvalue())


def test_skew_sign_follows_the_contract() -> None:
    page = render_document(SAMPLE_DOCUMENTS[0], 200)[0]
    for angle in (-9.5, -2.0, 3.25, 14.0):
        result = preprocess(_grey_scan(page, angle), 200)
        assert abs(result.skew_deg - angle) < 0.1, (angle, result.skew_deg)
        assert result.orientation_deg == 0 and not result.blank


@pytest.mark.parametrize("turn", [0, 90, 180, 270])
def test_orientation_on_white_backing(turn: int) -> None:
    page = render_document(SAMPLE_DOCUMENTS[1], 200, Layout(family="dejavu-sans"))[0]
    captured = _bgr(page.rotate(turn, expand=True))
    result = preprocess(captured, 200)
    assert result.orientation_deg == turn
    assert result.image.shape[:2] == (page.height, page.width)
    assert not result.paper_found


def _seal(pen: ImageDraw.ImageDraw) -> None:
    pen.ellipse((1100, 700, 1380, 980), outline=(205, 35, 40), width=6)
    pen.ellipse((1150, 750, 1330, 930), outline=(205, 35, 40), width=4)


def _signature(pen: ImageDraw.ImageDraw) -> None:
    points = [(1000 + 3 * k, 1200 + 30 * np.sin(k / 9) + 15 * np.sin(k / 4)) for k in range(110)]
    pen.line(points, fill=(25, 35, 110), width=3)


def _two_lines(pen: ImageDraw.ImageDraw) -> None:
    from station.common.fonts import font

    f = font("regular", 36)
    pen.text((260, 400), "Nơi nhận: - Như trên; - Lưu: VT.", font=f, fill=(25, 25, 25))
    pen.text(
        (260, 460), "Trân trọng cảm ơn sự phối hợp của Quý cơ quan.", font=f, fill=(25, 25, 25)
    )


@pytest.mark.parametrize(
    "draw", [_seal, _signature, _two_lines], ids=["seal", "signature", "two-lines"]
)
@pytest.mark.parametrize("sensitivity", ["low", "medium", "high"])
def test_sparse_pages_are_never_blank(draw: Any, sensitivity: str) -> None:
    result = preprocess(_grey_scan(_page(draw), 4.0), 200, sensitivity=sensitivity)
    assert not result.blank, result.ink_mm2


def _dusty_streaky_back() -> Image.Image:
    front = render_document(SAMPLE_DOCUMENTS[2], 200)[0]
    back = back_of(front, __import__("random").Random(4))
    pen = ImageDraw.Draw(back)
    for k in range(40):  # dust
        x, y = (37 * k * 17) % back.width, (53 * k * 29) % back.height
        pen.point((x, y), fill=(70, 70, 70))
    pen.line((800, 0, 800, back.height), fill=(160, 160, 160), width=1)  # dirty glass
    return back


@pytest.mark.parametrize("sensitivity", ["low", "medium", "high"])
def test_blank_back_with_bleed_dust_and_streak_is_blank(sensitivity: str) -> None:
    result = preprocess(
        _grey_scan(_dusty_streaky_back(), -3.0, quality=60), 200, sensitivity=sensitivity
    )
    assert result.blank, result.ink_mm2


def test_sensitivity_orders_faint_marks() -> None:
    # a faint pencil note: dark enough for "low" to keep, too faint for "high"
    def pencil(pen: ImageDraw.ImageDraw) -> None:
        pen.rectangle((400, 600, 700, 612), fill=(192, 192, 192))

    kept = {
        s: not preprocess(_grey_scan(_page(pencil)), 200, sensitivity=s).blank
        for s in ("low", "medium", "high")
    }
    assert kept == {"low": True, "medium": False, "high": False}


def test_colour_and_seal_survive_correction() -> None:
    page = render_document(SAMPLE_DOCUMENTS[0], 200)[1]  # the last page: red seal
    result = preprocess(_grey_scan(page, 7.0), 200)
    b, g, r = (result.image[..., k].astype(int) for k in range(3))
    red = (r - np.maximum(g, b)) > 100
    assert red.sum() > 500  # the seal is still red, not greyed


def test_grey_input_is_supported() -> None:
    page = render_document(SAMPLE_DOCUMENTS[1], 200)[0].convert("L")
    result = preprocess(np.asarray(page.rotate(180)), 200)
    assert result.image.ndim == 2 and result.orientation_deg == 180


def test_unknown_sensitivity_refused() -> None:
    with pytest.raises(ValueError, match="sensitivity"):
        preprocess(_bgr(_page()), 200, sensitivity="extreme")


@pytest.mark.parametrize("turn", [0, 180])
def test_tesseract_orientation_wrapper(turn: int) -> None:
    page = render_document(SAMPLE_DOCUMENTS[1], 200)[0].convert("L").rotate(turn)
    found = tesseract.detect_orientation(np.asarray(page), 200)
    assert found is not None and found.rotate == turn
