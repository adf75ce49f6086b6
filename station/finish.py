"""From a document's cleaned pages to its delivered file: OCR, header fields, XMP.

:func:`finish_document` is one step over files (pages in, one PDF/A out) and
runs in an :class:`OcrPool` worker process, beside capture and never in front
of it. The pool sizes itself so that at most one Tesseract runs per core:
``workers`` documents at once, each with its pages in parallel over ``jobs``
Tesseract processes (``OMP_THREAD_LIMIT=1`` each).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from station.errors import OcrError


@dataclass(frozen=True)
class DocumentJob:
    pages: tuple[Path, ...]  # cleaned page images, in order
    out: Path  # the PDF to write
    doc_id: str
    batch_id: str
    registration: str | None
    station_id: str = ""
    languages: tuple[str, ...] = ("vie", "eng")
    jobs: int = 1
    timeout_s: int = 180


def finish_document(job: DocumentJob) -> dict[str, Any]:
    """Write the document's PDF/A with its text layer and XMP; returns its
    Decree 30 metadata (None where the header could not be read surely)."""
    import cv2
    from PIL import Image

    from station import tesseract, xmp
    from station.fields import read_fields, red_marks
    from station.ocr import make_pdf, page_words

    make_pdf(
        job.pages,
        job.out,
        languages=job.languages,
        jobs=job.jobs,
        title=job.registration or job.doc_id,
        keywords=[k for k in (job.registration, job.batch_id) if k],
        timeout_s=job.timeout_s,
    )
    first = job.pages[0]
    with Image.open(first) as probe:
        dpi = round(float(probe.info.get("dpi", (200, 200))[0])) or 200
    image = cv2.imread(str(first), cv2.IMREAD_COLOR)
    if image is None:
        raise OcrError(f"{first.name}: cannot read the page", f"{first.name}: không đọc được trang")
    metadata = read_fields(
        page_words(job.out, 0),
        image,
        dpi,
        page_amount=len(job.pages),
        latest=date.today(),
        marks=red_marks(image, dpi, tesseract.read_line),
        reader=tesseract.read_lines,
    )
    xmp.write(
        job.out,
        {
            **metadata,
            "Registration": job.registration,
            "BatchId": job.batch_id,
            "DocId": job.doc_id,
            "StationId": job.station_id or None,
        },
    )
    return metadata


def pool_shape(cores: int) -> tuple[int, int]:
    """(documents at once, Tesseract processes per document) for ``cores``."""
    cores = max(1, cores)
    workers = max(1, cores // 2)
    return workers, max(1, cores // workers)


class OcrPool:
    """Worker processes for :func:`finish_document`. Imports are paid once per
    worker, and a crash in OCR loses one document's attempt, not the station."""

    def __init__(self, cores: int) -> None:
        self.workers, self.jobs = pool_shape(cores)
        # forkserver: workers never inherit the station's threads and locks
        method = "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else None
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context(method)
        )

    def submit(self, job: DocumentJob) -> Future[dict[str, Any]]:
        return self._pool.submit(finish_document, job)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> OcrPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def ocr_cores(configured: int) -> int:
    """Cores for OCR: the configured number, or all but one (at least one)."""
    return configured or max(1, (os.cpu_count() or 1) - 1)


def page_files(out: Path, positions: Sequence[int]) -> tuple[Path, ...]:
    return tuple(out / "pages" / f"p{p:04d}.jpg" for p in positions)
