"""Orientation on pages that cannot be read: turned only on strong evidence.

Runs :func:`station.imaging.preprocess` (text-line vote, Tesseract OSD when the
vote alone is not enough, :func:`station.imaging.orientation.decide`) on

- OCRmyPDF's own test resources (from its PyPI sdist, downloaded into a cache
  folder when missing): ``cardinal.pdf`` (four pages of text, one per quarter
  turn) as they are, and in every quarter turn the graph (``graph.pdf``), the
  photograph (``lichtenstein.pdf``), the page of two lines (page 2 of
  ``multipage.pdf``), ``baiona.png``, ``typewriter.png``, ``francais.pdf`` and
  ``c03-29.pdf``;
- the generated annex pages of tests/annexes.py (a table, a map, a photograph,
  two lines, a letter) in every quarter turn.

A page is *wrong* when it was turned to anything but upright; *unsure* when it
was left as captured for the neighbours or the review; *upright* when it came
out upright (decided, or captured upright and left so).

    .venv/bin/python -m bench.orientation [--cache DIR] [--out FILE]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write  # noqa: E402
from station.capture.imageio import read_frames  # noqa: E402
from station.imaging import preprocess  # noqa: E402
from station.pipeline.page import decode  # noqa: E402
from tests.annexes import ANNEXES, DPI, turned  # noqa: E402

OCRMYPDF = "17.13.0"
#: file, pages used (None: all), whether it is text a reader would put upright
RESOURCES: list[tuple[str, tuple[int, ...] | None, bool]] = [
    ("graph.pdf", None, False),
    ("lichtenstein.pdf", None, False),
    ("multipage.pdf", (1,), False),  # "9000x9000 pixels at 300 DPI / 81 megapixels"
    ("baiona.png", None, False),
    ("typewriter.png", None, True),
    ("francais.pdf", None, True),
    ("c03-29.pdf", None, True),
]
#: cardinal.pdf's pages: how far each one's content is turned counter-clockwise
CARDINAL = (0, 270, 180, 90)
_TURN = {90: cv2.ROTATE_90_COUNTERCLOCKWISE, 180: cv2.ROTATE_180, 270: cv2.ROTATE_90_CLOCKWISE}


def resources(cache: Path) -> Path:
    """OCRmyPDF's tests/resources, from its sdist (downloaded once with pip)."""
    folder = cache / f"ocrmypdf-{OCRMYPDF}" / "tests" / "resources"
    if folder.is_dir():
        return folder
    cache.mkdir(parents=True, exist_ok=True)
    sdist = cache / f"ocrmypdf-{OCRMYPDF}.tar.gz"
    if not sdist.is_file():
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--no-binary", ":all:",
             f"ocrmypdf=={OCRMYPDF}", "-d", str(cache)],
            check=True,
        )  # fmt: skip
    with tarfile.open(sdist) as tar:
        members = [m for m in tar.getmembers() if "/tests/resources/" in m.name]
        tar.extractall(cache, members=members, filter="data")
    return folder


def _one(image: np.ndarray[Any, Any], dpi: int, turn: int, text: bool) -> dict[str, Any]:
    start = time.perf_counter()
    result = preprocess(image, dpi)
    upright = (result.orientation_deg - turn) % 360 == 0
    return {
        "turn": turn,
        "found": result.orientation_deg,
        "sure": result.orientation_sure,
        "source": result.orientation_source,
        "wrong": result.orientation_deg != 0 and not upright,
        "upright": upright,
        "text": text,
        "seconds": round(time.perf_counter() - start, 2),
    }


def _summary(rows: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "pages": len(rows),
        "wrong": sum(r["wrong"] for r in rows),
        "upright": sum(r["upright"] for r in rows),
        "unsure": sum(not r["sure"] for r in rows),
        "text_pages_upright": f"{sum(r['upright'] for r in rows if r['text'])}"
        f"/{sum(r['text'] for r in rows)}",
    }


def run(cache: Path) -> dict[str, Any]:
    folder = resources(cache)
    cv2.setNumThreads(1)
    sets: dict[str, list[dict[str, Any]]] = {}
    cardinal = []
    for index, frame in enumerate(read_frames(folder / "cardinal.pdf", DPI)):
        cardinal.append(_one(decode(frame, "cardinal"), frame.dpi, CARDINAL[index], True))
    sets["cardinal.pdf"] = cardinal
    for name, pages, text in RESOURCES:
        rows = []
        for index, frame in enumerate(read_frames(folder / name, DPI)):
            if pages is not None and index not in pages:
                continue
            image = decode(frame, name)
            for turn in (0, 90, 180, 270):
                captured = cv2.rotate(image, _TURN[turn]) if turn else image
                rows.append(_one(captured, frame.dpi, turn, text))
        sets[name] = rows
    for name, (draw, text) in ANNEXES.items():
        page = draw(0)
        sets[f"annex:{name}"] = [_one(turned(page, t), DPI, t, text) for t in (0, 90, 180, 270)]
    everything = [row for rows in sets.values() for row in rows]
    return {
        "ocrmypdf_resources": OCRMYPDF,
        "total": _summary(everything),
        "cardinal_right": f"{sum(r['upright'] and r['sure'] for r in cardinal)}/{len(cardinal)}",
        "sets": {name: {**_summary(rows), "pages_detail": rows} for name, rows in sets.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", type=Path, default=Path.home() / ".cache" / "scanstation-bench")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "orientation.json"))
    args = parser.parse_args()
    write("orientation", args.out, run(args.cache))


if __name__ == "__main__":
    main()
