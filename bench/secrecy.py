"""The secrecy mark: recall on generated marks, false alarms on real and unmarked pages.

    .venv/bin/python -m bench.secrecy [--seeds 3] [--real DIR] [--out FILE]

Generated marks (tests/docgen.py ``MARK_VARIANTS``): every variant, each of
the three levels ("MẬT", "TỐI MẬT", "TUYỆT MẬT"; a hand writes "Mật" only),
``--seeds`` pages each, through :func:`station.ocr.secrecy.find` with real
Tesseract. A mark is

- ``read``: found with its level;
- ``asked``: found without a level (the station asks the clerk);
- ``wrong``: found with another level (worse than asking);
- ``missed``: not found.

Recall counts read and asked. Real pages with a mark: page 1 of every document
of the real-scan development set with a framed red stamp of each level pressed
2 mm under its number line (found by Tesseract: the line starting "Số"),
turned -6°, 3° and 8°, saved as JPEG (``tests/docgen.py`` ``stamped_scan``).
False alarms: every page image of the real-scan
development set (DIR, default ``../shared/realscans-dev``; none is secret) and
generated pages without a mark but with what real pages carry (e-signature box
and e-seal, received stamp, a turned "HỎA TỐC", the number and the day written
by hand, a routing note in pen under the number; colour and bilevel). Time per
page: without a candidate (no Tesseract call) and with candidates (their crops
read one by one, as ``read_line`` does outside the pipeline's batching).
"""

from __future__ import annotations

import argparse
import dataclasses
import statistics
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DEFAULT_DIR = ROOT.parent / "shared" / "realscans-dev"


class _Reads:
    def __init__(self) -> None:
        from station.ocr.tesseract import read_line

        self.read_line = read_line
        self.calls = 0

    def __call__(self, gray: Any, dpi: int) -> str:
        self.calls += 1
        return self.read_line(gray, dpi)


def _timed(image: Any, dpi: int) -> tuple[Any, float, int]:
    from station.ocr import secrecy

    reads = _Reads()
    start = time.perf_counter()
    found = secrecy.find(image, dpi, reads)
    return found, time.perf_counter() - start, reads.calls


def generated(seeds: int) -> dict[str, Any]:
    from station.demo.traits import SECRECY_STAMPS
    from station.records.vocabulary import SECRECY
    from tests.docgen import MARK_VARIANTS, marked_page

    level_of = dict(zip(SECRECY_STAMPS, reversed(SECRECY), strict=True))
    rows: list[dict[str, Any]] = []
    failures: list[dict[str, Any]] = []
    timings: list[tuple[float, int]] = []
    for index, variant in enumerate(MARK_VARIANTS):
        counts = {"marks": 0, "read": 0, "asked": 0, "wrong": 0, "missed": 0}
        stamps = ("MẬT",) if variant.mark.how == "handwritten" else SECRECY_STAMPS
        for seed in range(seeds):
            for stamped in stamps:
                mark = dataclasses.replace(variant.mark, level=stamped)
                page_seed = 1000 + 97 * seed + index
                image = marked_page(mark, seed=page_seed, dpi=variant.dpi, render=variant.render)
                found, seconds, calls = _timed(image, variant.dpi)
                timings.append((seconds, calls))
                counts["marks"] += 1
                if found is None:
                    outcome = "missed"
                elif found.level is None:
                    outcome = "asked"
                elif found.level == level_of[stamped]:
                    outcome = "read"
                else:
                    outcome = "wrong"
                counts[outcome] += 1
                if outcome in ("missed", "wrong"):
                    failures.append(
                        {"variant": variant.name, "mark": stamped, "seed": page_seed,
                         "found": None if found is None else found.level}
                    )  # fmt: skip
        rows.append({"variant": variant.name, **counts})
    total = {key: sum(row[key] for row in rows) for key in rows[0] if key != "variant"}
    found = total["read"] + total["asked"]
    return {
        "variants": len(MARK_VARIANTS),
        "seeds": seeds,
        **total,
        "recall_pct": round(100 * found / total["marks"], 2),
        "read_pct": round(100 * total["read"] / total["marks"], 2),
        "rows": rows,
        "failures": failures,
        "ms_per_page_with_candidates": _ms([s for s, calls in timings if calls]),
        "reads_per_page": round(statistics.mean(calls for _, calls in timings), 2),
    }


def number_line(path: Path) -> tuple[float, float] | None:
    """The centre and the bottom (mm, 200 dpi) of the line starting "Số" in the
    upper left of a page, as Tesseract finds it; None when it finds none."""
    import csv
    import io
    import subprocess

    from PIL import Image

    with Image.open(path) as page:
        crop = page.convert("L").crop((0, 0, page.width // 2, page.height // 3))
    buf = io.BytesIO()
    crop.save(buf, format="PNG")
    tsv = subprocess.run(
        ["tesseract", "stdin", "stdout", "-l", "vie", "--psm", "3", "--dpi", "200", "tsv"],
        input=buf.getvalue(), capture_output=True, check=True, timeout=120,
    ).stdout.decode("utf-8")  # fmt: skip
    rows = [r for r in csv.DictReader(io.StringIO(tsv), delimiter="\t", quoting=csv.QUOTE_NONE)
            if (r.get("text") or "").strip()]  # fmt: skip
    line_of = [(r["block_num"], r["par_num"], r["line_num"]) for r in rows]
    for row, key in zip(rows, line_of, strict=True):
        if row["text"].strip().lower().startswith("số"):
            line = [r for r, k in zip(rows, line_of, strict=True) if k == key]
            left = min(int(r["left"]) for r in line)
            right = max(int(r["left"]) + int(r["width"]) for r in line)
            bottom = max(int(r["top"]) + int(r["height"]) for r in line)
            mm = 25.4 / 200
            return (left + right) / 2 * mm, bottom * mm
    return None


def stamped_real(folder: Path) -> dict[str, Any]:
    from station.demo.traits import SECRECY_STAMPS, Secrecy
    from station.records.vocabulary import SECRECY
    from tests.docgen import stamped_scan

    level_of = dict(zip(SECRECY_STAMPS, reversed(SECRECY), strict=True))
    counts = {"marks": 0, "read": 0, "asked": 0, "wrong": 0, "missed": 0}
    failures: list[dict[str, Any]] = []
    no_line: list[str] = []
    for path in sorted(folder.glob("*/p01.jpg")):
        under = number_line(path)
        if under is None:
            no_line.append(path.parent.name)
            continue
        for angle, stamped in zip((-6, 3, 8), SECRECY_STAMPS, strict=True):
            image = stamped_scan(path, Secrecy(level=stamped, angle=angle), under)
            found, _seconds, _calls = _timed(image, 200)
            counts["marks"] += 1
            if found is None:
                outcome = "missed"
            elif found.level is None:
                outcome = "asked"
            else:
                outcome = "read" if found.level == level_of[stamped] else "wrong"
            counts[outcome] += 1
            if outcome in ("missed", "wrong"):
                failures.append({"page": path.parent.name, "mark": stamped,
                                 "found": None if found is None else found.level})  # fmt: skip
    marks = counts["marks"] or 1
    return {
        **counts,
        "recall_pct": round(100 * (counts["read"] + counts["asked"]) / marks, 2),
        "read_pct": round(100 * counts["read"] / marks, 2),
        "failures": failures,
        "no_number_line": no_line,
    }


def unmarked(pages: int) -> dict[str, Any]:
    from tests.docgen import marked_page

    alarms: list[dict[str, Any]] = []
    timings: list[tuple[float, int]] = []
    for number in range(pages):
        seed = 5000 + number
        for render in ("grey", "bilevel"):
            image = marked_page(
                None,
                seed=seed,
                render=render,
                esigned=number % 2 == 0,
                received="2352" if number % 3 == 0 else None,
                handwritten=number % 2 == 1,
                urgency_stamp="HỎA TỐC" if number % 4 == 0 else None,
                note=number % 3 == 1,
            )
            found, seconds, calls = _timed(image, 200)
            timings.append((seconds, calls))
            if found is not None:
                alarms.append({"seed": seed, "render": render, "how": found.how})
    return {"pages": len(timings), "false_alarms": len(alarms), "alarms": alarms,
            **_split(timings)}  # fmt: skip


def real(folder: Path) -> dict[str, Any]:
    import cv2

    alarms: list[dict[str, Any]] = []
    timings: list[tuple[float, int]] = []
    paths = sorted(folder.glob("*/p*.jpg"))
    for path in paths:
        image = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if image is None:
            continue
        found, seconds, calls = _timed(image, 200)
        timings.append((seconds, calls))
        if found is not None:
            name = f"{path.parent.name}/{path.name}"
            alarms.append({"page": name, "level": found.level, "how": found.how})
    return {"pages": len(timings), "false_alarms": len(alarms), "alarms": alarms,
            **_split(timings)}  # fmt: skip


def _ms(seconds: list[float]) -> float | None:
    return round(1000 * statistics.median(seconds), 1) if seconds else None


def _split(timings: list[tuple[float, int]]) -> dict[str, Any]:
    return {
        "pages_without_candidates": sum(1 for _, calls in timings if not calls),
        "ms_per_page_without_candidates": _ms([s for s, calls in timings if not calls]),
        "ms_per_page_with_candidates": _ms([s for s, calls in timings if calls]),
        "reads_per_page": round(statistics.mean(c for _, c in timings), 2) if timings else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--unmarked", type=int, default=12, help="generated pages without a mark")
    parser.add_argument("--real", default=str(DEFAULT_DIR))
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "secrecy.json"))
    args = parser.parse_args()
    from bench.common import write

    write(
        "secrecy",
        args.out,
        {
            "generated": generated(args.seeds),
            "unmarked_generated": unmarked(args.unmarked),
            "realscans_dev": real(Path(args.real)),
            "realscans_dev_stamped": stamped_real(Path(args.real)),
        },
    )


if __name__ == "__main__":
    main()
