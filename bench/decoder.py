"""What decoding hot-folder files in the bounded child costs, per page.

python -m bench.decoder [--rounds 30] [--out bench/results/decoder.json]

The generated sample stack at 200 dpi (A4 colour JPEG scans), and the same
pages as a multi-page TIFF and a PDF, are read with
:func:`station.capture.imageio.read_frames` in this process and through
:class:`station.capture.decoder.Decoder` (a kept child under RLIMIT_AS, the frames
sent back through a pipe). The difference is the price of the bound; the
page-time budget for preprocessing is 0.25 s (docs/quality.md).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from PIL import Image

from bench.common import write
from station.capture.decoder import Decoder
from station.capture.imageio import read_frames
from station.demo.samples import write_sample_batch


def _per_page(read: Any, path: Path, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        pages = sum(1 for _ in read(path))
        times.append((time.perf_counter() - started) / pages)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--out", default="bench/results/decoder.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_sample_batch(folder, dpi=200)
        scans = sorted(folder.glob("scan_*.jpg"))[:3]
        images = [Image.open(p).convert("RGB") for p in scans]
        tiff, pdf = folder / "three.tif", folder / "three.pdf"
        images[0].save(tiff, save_all=True, append_images=images[1:], compression="tiff_lzw")
        images[0].save(pdf, save_all=True, append_images=images[1:], resolution=200.0)
        decoder = Decoder()
        started = time.perf_counter()
        list(decoder.frames(scans[0], 200))
        start_s = time.perf_counter() - started
        results = []
        for kind, path in (("jpeg", scans[0]), ("tiff", tiff), ("pdf", pdf)):
            inproc = _per_page(lambda p: read_frames(p, 200), path, args.rounds)
            child = _per_page(lambda p: decoder.frames(p, 200), path, args.rounds)
            results.append(
                {
                    "input": kind,
                    "in_process_median_s": round(inproc, 4),
                    "child_median_s": round(child, 4),
                    "added_per_page_s": round(child - inproc, 4),
                }
            )
        decoder.close()
    write("decoder", args.out, {"child_start_s": round(start_s, 3), "results": results})


if __name__ == "__main__":
    main()
