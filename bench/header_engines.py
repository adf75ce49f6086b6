"""PyPI OCR engines whose models ship in the wheel, for :mod:`bench.header_ocr`.

    python -m bench.header_engines ENGINE DIR OUT.json

Run by :mod:`bench.header_ocr` in a process of its own (its peak memory is the
engine's). ``ENGINE`` is one of :data:`ENGINES`. Writes to ``OUT.json`` the
reading of every header band with CPU and wall seconds, the model load time,
or ``status`` "not installed: PACKAGE" when a package is missing.

- ``rapidocr-onnxruntime``: PP-OCRv4 detection and its Chinese recognition
  model (the wheel's only one: its dictionary has no Vietnamese letter).
- ``asterocr``: the AsterNet Vietnamese line recogniser (ONNX in the wheel,
  greedy CTC) on the text lines found by rapidocr-onnxruntime's PP-OCRv4
  detector (asterocr has no detector of its own).

Either way the boxes found on one row (their centres within half a line
height) are joined left to right, rows top to bottom, as Tesseract's
``psm 6`` does.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.header_score import header_band  # noqa: E402

Image = NDArray[np.uint8]
Reader = Callable[[Image], str]
ENGINES = {
    "rapidocr-onnxruntime": "rapidocr-onnxruntime (PP-OCRv4 det + ch rec)",
    "asterocr": "asterocr rec + PP-OCRv4 det",
}


def _package_size(module: Any) -> str:
    folder = Path(module.__file__).parent
    size = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    return f"{size / 2**20:.1f} MiB installed"


Rect = tuple[int, int, int, int]


def _rows(boxes: list[Any], texts: list[str]) -> list[list[tuple[Rect, str]]]:
    """Quadrilaterals as axis-aligned boxes (x0, y0, x1, y1) with their text,
    grouped into rows, top to bottom, each left to right."""
    items = []
    for box, text in zip(boxes, texts, strict=True):
        pts = np.asarray(box, dtype=np.float32)
        x0, y0 = pts.min(axis=0)
        x1, y1 = pts.max(axis=0)
        items.append(((int(x0), int(y0), int(np.ceil(x1)), int(np.ceil(y1))), text))
    items.sort(key=lambda item: (item[0][1] + item[0][3]) / 2)
    rows: list[list[tuple[Rect, str]]] = []
    for rect, text in items:
        centre, height = (rect[1] + rect[3]) / 2, rect[3] - rect[1]
        if rows:
            last = rows[-1]
            last_centre = sum((r[1] + r[3]) / 2 for r, _ in last) / len(last)
            if abs(centre - last_centre) < height / 2:
                last.append((rect, text))
                continue
        rows.append([(rect, text)])
    return [sorted(row) for row in rows]


def _rapidocr() -> tuple[Reader, str]:
    rapid = importlib.import_module("rapidocr_onnxruntime")
    engine = rapid.RapidOCR()

    def read(bgr: Image) -> str:
        result, _ = engine(bgr, use_cls=False)
        if not result:
            return ""
        rows = _rows([r[0] for r in result], [str(r[1]) for r in result])
        return "\n".join(" ".join(text for _, text in row) for row in rows)

    return read, f"PyPI rapidocr-onnxruntime ({_package_size(rapid)})"


def _asterocr() -> tuple[Reader, str]:
    rapid = importlib.import_module("rapidocr_onnxruntime")
    aster = importlib.import_module("asterocr")
    detector = rapid.RapidOCR()
    recogniser = aster.AsterOCR(enable_telemetry=False)

    def read(bgr: Image) -> str:
        boxes, _ = detector(bgr, use_det=True, use_cls=False, use_rec=False)
        if not boxes:
            return ""
        rgb = cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
        height = rgb.shape[0]
        lines = []
        for row in _rows(list(boxes), [""] * len(boxes)):
            words = []
            for (x0, y0, x1, y1), _ in row:
                pad = max(2, (y1 - y0) // 8)
                crop = rgb[max(0, y0 - pad) : min(height, y1 + pad), max(0, x0 - pad) : x1 + pad]
                if crop.size:
                    words.append(str(recogniser.predict(np.ascontiguousarray(crop))))
            lines.append(" ".join(words))
        return "\n".join(lines)

    sizes = f"{_package_size(aster)} + detector {_package_size(rapid)}"
    return read, f"PyPI asterocr ({sizes})"


def _peak_rss_kib() -> int:
    """This process's peak resident memory since its ``exec`` (VmHWM; the rusage
    figure would count the parent's memory at the fork)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0


MAKERS: dict[str, Callable[[], tuple[Reader, str]]] = {
    "rapidocr-onnxruntime": _rapidocr,
    "asterocr": _asterocr,
}


def main() -> None:
    name, folder, out = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    result: dict[str, Any] = {"name": ENGINES[name]}
    start = time.perf_counter()
    try:
        read, source = MAKERS[name]()
    except ImportError as error:
        result["status"] = f"not installed: {error.name}"
        out.write_text(json.dumps(result), encoding="utf-8")
        return
    result.update(status="ok", source=source, load_s=round(time.perf_counter() - start, 2))
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    texts, cpu, wall = {}, {}, {}
    for doc in truth["documents"]:
        band = header_band(folder / doc["files"][0])
        t0, c0 = time.perf_counter(), time.process_time()
        texts[doc["id"]] = read(band)
        cpu[doc["id"]] = time.process_time() - c0
        wall[doc["id"]] = time.perf_counter() - t0
    result.update(texts=texts, cpu=cpu, wall=wall, rss_kib=_peak_rss_kib())
    out.write_text(json.dumps(result, ensure_ascii=False), encoding="utf-8")


if __name__ == "__main__":
    main()
