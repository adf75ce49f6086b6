"""Page preprocessing: time and accuracy, side by side with OCRmyPDF and ``deskew``.

On the same generated 200 dpi A4 colour scans (tests/docgen.py: ±15° skew, any
orientation, grey/black/white backgrounds, JPEG noise):

- the station: decode + :func:`station.imaging.preprocess` on one core
  (OpenCV limited to one thread), median and p95 time, skew error, orientation;
- the ``deskew`` package (``determine_skew``, Hough lines, 1° steps by
  default): time and skew error; it does not detect orientation or crop;
- ``ocrmypdf --deskew --rotate-pages`` with OCR switched off
  (``--tesseract-timeout 0 -O0 --output-type pdf``): time per page, and the
  skew and orientation left in its output, measured with the station's own
  estimator on the rendered result (accurate to ~0.01° on these pages).

    .venv/bin/python -m bench.imaging [--pages N] [--ocrmypdf-pages M] [--out FILE]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, write  # noqa: E402
from station.barcodes.decode import Rules, decode_page, is_key  # noqa: E402
from station.config import DEFAULT_REGISTRATION  # noqa: E402
from station.imaging import preprocess  # noqa: E402
from tests.docgen import ScannedPage, angle_error, generate_suite  # noqa: E402

#: Raspberry Pi 4 (Cortex-A72, 1.5 GHz) against one core of the development
#: machine for OpenCV/numpy image work: a rough factor, not a measurement.
PI4_FACTOR = 3.5


def _decode(data: bytes) -> np.ndarray[Any, Any]:
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    assert image is not None
    return image


def station(pages: list[ScannedPage]) -> dict[str, Any]:
    cv2.setNumThreads(1)
    rules = Rules.from_config(DEFAULT_REGISTRATION, "PATCHT")
    times, barcode_times, errors, wrong, blank_wrong = [], [], [], 0, 0
    for page in pages:
        start = time.perf_counter()
        image = _decode(page.jpeg)
        result = preprocess(image, page.truth.dpi)
        before = time.perf_counter()
        if not result.blank:
            decode_page(result.image, page.truth.dpi / 25.4, wanted=is_key(rules), original=image)
        end = time.perf_counter()
        times.append(end - start)
        barcode_times.append(end - before)
        blank_wrong += result.blank != page.truth.blank
        if not page.truth.blank:
            errors.append(angle_error(result.skew_deg, page.truth.skew_deg))
            wrong += result.orientation_deg != page.truth.orientation_deg
    return {
        "what": "decode + deskew + crop + orientation + blank + barcodes, one core",
        "median_s": round(statistics.median(times), 4),
        "barcodes_median_s": round(statistics.median(barcode_times), 4),
        "barcodes_p95_s": round(percentile(barcode_times, 95), 4),
        "p95_s": round(percentile(times, 95), 4),
        "pi4_estimate_median_s": round(statistics.median(times) * PI4_FACTOR, 3),
        "skew_mean_error_deg": round(statistics.mean(errors), 4),
        "skew_max_error_deg": round(max(errors), 4),
        "orientation_wrong": wrong,
        "blank_wrong": blank_wrong,
        "pages": len(pages),
    }


def deskew_package(pages: list[ScannedPage]) -> dict[str, Any]:
    from deskew import determine_skew

    times, errors = [], []
    for page in pages:
        if page.truth.blank:
            continue
        start = time.perf_counter()
        gray = cv2.cvtColor(_decode(page.jpeg), cv2.COLOR_BGR2GRAY)
        angle = determine_skew(gray)
        times.append(time.perf_counter() - start)
        # it returns the turn that straightens the page (skimage's rotate(angle),
        # counter-clockwise): minus our skew, within ±45° of an axis
        truth = (page.truth.skew_deg + 45) % 90 - 45
        errors.append(angle_error(-float(angle or 0.0), truth))
    return {
        "what": "deskew.determine_skew (defaults) on the grey page; no crop, no orientation",
        "median_s": round(statistics.median(times), 4),
        "p95_s": round(percentile(times, 95), 4),
        "skew_mean_error_deg": round(statistics.mean(errors), 4),
        "skew_max_error_deg": round(max(errors), 4),
        "pages": len(times),
    }


def ocrmypdf(pages: list[ScannedPage]) -> dict[str, Any]:
    import pypdfium2 as pdfium

    times, residual, wrong = [], [], 0
    with tempfile.TemporaryDirectory() as tmp:
        for index, page in enumerate(p for p in pages if not p.truth.blank):
            src, dst = Path(tmp) / f"{index}.jpg", Path(tmp) / f"{index}.pdf"
            src.write_bytes(page.jpeg)
            start = time.perf_counter()
            subprocess.run(
                [
                    str(Path(sys.executable).parent / "ocrmypdf"),
                    "--deskew",
                    "--rotate-pages",
                    "--tesseract-timeout",
                    "0",
                    "-O0",
                    "--output-type",
                    "pdf",
                    "-q",
                    str(src),
                    str(dst),
                ],
                check=True,
                capture_output=True,
                env={"OMP_THREAD_LIMIT": "1", "PATH": "/usr/bin:/bin"},
            )
            times.append(time.perf_counter() - start)
            pdf = pdfium.PdfDocument(str(dst))
            image = np.asarray(pdf[0].render(scale=page.truth.dpi / 72).to_pil().convert("RGB"))
            pdf.close()
            left = preprocess(cv2.cvtColor(image, cv2.COLOR_RGB2BGR), page.truth.dpi)
            residual.append(abs(left.skew_deg))
            wrong += left.orientation_deg != 0
    return {
        "what": "ocrmypdf --deskew --rotate-pages, OCR off; skew and orientation left after it",
        "median_s": round(statistics.median(times), 3),
        "p95_s": round(percentile(times, 95), 3),
        "residual_skew_mean_deg": round(statistics.mean(residual), 3),
        "residual_skew_max_deg": round(max(residual), 3),
        "pages_left_more_than_1deg": sum(1 for r in residual if r > 1.0),
        "orientation_wrong": wrong,
        "pages": len(times),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=60)
    parser.add_argument("--ocrmypdf-pages", type=int, default=12)
    parser.add_argument("--out", default="bench/results/imaging.json")
    args = parser.parse_args()
    # the target is set on colour scans (docs/quality.md): the traits of real
    # paper (black-and-white and 100 dpi renders among them) are left out
    suite = generate_suite(args.pages * 2, seed=77, traits=False)
    suite = [p for p in suite if p.truth.dpi == 200]
    suite = suite[: args.pages]
    result = {
        "target": "median at most 0.25 s per 200 dpi A4 colour page on one core, "
        "barcodes included; skew mean <= 0.1°, max <= 0.5°",
        "station": station(suite),
        "deskew_package": deskew_package(suite),
        "ocrmypdf": ocrmypdf([p for p in suite if not p.truth.blank][: args.ocrmypdf_pages]),
    }
    write("imaging", args.out, result)


if __name__ == "__main__":
    main()
