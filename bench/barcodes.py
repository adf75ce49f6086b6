"""Barcodes on a generated stack: split accuracy, cost, and each library alone.

The stack (tests/docgen.py ``generate_stack``): documents with registration
labels in Code 128 and QR stuck in every corner at a small angle, separator
sheets, agency QR codes and EAN-13 numbers, duplex backs, 200 dpi, ±10° skew,
all four orientations. On the same corrected pages:

- the station's decoding (zxing-cpp, then ZBar and the retries where bars are
  left unread): labels read, documents split right, time per page;
- zxing-cpp alone and ZBar alone (one plain pass each on the corrected page):
  how many of the codes each reads.

    .venv/bin/python -m bench.barcodes [--documents N] [--out FILE]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, write  # noqa: E402
from station.barcodes.decode import Rules, classify, decode_page, is_key, read_zbar, read_zxing  # noqa: E402
from station.barcodes.split import PageInfo, split  # noqa: E402
from station.config import DEFAULT_REGISTRATION  # noqa: E402
from station.imaging import preprocess  # noqa: E402
from tests.docgen import generate_stack  # noqa: E402


def run(documents: int, seed: int) -> dict[str, Any]:
    cv2.setNumThreads(1)
    rules = Rules.from_config(DEFAULT_REGISTRATION, "PATCHT")
    pages, expected, counts = generate_stack(documents, seed=seed)
    station_s, total_s, infos = [], [], []
    found: dict[str, set[str]] = {"station": set(), "zxing-cpp": set(), "zbar": set()}
    printed: set[str] = set()
    for position, page in enumerate(pages):
        start = time.perf_counter()
        image = cv2.imdecode(np.frombuffer(page.jpeg, np.uint8), cv2.IMREAD_COLOR)
        assert image is not None
        result = preprocess(image, page.truth.dpi)
        before = time.perf_counter()
        codes = []
        if not result.blank:
            codes = decode_page(
                result.image, page.truth.dpi / 25.4, wanted=is_key(rules), original=image
            ).codes
        end = time.perf_counter()
        station_s.append(end - before)
        total_s.append(end - start)
        kind = classify(codes, rules)
        infos.append(PageInfo(position, result.blank, kind.separator, kind.registrations))
        if result.blank:
            continue
        tag = f"{position}:"
        found["station"].update(tag + c.text for c in codes)
        gray = cv2.cvtColor(result.image, cv2.COLOR_BGR2GRAY)
        found["zxing-cpp"].update(tag + c.text for c, _ in read_zxing(gray))
        found["zbar"].update(tag + c.text for c in read_zbar(gray))
        printed.update(tag + c.text for c in codes)
    docs = split(infos, "bench")
    got = [(d.registration, len(d.pages)) for d in docs]
    want = [(e.registration, e.pages) for e in expected]
    labels = {e.registration for e in expected if e.registration}
    read_labels = {t.split(":", 1)[1] for t in found["station"]} & labels

    def share(library: str) -> dict[str, int]:
        texts = found[library]
        return {
            "codes_read": len(texts),
            "labels_read": len({t.split(":", 1)[1] for t in texts} & labels),
            "separators_read": sum(1 for t in texts if t.endswith(":PATCHT")),
        }

    return {
        "stack": {
            "documents": documents,
            "page_sides": len(pages),
            **counts,
            "dpi": 200,
            "max_skew_deg": 10,
        },
        "split_exactly_right": got == want,
        "documents_found": len(docs),
        "labels_read": f"{len(read_labels)} of {len(labels)}",
        "barcode_step": {
            "median_s": round(statistics.median(station_s), 4),
            "p95_s": round(percentile(station_s, 95), 4),
            "max_s": round(max(station_s), 4),
        },
        "preprocessing_with_barcodes": {
            "median_s": round(statistics.median(total_s), 4),
            "p95_s": round(percentile(total_s, 95), 4),
        },
        "codes_on_corrected_pages": {
            "station (both, with retries)": share("station"),
            "zxing-cpp alone": share("zxing-cpp"),
            "zbar alone": share("zbar"),
            "distinct codes found by any": len(
                found["station"] | found["zxing-cpp"] | found["zbar"]
            ),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=32)
    parser.add_argument("--seed", type=int, default=4)
    parser.add_argument("--out", default="bench/results/barcodes.json")
    args = parser.parse_args()
    write("barcodes", args.out, run(args.documents, args.seed))


if __name__ == "__main__":
    main()
