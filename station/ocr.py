"""The one wrapper around OCRmyPDF: cleaned page images into one searchable PDF/A-2b.

1. img2pdf puts the page images into a PDF without re-encoding them, each page
   the size of its image at its own resolution: the paper's size (scale 100 %),
   colour and resolution as scanned.
2. ``ocrmypdf`` adds the text layer (Tesseract, ``vie`` and ``eng`` by default),
   makes the file PDF/A-2b and leaves the images alone (``--optimize 0``).
   It runs as a child process with ``OMP_THREAD_LIMIT=1`` and ``--jobs N``:
   parallelism comes from pages, and a crash in OCR cannot take the station down.
3. The document's identity goes into the PDF's metadata (title, subject,
   keywords, XMP Dublin Core) through OCRmyPDF's own options.

The pages were deskewed and turned upright before; OCRmyPDF's ``--deskew`` and
``--rotate-pages`` are not used (see docs/benchmarks.md).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from collections.abc import Sequence
from pathlib import Path

from station.errors import DependencyError, InputError, OcrError
from station.fsutil import atomic_write


def _ocrmypdf() -> str:
    beside = Path(sys.executable).parent / "ocrmypdf"
    found = str(beside) if beside.exists() else shutil.which("ocrmypdf")
    if not found:
        raise DependencyError(
            "ocrmypdf is not installed. Fix: make setup",
            "Chưa cài ocrmypdf. Cách sửa: make setup",
        )
    return found


def _nfc(value: str) -> str:
    return unicodedata.normalize("NFC", value)


def make_pdf(
    pages: Sequence[Path],
    out: Path,
    *,
    languages: Sequence[str] = ("vie", "eng"),
    jobs: int = 1,
    title: str = "",
    subject: str = "",
    keywords: Sequence[str] = (),
    timeout_s: int = 180,
) -> Path:
    """One searchable PDF/A-2b from page images (in order); written atomically."""
    import img2pdf

    if not pages:
        raise InputError("a document needs at least one page", "Văn bản cần ít nhất một trang")
    with tempfile.TemporaryDirectory(prefix="scanstation-ocr-") as tmp:
        images_pdf = Path(tmp) / "images.pdf"
        try:
            images_pdf.write_bytes(img2pdf.convert([str(p) for p in pages]))
        except (img2pdf.ImageOpenError, OSError, ValueError) as exc:
            raise InputError(
                f"cannot put the pages into a PDF: {exc}", f"Không ghép được trang thành PDF: {exc}"
            ) from exc
        result = Path(tmp) / "ocr.pdf"
        argv = [
            _ocrmypdf(),
            "--language",
            "+".join(languages),
            "--output-type",
            "pdfa-2",
            "--optimize",
            "0",
            "--jobs",
            str(max(1, jobs)),
            "--tesseract-timeout",
            str(timeout_s),
            "--quiet",
        ]
        for option, value in (("--title", title), ("--subject", subject)):
            if value:
                argv += [option, _nfc(value)]
        if keywords:
            argv += ["--keywords", _nfc(", ".join(keywords))]
        argv += [str(images_pdf), str(result)]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        proc = subprocess.run(
            argv, capture_output=True, text=True, env=env, check=False, timeout=timeout_s * 4
        )
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["?"])[-1]
            raise OcrError(
                f"OCR failed (ocrmypdf exit {proc.returncode}): {last}",
                f"Nhận dạng chữ thất bại (ocrmypdf mã {proc.returncode}): {last}",
            )
        atomic_write(out, result.read_bytes(), mode=0o644)
    return out
