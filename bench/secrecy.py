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

Recall counts read and asked. False alarms: every page image of the real-scan
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
        },
    )


if __name__ == "__main__":
    main()
