"""Capture throughput: can the store keep up with a fast duplex scanner?

Per page side of A4 colour at 200 and 300 dpi, measured side by side in one run:
- ``encode``: PIL image -> JPEG (the default) and PNG (``file_format = "png"``),
  what the SANE source does with each page;
- ``store``: Store.add_page (temp file, fsync, commit, rename, fsync dir).

A 60 ppm duplex scanner delivers 2 page sides a second, so encode + store must
stay well under 500 ms a side on one core. Writes JSON (default
bench/results/capture.json).

    .venv/bin/python -m bench.capture [--pages N] [--out FILE]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import write
from station.capture.imageio import encode_page
from station.demo.samples import SAMPLE_DOCUMENTS, render_document, scan_effects
from station.store import Store


def measure(dpi: int, pages: int, file_format: str) -> dict[str, float | str]:
    import random

    import numpy as np
    from PIL import Image

    rng = random.Random(dpi)
    clean = scan_effects(render_document(SAMPLE_DOCUMENTS[0], dpi)[0], rng, dpi)
    # sensor noise (sigma 3 levels), as a real scanner delivers: it is what makes
    # lossless pages large and slow to compress
    pixels = np.asarray(clean, dtype=np.int16)
    noise = np.random.default_rng(dpi).normal(0, 3, pixels.shape).astype(np.int16)
    page = Image.fromarray(np.clip(pixels + noise, 0, 255).astype(np.uint8))
    encode_s, store_s = [], []
    with tempfile.TemporaryDirectory() as tmp, Store(Path(tmp)) as store:
        batch = store.create_batch("bench", "standard", "bench")
        for _ in range(pages):
            t0 = time.perf_counter()
            frame = encode_page(page, dpi, file_format)
            t1 = time.perf_counter()
            store.add_page(
                batch.id,
                frame.data,
                ext=frame.ext,
                input_name="bench",
                frame=0,
                side="single",
                width=frame.width,
                height=frame.height,
                dpi=dpi,
            )
            t2 = time.perf_counter()
            encode_s.append(t1 - t0)
            store_s.append(t2 - t1)
    total = [a + b for a, b in zip(encode_s, store_s, strict=True)]
    return {
        "format": file_format,
        "dpi": dpi,
        "pixels": page.width * page.height,
        "file_kib": round(len(frame.data) / 1024),
        "encode_median_s": round(statistics.median(encode_s), 4),
        "store_median_s": round(statistics.median(store_s), 4),
        "total_median_s": round(statistics.median(total), 4),
        "total_max_s": round(max(total), 4),
        "sides_per_s": round(1 / statistics.median(total), 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=20)
    parser.add_argument("--out", default="bench/results/capture.json")
    args = parser.parse_args()
    result = {
        "target": "encode + store per page side well under 0.5 s (60 ppm duplex)",
        "page": "A4 colour sample page with grey scanner border and sensor noise (sigma 3)",
        "results": [measure(dpi, args.pages, fmt) for fmt in ("jpeg", "png") for dpi in (200, 300)],
    }
    write("capture", args.out, result)


if __name__ == "__main__":
    main()
