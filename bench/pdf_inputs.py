"""What PDF inputs become: each page's pixels, resolution and size in mm, or the refusal.

python -m bench.pdf_inputs FOLDER [--profile-dpi 200] [--out bench/results/pdf_inputs.json]

Every ``*.pdf`` in FOLDER (for instance ``tests/resources`` of OCRmyPDF's source
distribution, ``pip download --no-deps --no-binary :all: ocrmypdf``) is read with
:func:`station.capture.imageio.read_frames`, as the hot folder and
``scanstation process`` read it. For comparison, ``before`` is what rendering
every page at the profile's resolution (the earlier rule) gave: PDFium's page
size, without ``/UserUnit``, times the profile's dpi.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from bench.common import write
from station.capture.imageio import read_frames
from station.errors import InputError


def _before(path: Path, dpi: int) -> list[list[int]]:
    import pypdfium2 as pdfium

    pdf = pdfium.PdfDocument(path)
    try:
        return [
            [round(w * dpi / 72), round(h * dpi / 72)]
            for w, h in (pdf.get_page_size(i) for i in range(len(pdf)))
        ]
    finally:
        pdf.close()


def _file(path: Path, dpi: int) -> dict[str, Any]:
    found: dict[str, Any] = {"file": path.name}
    try:
        found["before"] = _before(path, dpi)
    except Exception as exc:  # noqa: BLE001 - a file PDFium cannot open is a figure too
        found["before"] = f"{type(exc).__name__}"
    started = time.perf_counter()
    try:
        found["pages"] = [
            {
                "px": [frame.width, frame.height],
                "dpi": frame.dpi,
                "mm": [round(side / frame.dpi * 25.4) for side in (frame.width, frame.height)],
            }
            for frame in read_frames(path, dpi)
        ]
    except InputError as exc:
        found["refused"] = {"code": exc.code, "en": exc.message_en.split(": ", 1)[-1]}
    found["seconds"] = round(time.perf_counter() - started, 2)
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--profile-dpi", type=int, default=200)
    parser.add_argument("--out", default="bench/results/pdf_inputs.json")
    args = parser.parse_args()
    files = sorted(args.folder.glob("*.pdf"))
    write(
        "pdf_inputs",
        args.out,
        {
            "folder": str(args.folder),
            "profile_dpi": args.profile_dpi,
            "files": [_file(path, args.profile_dpi) for path in files],
        },
    )


if __name__ == "__main__":
    main()
