"""The offline run, ``scanstation process``: image files and PDFs in the order
given, as one batch, cleaned by the page step (:mod:`station.pipeline.page`),
split into documents, read (with ``ocr``) and written to an output folder as
``pages/pNNNN.jpg``, one PDF/A per document and ``batch.json``. On a connected
machine a secret document is withheld before any file of it reaches the
output folder (:func:`process_inputs`).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future
from pathlib import Path
from typing import Any

from station.barcodes.decode import Rules
from station.barcodes.split import cover_direction, page_info, sheets_of, split
from station.capture.imageio import EncodedFrame, read_frames
from station.common import workers
from station.common.fsutil import atomic_write, erase, erase_tree, move_file
from station.config import Config
from station.errors import InputError
from station.imaging import large_page
from station.pipeline.batch import Batch, BatchDocument, BatchPage, Warning, empty_metadata
from station.pipeline.duplicates import duplicate_warnings
from station.pipeline.page import (
    WORKER_BYTES,
    CleanPage,
    clean_cost,
    clean_page,
    marked,
    page_rules,
)
from station.records.secret_register import secrecy_level
from station.store import Store, new_batch_id

#: a page being cleaned: its input's name, its index there, the result to come,
#: its width and height
Pending = tuple[str, int, "Future[CleanPage]", int, int]


def _frames(inputs: Sequence[Path], default_dpi: int) -> Iterator[tuple[str, int, EncodedFrame]]:
    for path in inputs:
        if not path.is_file():
            raise InputError(f"{path}: no such file", f"{path}: không có tệp này", path=str(path))
        for index, frame in enumerate(read_frames(path, default_dpi)):
            yield path.name, index, frame


def process_inputs(
    inputs: Sequence[Path],
    out: Path,
    config: Config,
    *,
    jobs: int | None = None,
    ocr: bool = False,
    on_page: Callable[[int, BatchPage], None] | None = None,
    on_document: Callable[[BatchDocument], None] | None = None,
    store: Store | None = None,
    batch_id: str | None = None,
    direction: str | None = None,
) -> dict[str, Any]:
    """Run the page pipeline offline: ``out/pages/pNNNN.jpg``, with ``ocr`` one
    PDF/A per document (``out/{doc_id}.pdf``) and its header fields, and
    ``out/batch.json``, whose content is returned. With a ``store``, documents
    are checked against the ones on file and then recorded there. ``batch_id``
    names a batch of the store (default: a new id). ``direction``: received or
    sent documents (default: a cover sheet's, else ``[station] default_direction``).

    On a connected machine nothing of a secret document may be written to
    ``out`` (docs/security.md#state-secrets), and whether a document is secret
    is known only once its pages are cleaned (a mark on a page) or read (a mark
    in its header): the batch's files are made in a private temporary folder
    (``TMPDIR``, mode 0700), the documents that are not secret are moved to
    ``out`` once that is known, and the folder is erased with what is left."""
    out.mkdir(parents=True, exist_ok=True)
    if config.security.network != "connected":
        return _process(
            inputs, out, out, config, jobs, ocr, on_page, on_document, store, batch_id, direction
        )
    private = Path(tempfile.mkdtemp(prefix="scanstation-process-"))
    try:
        return _process(
            inputs, private, out, config, jobs, ocr, on_page, on_document, store, batch_id,
            direction,
        )  # fmt: skip
    finally:
        erase_tree(private)


def _process(
    inputs: Sequence[Path],
    work: Path,
    out: Path,
    config: Config,
    jobs: int | None,
    ocr: bool,
    on_page: Callable[[int, BatchPage], None] | None,
    on_document: Callable[[BatchDocument], None] | None,
    store: Store | None,
    batch_id: str | None,
    direction: str | None,
) -> dict[str, Any]:
    """:func:`process_inputs` with the batch's files made in ``work`` (``out``
    itself, or a private folder whose documents that are not secret go to
    ``out`` when that is known)."""
    pages_dir = work / "pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    sensitivity = config.pipeline.blank_sensitivity
    rules = page_rules(config)
    default_dpi = config.profile().resolution
    paper_mm = config.profile().paper_mm
    batch = Batch(batch_id or new_batch_id(), direction=config.station.default_direction)
    jobs = jobs or os.cpu_count() or 1
    budget = workers.cleaning_budget(config.pipeline.clean_memory_mb)
    # frames are read lazily, in order, and cleaned in worker processes; at most
    # two per worker wait, so a long PDF never sits in memory whole
    with workers.pool(jobs, method=None) as pool:
        pending: list[Pending] = []
        for name, index, frame in _frames(inputs, default_dpi):
            # room first (docs/imaging.md#memory): the workers' pages stay within
            # the budget, and a large page is cleaned with no other
            while pending and _no_room(pending, frame, jobs, budget):
                _collect(pending.pop(0), batch, pages_dir, on_page)
            future = pool.submit(clean_page, frame, name, sensitivity, rules, paper_mm)
            pending.append((name, index, future, frame.width, frame.height))
        for item in pending:
            _collect(item, batch, pages_dir, on_page)
    _split(batch, rules, direction)
    connected = config.security.network == "connected"
    if connected:  # a mark found on a page: the document never reaches OCR
        _withhold_secrets(batch)
    if ocr:
        _make_pdfs(batch, work, config, jobs)
        if connected:  # a mark read only in the header
            _withhold_secrets(batch)
    if work != out:
        _publish(batch, work, out)
    if ocr:
        _record(batch, on_document, store)
    found = batch.as_json()
    atomic_write(
        out / "batch.json",
        (json.dumps(found, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        mode=0o644,
    )
    return found


def _withhold_secrets(batch: Batch) -> None:
    """A connected machine keeps no secret document (docs/security.md#state-secrets):
    a document with a secrecy mark on a page (read or not: there is no clerk to
    ask) or in its header is withheld with its sheets (the blank backs and
    dropped pages after it): ``batch.json`` lists it and them with their place
    and its mark only, and none of their files leaves the private folder."""
    owners = [page.doc_id for page in batch.pages]
    for doc in batch.documents:
        if doc.secret:
            continue
        level, unsure = marked(p.report.secrecy for p in batch.pages if p.doc_id == doc.doc_id)
        level = level or secrecy_level(doc.metadata.get("Priority"))
        if not level and not unsure:
            continue
        for index in sheets_of(doc.doc_id, owners):
            batch.pages[index].withhold(level)
        doc.withhold(level)


def _publish(batch: Batch, work: Path, out: Path) -> None:
    """Move what is not secret from the private folder ``work`` to ``out``: the
    page files and the PDFs. A file an earlier run left in ``out`` under the
    name of a withheld one is erased (it may be of the same paper)."""
    (out / "pages").mkdir(exist_ok=True)
    for position, page in enumerate(batch.pages, start=1):
        for path in (work / "pages").glob(f"p{position:04d}.*"):
            if page.secret:
                erase(out / "pages" / path.name)
            else:
                move_file(path, out / "pages" / path.name)
    for doc in batch.documents:
        if doc.secret:
            erase(out / f"{doc.doc_id}.pdf")
        elif doc.pdf is not None:
            move_file(work / doc.pdf, out / doc.pdf)


def _no_room(pending: list[Pending], frame: EncodedFrame, jobs: int, budget: int) -> bool:
    """Whether ``frame`` must wait for the oldest pending page: two pages per worker
    wait already, a large page is under way or would be, or the pages' memory
    with the workers' own would pass ``budget``."""
    if len(pending) >= 2 * jobs:
        return True
    if large_page(frame.width, frame.height) or any(
        large_page(width, height) for *_, width, height in pending
    ):
        return True
    held = sum(clean_cost(width, height) for *_, width, height in pending)
    return jobs * WORKER_BYTES + held + clean_cost(frame.width, frame.height) > budget


def _collect(
    item: Pending,
    batch: Batch,
    pages_dir: Path,
    on_page: Callable[[int, BatchPage], None] | None,
) -> None:
    name, index, future, _width, _height = item
    page = future.result()
    position = len(batch.pages) + 1
    (pages_dir / f"p{position:04d}.{page.ext}").write_bytes(page.data)
    entry = BatchPage(name, index, page.report)
    batch.pages.append(entry)
    if on_page is not None:
        on_page(position, entry)


def _split(batch: Batch, rules: Rules, direction: str | None) -> None:
    """The batch's direction (as asked, else by its cover sheet), every kept
    page's ``doc_id`` and the documents (docs/batch.md, docs/barcodes.md)."""
    infos = [
        page_info(position, page.report.blank, page.report.barcodes, rules)
        for position, page in enumerate(batch.pages)
    ]
    batch.direction = direction or cover_direction(infos) or batch.direction
    labelled = batch.direction == "incoming"
    for doc in split(infos, batch.batch_id, labelled=labelled):
        for position in doc.pages:
            batch.pages[position].doc_id = doc.doc_id
        batch.documents.append(
            BatchDocument(
                doc_id=doc.doc_id,
                registration=doc.registration,
                positions=[p + 1 for p in doc.pages],
                pages=[(batch.pages[p].input, batch.pages[p].index) for p in doc.pages],
                metadata=empty_metadata(len(doc.pages)),
                warnings=[Warning.from_json(w) for w in doc.warnings],
            )
        )


def _make_pdfs(batch: Batch, work: Path, config: Config, cores: int) -> None:
    """One searchable PDF/A-2b per document not withheld (pages in order) in
    ``work``, its header read into ``metadata``. OCR runs in the OCR worker
    process over the whole batch (:mod:`station.pipeline.document`)."""
    from station.pipeline.document import BatchJob, DocumentJob, OcrPool, page_files

    read = [doc for doc in batch.documents if not doc.secret]
    job = BatchJob(
        documents=tuple(
            DocumentJob(
                pages=page_files(work, doc.positions),
                out=work / f"{doc.doc_id}.pdf",
                doc_id=doc.doc_id,
                registration=doc.registration,
            )
            for doc in read
        ),
        batch_id=batch.batch_id,
        work=work,
        station_id=config.station.id,
        languages=tuple(config.ocr.languages),
        jobs=cores,
        timeout_s=config.ocr.page_timeout_s,
        min_confidence=config.ocr.min_confidence,
    )
    with OcrPool() as pool:
        results = pool.submit(job).result()
    for doc, finished in zip(read, results, strict=True):
        doc.metadata = {**empty_metadata(), **finished.read.fields}
        doc.readings = finished.read.readings_json()
        doc.pdf = f"{doc.doc_id}.pdf"
        doc.warnings.extend(Warning.from_json(w) for w in finished.warnings())


def _record(
    batch: Batch,
    on_document: Callable[[BatchDocument], None] | None,
    store: Store | None,
) -> None:
    """A warning for each document already on file; each one not withheld
    recorded in the ``store``; ``on_document`` told of every document."""
    warnings = duplicate_warnings(batch.documents, batch.batch_id, store)
    for doc, found in zip(batch.documents, warnings, strict=True):
        if found is not None:
            doc.warnings.append(found)
        if store is not None and not doc.secret:
            store.add_document(doc.doc_id, batch.batch_id, doc.registration, doc.pdf,
                               doc.metadata)  # fmt: skip
        if on_document is not None:
            on_document(doc)
