"""From a batch's cleaned pages to its documents' files: OCR, header fields, XMP.

:func:`finish_batch` is one step over files (pages in, one PDF/A per document
out) and runs in the :class:`OcrPool` worker process, beside capture and
never in front of it:

1. one OCRmyPDF run over every kept page of the batch, in order, with
   ``jobs`` Tesseract processes (``OMP_THREAD_LIMIT=1`` each): one page per
   core until the last page, whatever the documents' lengths, and OCRmyPDF's
   own start and checks paid once per batch;
2. the result cut into one PDF/A-2b per document (:func:`station.ocr.pdf.split_pdf`);
3. per document, in ``jobs`` threads: the header fields from page 1
   (:mod:`station.ocr.header`; their second readings of a few header lines are
   read for the whole batch at once, :class:`Prefetch`) and the XMP
   metadata (:mod:`station.records.xmp`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from station.common import workers
from station.common.fsutil import erase
from station.errors import OcrError
from station.ocr.tesseract import LINE, TEXT, Mode

if TYPE_CHECKING:
    from station.ocr.header import HeaderRead
    from station.ocr.lines import Reader


@dataclass(frozen=True)
class DocumentJob:
    pages: tuple[Path, ...]  # cleaned page images, in order
    out: Path  # the PDF to write
    doc_id: str
    registration: str | None


@dataclass(frozen=True)
class BatchJob:
    documents: tuple[DocumentJob, ...]
    batch_id: str
    work: Path  # a folder on the same file system as the documents
    station_id: str = ""
    languages: tuple[str, ...] = ("vie", "eng")
    jobs: int = 1
    timeout_s: int = 180
    min_confidence: float = 0.8  # [ocr] min_confidence


@dataclass(frozen=True)
class Finished:
    """A document's PDF made: its header as read, and what ``scanstation
    verify`` finds wrong with the file, in the clerk's words (vi, en)."""

    read: HeaderRead
    problems: list[tuple[str, str]]

    def warnings(self) -> list[dict[str, Any]]:
        """The review's warning for a file that fails (one for all its problems)."""
        return [pdf_warning(self.problems)] if self.problems else []


def pdf_warning(problems: list[tuple[str, str]]) -> dict[str, Any]:
    """The warning ``pdf_check`` naming a file's failed checks (vi, en)."""
    from station.barcodes.split import warning

    vi, en = "; ".join(p[0] for p in problems), "; ".join(p[1] for p in problems)
    return warning("pdf_check", vi=vi, en=en)


def finish_batch(job: BatchJob) -> list[Finished]:
    """Write every document's PDF/A with its text layer and XMP, and check each
    file as ``scanstation verify`` does; returns their Decree 30 metadata, how
    each field was read (None where the header was not read surely) and what
    the check found, in order."""
    from station.ocr.pdf import make_pdf, split_pdf
    from station.records.verify import verify

    if not job.documents:
        return []
    from station.ocr import lexicon

    # the reader's word list, loaded while Tesseract reads the pages
    loader = ThreadPoolExecutor(1, thread_name_prefix="lexicon")
    loading = loader.submit(lexicon.load)
    combined = job.work / f".ocr-{job.batch_id}.pdf"
    make_pdf(
        [page for doc in job.documents for page in doc.pages],
        combined,
        languages=job.languages,
        jobs=job.jobs,
        title=job.batch_id,
        keywords=[job.batch_id],
        timeout_s=job.timeout_s,
    )
    try:
        parts, start = [], 0
        for doc in job.documents:
            parts.append((start, start + len(doc.pages), doc.out, doc.registration or doc.doc_id))
            start += len(doc.pages)
        split_pdf(combined, parts)
    finally:
        # every document's pages and text, a secret one's too until its header
        # is read: overwritten, not only removed
        erase(combined)
        loading.result()
        loader.shutdown()
    with ThreadPoolExecutor(max(1, job.jobs), thread_name_prefix="fields") as pool:
        pages = list(pool.map(_first_and_last, job.documents))
        # the second readings of every document's header, one Tesseract run per core
        reads = Prefetch()
        for doc, page in zip(job.documents, pages, strict=True):
            _read_fields(doc, page, job, reads.record, reads.record_line, recording=True)
        reads.fetch(pool, max(1, job.jobs))
        results = list(
            pool.map(
                lambda pair: _read_fields(pair[0], pair[1], job, reads.lines, reads.line),
                zip(job.documents, pages, strict=True),
            )
        )
        written = pool.map(
            lambda pair: _write_xmp(pair[0], pair[1].fields, job),
            zip(job.documents, results, strict=True),
        )
        list(written)
        checked = list(pool.map(lambda doc: verify(doc.out).problems(), job.documents))
    return [Finished(read, problems) for read, problems in zip(results, checked, strict=True)]


@dataclass(frozen=True)
class Page:
    """A page's words (text layer) and image, as the field readers take them."""

    words: Any
    image: Any
    dpi: int


def _page(doc: DocumentJob, index: int) -> Page:
    import cv2
    from PIL import Image

    from station.ocr.pdf import page_words

    path = doc.pages[index]
    with Image.open(path) as probe:
        dpi = round(float(probe.info.get("dpi", (200, 200))[0])) or 200
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    if image is None:
        raise OcrError(f"{path.name}: cannot read the page", f"{path.name}: không đọc được trang")
    return Page(page_words(doc.out, index), image, dpi)


def _first_and_last(doc: DocumentJob) -> tuple[Page, Page]:
    first = _page(doc, 0)
    return first, (_page(doc, len(doc.pages) - 1) if len(doc.pages) > 1 else first)


def _read_fields(
    doc: DocumentJob,
    pages: tuple[Page, Page],
    job: BatchJob,
    reader: Reader,
    line_reader: Callable[[Any, int], str],
    recording: bool = False,
) -> HeaderRead:
    """The header of page 1, then "Kính gửi" and the closing of the last page."""
    from station.ocr import closing
    from station.ocr.header import read_fields
    from station.ocr.ink import Ink, red_marks
    from station.ocr.readings import settle

    first, last = pages
    read = read_fields(
        first.words,
        first.image,
        first.dpi,
        page_amount=len(doc.pages),
        latest=date.today(),
        marks=red_marks(first.image, first.dpi, line_reader, first.words),
        reader=reader,
        recording=recording,
        min_confidence=job.min_confidence,
    )
    on_first = Ink(first.image, first.dpi, reader, recording)
    on_last = Ink(last.image, last.dpi, reader, recording) if last is not first else on_first
    found = {
        **closing.addressees(first.words, on_first),
        **closing.recipients(last.words, on_last),
        **closing.signer(last.words, on_last),
    }
    for name, (value, reading) in found.items():
        read.fields[name] = value
        read.readings[name] = reading
    settle(read.fields, read.readings, job.min_confidence)
    return read


def _write_xmp(doc: DocumentJob, metadata: dict[str, Any], job: BatchJob) -> None:
    from station.records import xmp

    xmp.write(
        doc.out,
        {
            **metadata,
            "Registration": doc.registration,
            "BatchId": job.batch_id,
            "DocId": doc.doc_id,
            "StationId": job.station_id or None,
        },
    )


class Prefetch:
    """Second readings of small regions (header lines, red marks) for a whole
    batch, read together: Tesseract starts and loads its model once per core
    instead of once per region. A first pass over the documents records the
    regions each would read (:meth:`record` answers nothing, so every region a
    reading could lead to is recorded); :meth:`fetch` reads them; a second
    pass reads from here, and a region not fetched is read alone."""

    def __init__(self) -> None:
        self._wanted: dict[bytes, tuple[Any, int, Mode]] = {}
        self._read: dict[bytes, list[str]] = {}

    @staticmethod
    def _key(image: Any, dpi: int, mode: Mode) -> bytes:
        digest = hashlib.blake2b(image.tobytes(), digest_size=16)
        digest.update(f"{image.shape}/{dpi}/{mode}".encode())
        return digest.digest()

    def record(self, image: Any, dpi: int, mode: Mode = TEXT) -> list[str]:
        self._wanted.setdefault(self._key(image, dpi, mode), (image, dpi, mode))
        return []

    def record_line(self, image: Any, dpi: int) -> str:
        self.record(image, dpi, LINE)
        return ""

    def fetch(self, pool: ThreadPoolExecutor, parts: int) -> None:
        from station.ocr import tesseract

        groups: dict[tuple[int, Mode], list[bytes]] = {}
        for key, (_, dpi, mode) in self._wanted.items():
            groups.setdefault((dpi, mode), []).append(key)
        chunks = [
            (how, keys[i::parts])
            for how, keys in groups.items()
            for i in range(parts)
            if keys[i::parts]
        ]

        def run(chunk: tuple[tuple[int, Mode], list[bytes]]) -> None:
            (dpi, mode), keys = chunk
            found = tesseract.read_many([self._wanted[k][0] for k in keys], dpi, mode)
            if found is not None:
                self._read.update(zip(keys, found, strict=True))

        list(pool.map(run, chunks))

    def lines(self, image: Any, dpi: int, mode: Mode = TEXT) -> list[str]:
        from station.ocr import tesseract

        found = self._read.get(self._key(image, dpi, mode))
        return found if found is not None else tesseract.read_lines(image, dpi, mode)

    def line(self, image: Any, dpi: int) -> str:
        return " ".join(self.lines(image, dpi, LINE))


class OcrPool:
    """The OCR worker process for :func:`finish_batch`. Its imports are paid
    once, and a crash in OCR loses one attempt at a batch, not the station."""

    def __init__(self) -> None:
        self._pool = workers.pool(1)

    def submit(self, job: BatchJob) -> Future[list[Finished]]:
        return self._pool.submit(finish_batch, job)

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> OcrPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def page_files(out: Path, positions: Sequence[int]) -> tuple[Path, ...]:
    return tuple(out / "pages" / f"p{p:04d}.jpg" for p in positions)
