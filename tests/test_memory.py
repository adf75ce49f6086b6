"""Memory of the page step at the input limit (docs/imaging.md#memory).

A page just under the input limit (98.8 MP, colour) is cleaned in a process of
its own, as the station's cleaning worker cleans a stored page; the kernel's
figure of that process's peak resident memory must stay under 600 MB. The parts
that make it so are checked one by one against the whole-page path they stand
for: the strip-by-strip correction, the JPEG joined from strips, the pool's
waiting for room.
"""

from __future__ import annotations

import functools
import io
import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest
from PIL import Image

from station.capture.imageio import MAX_PIXELS, EncodedFrame
from station.common import workers
from station.demo.samples import render_document
from station.imaging import analyse, corrected_strips, preprocess
from station.imaging.clean import FRUGAL_PIXELS
from station.pipeline.jpeg import encode_strips, strip_rows
from station.pipeline.offline import Pending, _no_room
from station.pipeline.page import WORKER_BYTES, clean_cost, encode
from tests.docgen import random_document, scan
from tests.helpers.bigpage import BIG_PIXELS, write_big_page
from tests.helpers.cli import ROOT

LIMIT_MB = 600
#: generated pages turned by 0, 90, 180 and 270 degrees, one each
SEEDS = (1, 2, 4, 11)


@functools.cache
def _scanned(seed: int, dpi: int = 200) -> tuple[np.ndarray[Any, Any], int]:
    rng = random.Random(seed)
    spec, fields = random_document(rng, seed)
    page = scan(render_document(spec, dpi=dpi)[0], "first", rng, dpi, 0, fields, blank=False)
    image = cv2.imdecode(np.frombuffer(page.jpeg, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image, page.truth.orientation_deg


@pytest.mark.slow
def test_page_at_the_input_limit_is_cleaned_within_600_mb(tmp_path: Path) -> None:
    page = tmp_path / "page.jpg"
    dpi = write_big_page(page)
    with Image.open(page) as image:
        width, height = image.size
    assert FRUGAL_PIXELS < width * height == pytest.approx(BIG_PIXELS, rel=1e-3)
    assert width * height < MAX_PIXELS
    found = subprocess.run(
        [sys.executable, "-m", "tests.helpers.clean_child", str(page), "200", str(tmp_path)],
        cwd=ROOT, capture_output=True, text=True, check=True, timeout=240,
    )  # fmt: skip
    peak_mb = json.loads(found.stdout)["peak_rss"] / 2**20
    assert peak_mb < LIMIT_MB, f"cleaning a {width * height / 1e6:.1f} MP page took {peak_mb} MB"
    # it was cleaned, not skipped: turned upright, levelled, cropped, its label read
    report = json.loads(found.stdout)["report"]
    assert report["dpi"] == dpi
    assert report["orientation_deg"] == 180
    assert report["skew_deg"] == pytest.approx(-0.65, abs=0.05)
    assert report["registrations"] == ["DEN-2024-000001"]
    with Image.open(tmp_path / "clean.jpg") as clean:
        assert clean.info["dpi"] == (dpi, dpi)
        assert clean.width < width and clean.height < height  # the scanner's margins cut off
        assert clean.height / clean.width == pytest.approx(297 / 210, rel=0.02)
        clean.draft("RGB", (clean.width // 8, clean.height // 8))
        small = np.asarray(clean.convert("L"))
    # upright: the page's header is text, its foot (below the text) is paper
    assert small[: small.shape[0] // 8].mean() < small[small.shape[0] // 2 :].mean()
    assert (tmp_path / "thumb.jpg").stat().st_size > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_strips_are_the_corrected_page(seed: int) -> None:
    """The strip-by-strip correction of a large page is the page preprocess makes,
    in every orientation, to within the rounding of the warp's coordinates."""
    image, _ = _scanned(seed)
    whole = preprocess(image, 200).image
    found = analyse(image, 200)
    assert found.turn.final_size == (whole.shape[1], whole.shape[0])
    joined = np.concatenate(list(corrected_strips(image, found.turn, 64)))
    assert joined.shape == whole.shape
    diff = cv2.absdiff(joined, whole)
    assert int(diff.max()) <= 2
    assert np.count_nonzero(diff) / diff.size < 1e-3


def test_orientations_covered_by_the_strip_cases() -> None:
    assert {_scanned(seed)[1] for seed in SEEDS} == {0, 90, 180, 270}


@pytest.mark.parametrize("grey", [False, True])
def test_jpeg_from_strips_decodes_as_the_whole_page(grey: bool) -> None:
    image, _ = _scanned(3, dpi=300)
    page = preprocess(image, 300).image
    if grey:
        page = cv2.cvtColor(page, cv2.COLOR_BGR2GRAY)
    rows = strip_rows(page.shape[1], 96)
    strips = [page[top : top + rows] for top in range(0, page.shape[0], rows)]
    assert len(strips) > 10 and strips[-1].shape[0] < rows  # a short last strip too
    joined = encode_strips(strips, page.shape[0], 300)
    whole, _ext = encode(page, 300)
    decoded = [
        cv2.imdecode(np.frombuffer(d, np.uint8), cv2.IMREAD_UNCHANGED) for d in (joined, whole)
    ]
    assert decoded[0] is not None and decoded[1] is not None
    assert decoded[0].shape == page.shape
    assert np.array_equal(decoded[0], decoded[1])
    with Image.open(io.BytesIO(joined)) as image_file:
        assert image_file.info["dpi"] == (300, 300)
        assert image_file.size == (page.shape[1], page.shape[0])
    assert bytes([0xFF, 0xDD]) in joined  # restart interval: one strip


def test_strip_rows_fit_a_restart_interval() -> None:
    assert strip_rows(1654) == 256
    rows = strip_rows(60_000)  # 7500 blocks a row: 8 block rows would overflow
    assert rows % 8 == 0 and (60_000 // 8) * (rows // 8) <= 0xFFFF


def _pending(*sizes: tuple[int, int]) -> list[Pending]:
    from concurrent.futures import Future

    return [("a.jpg", i, Future(), w, h) for i, (w, h) in enumerate(sizes)]


def _frame(width: int, height: int) -> EncodedFrame:
    return EncodedFrame(b"", "jpg", width, height, 300)


def test_a_large_page_is_cleaned_alone() -> None:
    a4 = (2480, 3508)  # 8.7 MP: 300 dpi
    big = (8482, 11647)  # 98.8 MP
    budget = 64 * 2**30
    assert not _no_room(_pending(a4), _frame(*a4), 2, budget)
    assert _no_room(_pending(a4), _frame(*big), 2, budget)  # waits for the small one
    assert _no_room(_pending(big), _frame(*a4), 2, budget)  # and the small one for it
    assert _no_room(_pending(a4, a4, a4, a4), _frame(*a4), 2, budget)  # two per worker


def test_pages_wait_for_room_in_the_budget() -> None:
    a4 = (2480, 3508)
    cost = clean_cost(*a4)
    assert cost == a4[0] * a4[1] * 15
    budget = 2 * WORKER_BYTES + 2 * cost  # two at a time
    assert not _no_room(_pending(a4), _frame(*a4), 2, budget)
    assert _no_room(_pending(a4, a4), _frame(*a4), 2, budget)
    # a page at the limit costs less than a quarter of itself as a whole-page path would
    assert clean_cost(8482, 11647) < 400 * 2**20


def test_cleaning_budget_from_the_machine() -> None:
    total = workers.memory_total()
    meminfo = Path("/proc/meminfo").read_text(encoding="ascii").split()
    assert meminfo[0] == "MemTotal:" and total == int(meminfo[1]) * 1024
    assert workers.cleaning_budget(0) == int(total * workers.CLEANING_SHARE)
    assert workers.cleaning_budget(768) == 768 * 2**20
