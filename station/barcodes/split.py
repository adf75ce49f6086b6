"""Pages into documents (docs/barcodes.md#meaning-and-splitting).

- a page with a registration label starts a new document;
- a separator sheet ends the current document and is dropped;
- blank pages (duplex backs, a separator's back) are dropped;
- every other page continues the current document, or starts one without a
  label if none is open.

Warnings go with the document they concern: no label, a label used twice in
the batch, two different labels on one page.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from station.barcodes.decode import Barcode, Rules, classify
from station.records.verify import MIN_DPI


@dataclass(frozen=True)
class PageInfo:
    """What the splitter needs to know of a page."""

    key: Any  # the caller's reference to the page (position, row id, …)
    blank: bool
    separator: bool
    registrations: list[Barcode]
    #: the page's resolution as captured (0: not known)
    dpi: int = 0


def page_info(
    key: Any, blank: bool, codes: Iterable[dict[str, str]], rules: Rules, *, dpi: int = 0
) -> PageInfo:
    """What the splitter needs of a page, from its barcodes as read
    (``Barcode.as_json``), the rules in force now and its resolution (the
    page report's ``dpi``; 0 when not known)."""
    found = classify((Barcode(c["format"], c["text"], "") for c in codes), rules)
    return PageInfo(key, blank, found.separator, found.registrations, dpi)


def low_resolution(dpi: int) -> bool:
    """Whether a page of ``dpi`` is below Decree 30's 200 dpi (0: not known, not flagged)."""
    return 0 < dpi < MIN_DPI


@dataclass
class Document:
    doc_id: str
    registration: str | None
    pages: list[Any] = field(default_factory=list)
    warnings: list[dict[str, Any]] = field(default_factory=list)


WARNINGS = {
    "no_registration": (
        "Văn bản chưa có nhãn số đến: hãy gán nhãn",
        "No registration label on this document: assign one",
    ),
    "registration_repeated": (
        "Nhãn số đến {label} xuất hiện ở nhiều văn bản trong lô",
        "Registration label {label} is used by more than one document in this batch",
    ),
    "several_registrations": (
        "Trang đầu có nhiều nhãn số đến khác nhau: {labels}; đã dùng {label}",
        "The first page carries several registration labels: {labels}; {label} was used",
    ),
    "registration_on_file": (
        "Nhãn số đến {label} đã vào sổ đến ngày {day}: nhãn dùng lại?",
        "Registration label {label} is already in the register since {day}: a reused label?",
    ),
    "low_resolution": (
        "Trang {pages} chỉ có {dpi} dpi, dưới mức {minimum} dpi của Nghị định 30",
        "Page {pages}: only {dpi} dpi, below the {minimum} dpi of Decree 30",
    ),
    "duplicate": (
        "Văn bản số {number} của {organ} đã có trong hệ thống: {others}",
        "Document {number} of {organ} is already on file: {others}",
    ),
}


def warning(code: str, **values: str) -> dict[str, Any]:
    vi, en = WARNINGS[code]
    return {"code": code, "message": {"vi": vi.format(**values), "en": en.format(**values)}}


def split(pages: list[PageInfo], batch_id: str) -> list[Document]:
    documents: list[Document] = []
    current: Document | None = None

    def start(registration: str | None) -> Document:
        doc = Document(f"{batch_id}-{len(documents) + 1:03d}", registration)
        documents.append(doc)
        return doc

    for page in pages:
        if page.separator:
            current = None
            continue
        if page.blank:
            continue
        labels = list(dict.fromkeys(code.text for code in page.registrations))
        if labels:
            current = start(labels[0])
            if len(labels) > 1:
                current.warnings.append(
                    warning("several_registrations", labels=", ".join(labels), label=labels[0])
                )
        elif current is None:
            current = start(None)
        current.pages.append(page.key)

    counts = Counter(d.registration for d in documents if d.registration)
    resolution = {page.key: page.dpi for page in pages}
    for doc in documents:
        low = [(n, resolution[key]) for n, key in enumerate(doc.pages, 1)]
        low = [(n, dpi) for n, dpi in low if low_resolution(dpi)]
        if low:
            doc.warnings.append(_low_resolution(low))
        if doc.registration is None:
            doc.warnings.append(warning("no_registration"))
        elif counts[doc.registration] > 1:
            doc.warnings.append(warning("registration_repeated", label=doc.registration))
    return documents


def _low_resolution(pages: list[tuple[int, int]]) -> dict[str, Any]:
    """The ``low_resolution`` warning of a document's pages (number in the
    document, dpi) below 200 dpi: "Trang 2 chỉ có 150 dpi, …"."""
    values = sorted({dpi for _, dpi in pages})
    dpi = str(values[0]) if len(values) == 1 else f"{values[0]}–{values[-1]}"
    numbers = ", ".join(str(n) for n, _ in pages)
    return warning("low_resolution", pages=numbers, dpi=dpi, minimum=str(MIN_DPI))
