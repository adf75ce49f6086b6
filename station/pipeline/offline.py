"""The page pipeline: from captured frames to cleaned pages, documents and ``batch.json``.

:func:`clean_page` is the per-page step (decode, preprocess, barcodes, encode)
shared by the offline ``scanstation process`` and the station. It runs in worker
processes so that it never holds up capture. :func:`process_inputs` is the
offline run: image files and PDFs in the order given, as one batch, split into
documents and written to an output folder.
"""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image

from station.barcodes.decode import Barcode, DecodeResult, Rules, classify, decode_page, is_key
from station.barcodes.split import PageInfo, split, warning
from station.capture.imageio import EncodedFrame, read_frames
from station.common import workers
from station.common.fsutil import atomic_write
from station.config import Config
from station.errors import InputError
from station.imaging import preprocess
from station.records.vocabulary import FIELDS
from station.store import Store, duplicate_key, new_batch_id


@dataclass(frozen=True)
class CleanPage:
    skew_deg: float
    orientation_deg: int
    blank: bool
    ink_mm2: float
    barcodes: list[Barcode]
    barcode_s: float
    data: bytes  # the corrected page, encoded
    ext: str
    width: int
    height: int
    dpi: int


def decode(frame: EncodedFrame, name: str) -> np.ndarray[Any, Any]:
    """The frame as a BGR (or grey) array; a frame that does not decode is refused."""
    flags = cv2.IMREAD_UNCHANGED if frame.ext == "png" else cv2.IMREAD_COLOR
    image = cv2.imdecode(np.frombuffer(frame.data, np.uint8), flags)
    if image is None:
        raise InputError(f"{name}: cannot decode the image", f"{name}: không giải mã được ảnh")
    if image.ndim == 3 and image.shape[2] == 4:
        image = cv2.cvtColor(image, cv2.COLOR_BGRA2BGR)
    if image.dtype != np.uint8:
        image = cv2.convertScaleAbs(image, alpha=255.0 / max(1, int(image.max())))
    return image


def encode(image: np.ndarray[Any, Any], dpi: int, quality: int = 92) -> tuple[bytes, str]:
    """A corrected page as JPEG (colour without chroma subsampling, or grey) with
    its resolution recorded, so the PDF page is the paper's size."""
    pixels = cv2.cvtColor(image, cv2.COLOR_BGR2RGB) if image.ndim == 3 else image
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=quality, subsampling=0, dpi=(dpi, dpi))
    return buf.getvalue(), "jpg"


def clean_page(frame: EncodedFrame, name: str, sensitivity: str, rules: Rules) -> CleanPage:
    """Deskew, crop, orient, test and read one frame; returns the corrected page encoded."""
    image = decode(frame, name)
    result = preprocess(image, frame.dpi, sensitivity=sensitivity)
    # a blank page has no codes of its own: what shows is bleed-through (a
    # separator's bars read well enough mirrored), so it is not read at all
    codes = (
        DecodeResult()
        if result.blank
        else decode_page(result.image, frame.dpi / 25.4, wanted=is_key(rules), original=image)
    )
    data, ext = encode(result.image, frame.dpi)
    height, width = result.image.shape[:2]
    return CleanPage(
        skew_deg=float(result.skew_deg),
        orientation_deg=int(result.orientation_deg),
        blank=bool(result.blank),
        ink_mm2=float(result.ink_mm2),
        barcodes=codes.codes,
        barcode_s=codes.seconds,
        data=data,
        ext=ext,
        width=width,
        height=height,
        dpi=frame.dpi,
    )


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
    on_page: Callable[[int, dict[str, Any]], None] | None = None,
    on_document: Callable[[dict[str, Any]], None] | None = None,
    store: Store | None = None,
    batch_id: str | None = None,
) -> dict[str, Any]:
    """Run the page pipeline offline: ``out/pages/pNNNN.jpg``, with ``ocr`` one
    PDF/A per document (``out/{doc_id}.pdf``) and its header fields, and
    ``out/batch.json``. With a ``store``, documents are recorded there and
    checked against the ones on file. ``batch_id`` names a batch of the store
    (default: a new id)."""
    pages_dir = out / "pages"
    pages_dir.mkdir(parents=True, exist_ok=True)
    sensitivity = config.pipeline.blank_sensitivity
    rules = Rules.from_config(config.pipeline.registration_pattern, config.pipeline.separator_text)
    default_dpi = config.profile().resolution
    batch: dict[str, Any] = {"batch_id": batch_id or new_batch_id(), "pages": [], "documents": []}
    jobs = jobs or os.cpu_count() or 1
    # frames are read lazily, in order, and cleaned in worker processes; at most
    # two per worker wait, so a long PDF never sits in memory whole
    with workers.pool(jobs, method=None) as pool:
        pending: list[tuple[str, int, Any]] = []
        for name, index, frame in _frames(inputs, default_dpi):
            pending.append((name, index, pool.submit(clean_page, frame, name, sensitivity, rules)))
            if len(pending) >= 2 * jobs:
                _collect(pending.pop(0), batch, pages_dir, rules, on_page)
        for item in pending:
            _collect(item, batch, pages_dir, rules, on_page)
    _split(batch, rules)
    if ocr:
        _make_pdfs(batch, out, config, jobs, on_document, store)
    atomic_write(
        out / "batch.json",
        (json.dumps(batch, ensure_ascii=False, indent=2) + "\n").encode("utf-8"),
        mode=0o644,
    )
    return batch


def _collect(
    item: tuple[str, int, Any],
    batch: dict[str, Any],
    pages_dir: Path,
    rules: Rules,
    on_page: Callable[[int, dict[str, Any]], None] | None,
) -> None:
    name, index, future = item
    page: CleanPage = future.result()
    position = len(batch["pages"]) + 1
    (pages_dir / f"p{position:04d}.{page.ext}").write_bytes(page.data)
    entry = {
        "input": name,
        "index": index,
        "skew_deg": round(page.skew_deg, 2),
        "orientation_deg": page.orientation_deg,
        "blank": page.blank,
        "separator": classify(page.barcodes, rules).separator,
        "barcodes": [code.as_json() for code in page.barcodes],
        "doc_id": None,
    }
    batch["pages"].append(entry)
    if on_page is not None:
        on_page(position, entry)


def _split(batch: dict[str, Any], rules: Rules) -> None:
    """Fill ``doc_id`` of every kept page and ``documents`` (DESIGN §3.2, §3.3)."""
    infos = []
    for position, page in enumerate(batch["pages"]):
        codes = [Barcode(c["format"], c["text"], "") for c in page["barcodes"]]
        found = classify(codes, rules)
        infos.append(PageInfo(position, page["blank"], found.separator, found.registrations))
    for doc in split(infos, batch["batch_id"]):
        for position in doc.pages:
            batch["pages"][position]["doc_id"] = doc.doc_id
        batch["documents"].append(
            {
                "doc_id": doc.doc_id,
                "registration": doc.registration,
                "pdf": None,
                "pages": [
                    {"input": batch["pages"][p]["input"], "index": batch["pages"][p]["index"]}
                    for p in doc.pages
                ],
                "metadata": {**EMPTY_METADATA, "PageAmount": len(doc.pages)},
                "warnings": doc.warnings,
            }
        )


#: Decree 30 metadata of a document; null until the header is read (never guessed).
EMPTY_METADATA: dict[str, Any] = dict.fromkeys(FIELDS)


def _make_pdfs(
    batch: dict[str, Any],
    out: Path,
    config: Config,
    cores: int,
    on_document: Callable[[dict[str, Any]], None] | None,
    store: Store | None,
) -> None:
    """One searchable PDF/A-2b per document (pages in order), its header read
    into ``metadata``, and a warning when it is already on file. OCR runs in
    the OCR worker process over the whole batch (:mod:`station.pipeline.document`)."""
    from station.pipeline.document import BatchJob, DocumentJob, OcrPool, page_files

    position = {(p["input"], p["index"]): n for n, p in enumerate(batch["pages"], start=1)}
    job = BatchJob(
        documents=tuple(
            DocumentJob(
                pages=page_files(out, [position[(p["input"], p["index"])] for p in doc["pages"]]),
                out=out / f"{doc['doc_id']}.pdf",
                doc_id=doc["doc_id"],
                registration=doc["registration"],
            )
            for doc in batch["documents"]
        ),
        batch_id=batch["batch_id"],
        work=out,
        station_id=config.station.id,
        languages=tuple(config.ocr.languages),
        jobs=cores,
        timeout_s=config.ocr.page_timeout_s,
    )
    with OcrPool() as pool:
        results = pool.submit(job).result()
    seen: list[dict[str, Any]] = []
    for doc, metadata in zip(batch["documents"], results, strict=True):
        doc["metadata"] = {**EMPTY_METADATA, **metadata}
        doc["pdf"] = f"{doc['doc_id']}.pdf"
        _warn_duplicates(doc, seen, store, batch["batch_id"])
        seen.append(doc)
        if on_document is not None:
            on_document(doc)


def _warn_duplicates(
    doc: dict[str, Any], seen: list[dict[str, Any]], store: Store | None, batch_id: str
) -> None:
    """DESIGN §4.3: warn when number + symbol + issuing agency is already on file."""
    key = duplicate_key(doc["metadata"])
    if key is None:
        return
    earlier = [
        d["registration"] or d["doc_id"] for d in seen if duplicate_key(d["metadata"]) == key
    ]
    if store is not None:
        earlier += [d["registration"] or d["id"] for d in store.same_documents(doc["metadata"])]
        store.add_document(
            doc["doc_id"], batch_id, doc["registration"], doc["pdf"], doc["metadata"]
        )
    if earlier:
        meta = doc["metadata"]
        doc["warnings"].append(
            warning(
                "duplicate",
                number=f"{meta['CodeNumber']}/{meta['CodeNotation']}",
                organ=meta["OrganName"],
                others=", ".join(earlier),
            )
        )
