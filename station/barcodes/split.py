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
from collections.abc import Iterable, Sequence
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
    #: a cover sheet's direction for its batch (docs/outgoing.md#cover-sheets)
    direction: str | None = None


def page_info(key: Any, blank: bool, codes: Iterable[dict[str, str]], rules: Rules) -> PageInfo:
    """What the splitter needs of a page, from its barcodes as read
    (``Barcode.as_json``) and the rules in force now."""
    found = classify((Barcode(c["format"], c["text"], "") for c in codes), rules)
    return PageInfo(key, blank, found.separator, found.registrations, found.direction)


def cover_direction(pages: Iterable[PageInfo]) -> str | None:
    """The direction of a batch by its cover sheet: the first page that is one
    (a cover sheet goes on top of the stack; one further down counts as a
    separator only)."""
    return next((page.direction for page in pages if page.direction), None)


def low_resolution(dpi: int) -> bool:
    """Whether a page of ``dpi`` is below Decree 30's 200 dpi (0: not known, not
    flagged). Its document's PDF then fails the check (``pdf_check``), which
    names the page."""
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
    "duplicate": (
        "Văn bản số {number} của {organ} đã có trong hệ thống: {others}",
        "Document {number} of {organ} is already on file: {others}",
    ),
    # a page carries what looks like a secrecy mark that was not read: the
    # clerk says whether it is one (docs/security.md#state-secrets)
    "secrecy_unsure": (
        "Văn bản này có dấu mật? Có: bấm «Văn bản mật» (trạm sẽ không số hoá, không gửi). "
        "Không: bấm «Không phải văn bản mật»",
        'Does this document carry a secrecy mark? Yes: press "Secret document" (the station '
        'will neither keep nor send it). No: press "Not a secret document"',
    ),
    # a secrecy mark was read on a page, or its level in the header: the clerk
    # says whether the document is secret before it is stopped and erased
    "secrecy_read": (
        "Trang này có dấu «{level}»: đây là văn bản mật? Có: trạm dừng văn bản, xoá mọi ảnh, "
        "ghi vào Sổ văn bản mật đến. Không: bấm «Không phải văn bản mật»",
        'This page carries the mark "{level}": is this a secret document? Yes: the station '
        "stops it, erases every image and enters it in the secret register. No: press "
        '"Not a secret document"',
    ),
    # the document's PDF fails a check of `scanstation verify`: never sent so
    "pdf_check": (
        "Tệp PDF chưa đạt chuẩn Nghị định 30: {vi}. Quét lại hoặc bỏ trang đó",
        "The PDF does not meet the Decree 30 standard: {en}. Scan that page again or remove it",
    ),
}


#: the warnings that ask the clerk whether a document is secret: until answered,
#: the document is neither read (OCR) nor sent (docs/security.md#state-secrets)
SECRECY_QUESTIONS = frozenset({"secrecy_unsure", "secrecy_read"})


def warning(code: str, **values: str) -> dict[str, Any]:
    vi, en = WARNINGS[code]
    return {"code": code, "message": {"vi": vi.format(**values), "en": en.format(**values)}}


def split(pages: list[PageInfo], batch_id: str, *, labelled: bool = True) -> list[Document]:
    """Documents by the barcode rules (docs/barcodes.md). ``labelled``: a
    document needs a registration label (a received one, for its Số đến); a
    sent one (văn bản đi) is numbered by its own Số and needs none."""
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
    for doc in documents:
        if doc.registration is None:
            if labelled:
                doc.warnings.append(warning("no_registration"))
        elif counts[doc.registration] > 1:
            doc.warnings.append(warning("registration_repeated", label=doc.registration))
    return documents


def sheets_of(doc_id: str, owners: Sequence[str | None]) -> list[int]:
    """Where a document's pages are in a batch (``owners``: each page's
    document, None for a page of none) with the pages of no document among and
    right after them: its blank backs (which show the front through) and the
    separator or page dropped after it. What goes with a document that must not
    stay, a secret one."""
    mine = [i for i, owner in enumerate(owners) if owner == doc_id]
    if not mine:
        return []
    found = list(mine)
    for i in range(mine[0], len(owners)):
        if owners[i] is None:
            found.append(i)
        elif owners[i] != doc_id and i > mine[-1]:
            break
    return sorted(set(found))
