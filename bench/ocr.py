"""OCR stage: the station against a bare ``tesseract`` on the same page images,
and pages per minute for a whole batch.

1. Ratio (docs/quality.md: at most 1.15×). Generated documents (tests/docgen.py) are
   cleaned by the page pipeline once; their cleaned page images are the input
   of both sides, one core each (``OMP_THREAD_LIMIT=1``, one page at a time):

   - bare: ``tesseract PAGE out -l vie+eng --psm 3 txt`` for every page;
   - station: :func:`station.pipeline.document.finish_batch` on the same documents, as
     the OCR worker runs it with one core: one OCRmyPDF run (text layer,
     PDF/A-2b), the cut into documents, the header fields (with their second
     reading of a few header lines and the red-mark check) and the XMP.

   The two alternate, several rounds, so that the machine's load falls on
   both alike; the ratio is of the totals.
2. Throughput: ``process_inputs`` (clean, split, OCR, fields) on a batch of
   ``--batch-pages`` scanned sides (blank backs included), all cores.

    .venv/bin/python -m bench.ocr [--documents N] [--rounds R] [--batch-pages P] [--out FILE]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write  # noqa: E402
from station.barcodes.decode import Rules  # noqa: E402
from station.capture.imageio import EncodedFrame  # noqa: E402
from station.config import DEFAULT_REGISTRATION, Config  # noqa: E402
from station.pipeline.document import BatchJob, DocumentJob, finish_batch  # noqa: E402
from station.pipeline.offline import process_inputs  # noqa: E402
from station.pipeline.page import clean_page  # noqa: E402
from tests.docgen import generate_suite  # noqa: E402

#: Raspberry Pi 4 (Cortex-A72, 1.5 GHz) against one core of the development
#: machine for Tesseract's LSTM: a rough factor, not a measurement.
PI4_FACTOR = 4.0


def _documents(count: int, folder: Path) -> list[list[Path]]:
    """Cleaned page images of ``count`` generated documents."""
    rules = Rules.from_config(DEFAULT_REGISTRATION, "PATCHT")
    docs: dict[int, list[Path]] = {}
    for page in generate_suite(count * 3, seed=2468):
        if page.truth.blank or page.truth.clipped:
            continue
        frame = EncodedFrame(page.jpeg, page.suffix[1:], 0, 0, page.truth.dpi)
        clean = clean_page(frame, "bench", "medium", rules)
        path = (
            folder
            / f"d{page.truth.doc_index:03d}-{len(docs.get(page.truth.doc_index, [])):02d}.jpg"
        )
        path.write_bytes(clean.data)
        docs.setdefault(page.truth.doc_index, []).append(path)
    return list(docs.values())[:count]


def _bare(pages: list[Path], out: Path) -> float:
    env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
    start = time.perf_counter()
    for page in pages:
        subprocess.run(
            ["tesseract", str(page), str(out / "bare"), "-l", "vie+eng", "--psm", "3", "txt"],
            check=True,
            capture_output=True,
            env=env,
        )
    return time.perf_counter() - start


def _station(docs: list[list[Path]], out: Path) -> float:
    job = BatchJob(
        documents=tuple(
            DocumentJob(tuple(pages), out / f"doc{index}.pdf", f"bench-{index}", None)
            for index, pages in enumerate(docs)
        ),
        batch_id="bench",
        work=out,
        jobs=1,
    )
    start = time.perf_counter()
    finish_batch(job)
    return time.perf_counter() - start


def ratio(documents: int, rounds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-ocr-") as tmp:
        folder = Path(tmp)
        docs = _documents(documents, folder)
        _station([docs[0][:1]], folder)  # the worker's imports are paid once, at start
        bare = station = 0.0
        per_round = []
        for _ in range(rounds):
            b = _bare([page for doc in docs for page in doc], folder)
            s = _station(docs, folder)
            per_round.append(round(s / b, 3))
            bare, station = bare + b, station + s
        count = sum(len(d) for d in docs)
    return {
        "documents": len(docs),
        "pages": count,
        "rounds": rounds,
        "bare_tesseract_s_per_page": round(bare / rounds / count, 3),
        "station_s_per_page": round(station / rounds / count, 3),
        "ratio": round(station / bare, 3),
        "ratio_per_round": per_round,
    }


def throughput(sides: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        folder = Path(tmp)
        inputs = []
        for number, page in enumerate(generate_suite(sides, seed=1357)[:sides]):
            path = folder / f"scan_{number:04d}{page.suffix}"
            path.write_bytes(page.jpeg)
            inputs.append(path)
        config = Config.model_validate({"station": {"data_dir": str(folder / "data")}})
        start = time.perf_counter()
        batch = process_inputs(inputs, folder / "out", config, ocr=True)
        seconds = time.perf_counter() - start
    kept = sum(1 for p in batch["pages"] if p["doc_id"])
    return {
        "sides": len(inputs),
        "pages_kept": kept,
        "documents": len(batch["documents"]),
        "cores": os.cpu_count(),
        "seconds": round(seconds, 1),
        "sides_per_minute": round(len(inputs) / seconds * 60, 1),
        "pages_per_minute": round(kept / seconds * 60, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--batch-pages", type=int, default=40)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "ocr.json"))
    args = parser.parse_args()
    side_by_side = ratio(args.documents, args.rounds)
    batch = throughput(args.batch_pages)
    per_page = side_by_side["station_s_per_page"]
    write(
        "ocr",
        args.out,
        {
            "side_by_side": side_by_side,
            "batch": batch,
            "raspberry_pi4_estimate": {
                "factor": PI4_FACTOR,
                "station_s_per_page_one_core": round(per_page * PI4_FACTOR, 1),
                "pages_per_minute_3_cores": round(60 / (per_page * PI4_FACTOR) * 3, 1),
            },
        },
    )


if __name__ == "__main__":
    main()
