"""What a batch is checked for before it is confirmed (docs/station-ui.md#before-sending).

Two kinds of finding, each in both languages:

- **blocking**: the batch cannot be confirmed as it is. A document without a
  registration label, a label used twice in the batch, a label already in the
  Sổ đến for another document: confirming would give one Số đến to two
  documents, which the register must never hold.
- **questions**: the clerk is asked "Vẫn gửi?" with the list, and may send all
  the same. Every warning still standing on a document (already on file,
  several labels on a page, …), a label of another year than the day the
  document arrived, Số đến the batch would skip (after the register's last
  one of the year, or between its own labels; labels of other batches still
  under review count as used; the station's first labels of a year may go on
  from a paper book), and a field the Sổ đến needs left empty.

The rules of the register (what a gap is, how a label gives its year and
number) are :mod:`station.records.register`'s; this module only applies them to
a batch before it is entered.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from station.barcodes.split import SECRECY_QUESTIONS
from station.errors import InputError, StationError
from station.records.register import Register, arrival_number, gaps, wrong_year
from station.review.drafts import ReviewDoc

#: fields the Sổ đến needs for every document (Decree 30, Phụ lục IV: tác giả,
#: số và ký hiệu, ngày tháng, tên loại và trích yếu), with their names on the screen
NEEDED = {
    "TypeName": ("Tên loại", "type"),
    "CodeNumber": ("Số", "number"),
    "CodeNotation": ("Ký hiệu", "symbol"),
    "IssuedDate": ("Ngày ban hành", "date issued"),
    "OrganName": ("Cơ quan ban hành", "issuing agency"),
    "Subject": ("Trích yếu", "subject"),
}
#: warnings that are blocking findings of their own
_BLOCKING_WARNINGS = frozenset({"no_registration", "registration_repeated", "registration_on_file"})
#: warnings that block the batch as they are (a PDF that fails the Decree 30 check)
_BLOCKING_AS_WARNED = frozenset({"pdf_check", *SECRECY_QUESTIONS})


@dataclass(frozen=True)
class Finding:
    code: str
    seq: int | None  # the document's number in the batch; None for the batch
    vi: str
    en: str
    blocking: bool = False

    def as_json(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "seq": self.seq,
            "message": {"vi": self.vi, "en": self.en},
            "blocking": self.blocking,
        }


class Unanswered(StationError):
    """The batch has findings the clerk has not answered ("Vẫn gửi?")."""

    exit_code = 8
    code = "ask"

    def __init__(self, findings: Sequence[Finding]) -> None:
        super().__init__(
            "; ".join(f.en for f in findings),
            "; ".join(f.vi for f in findings),
            findings=[f.as_json() for f in findings],
        )
        self.findings = list(findings)


def replacement(docs: Sequence[ReviewDoc], registration: str | None) -> ReviewDoc | None:
    """The document of a batch scanned after "Quét lại" that replaces the
    refused one: the one under the refused document's label, else the first."""
    same = [d for d in docs if registration and d.registration == registration]
    return same[0] if same else (docs[0] if docs else None)


def before_confirming(
    docs: Sequence[ReviewDoc],
    register: Register,
    pattern: str,
    today: date,
    elsewhere: Sequence[str] = (),
    replaces: str = "",
    labelled: bool = True,
) -> list[Finding]:
    """The batch's findings, blocking ones first, in document order.
    ``labelled``: received documents, each under a registration label (its Số
    đến); sent ones (văn bản đi) carry none, and their labels are not checked.
    ``elsewhere``: the labels of the other batches not in the register yet (a
    stack scanned after this one and still under review skips no number).
    ``replaces``: the refused document a document of the batch replaces
    ("Quét lại", :func:`replacement`): the same paper keeps its label and entry."""
    found: list[Finding] = []
    labels = [d.registration for d in docs if d.registration]
    numbers: dict[int, set[int]] = {}
    for doc in docs if labelled else ():
        n = doc.seq
        if doc.registration is None:
            found.append(Finding(
                "no_registration", n,
                f"Văn bản {n} chưa có nhãn số đến",
                f"document {n} has no registration label yet", True,
            ))  # fmt: skip
            continue
        if labels.count(doc.registration) > 1:
            found.append(Finding(
                "registration_repeated", n,
                f"Văn bản {n}: nhãn {doc.registration} dùng cho nhiều văn bản trong lô",
                f"document {n}: label {doc.registration} is used by several documents", True,
            ))  # fmt: skip
        holder = register.holding(doc.registration)
        rescanned = holder is not None and bool(replaces) and holder.doc_id == replaces
        if holder is not None and holder.doc_id != doc.doc_id and not rescanned:
            found.append(Finding(
                "registration_on_file", n,
                f"Văn bản {n}: nhãn {doc.registration} đã vào sổ đến ngày "
                f"{holder.arrival_date:%d/%m/%Y}; dán nhãn mới rồi quét lại, hoặc bỏ văn bản này",
                f"document {n}: label {doc.registration} is already in the register since "
                f"{holder.arrival_date:%d/%m/%Y}; put on a new label and scan again, or drop it",
                True,
            ))  # fmt: skip
        try:
            year, number = arrival_number(doc.registration, pattern)
        except InputError:
            continue  # not a label of this station's pattern: the warnings say so
        other = wrong_year(doc.registration, year, number, _arrival(doc, today))
        if other is not None:
            vi, en = f"Văn bản {n}: {other.message_vi}", f"document {n}: {other.message_en}"
            found.append(Finding(other.code, n, vi, en))
        numbers.setdefault(year, set()).add(number)
    for doc in docs:
        for w in doc.warnings:
            if w["code"] not in _BLOCKING_WARNINGS:
                message = w["message"]
                found.append(Finding(
                    w["code"], doc.seq,
                    f"Văn bản {doc.seq}: {message['vi']}", f"document {doc.seq}: {message['en']}",
                    w["code"] in _BLOCKING_AS_WARNED,
                ))  # fmt: skip
        empty = [names for name, names in NEEDED.items() if not doc.metadata.get(name)]
        if empty:
            found.append(Finding(
                "empty_fields", doc.seq,
                f"Văn bản {doc.seq} còn trống: {', '.join(vi for vi, _ in empty)}",
                f"document {doc.seq} has no {', '.join(en for _, en in empty)}",
            ))  # fmt: skip
    pending: dict[int, set[int]] = {}
    for label in elsewhere:
        try:
            year, number = arrival_number(label, pattern)
        except InputError:
            continue
        pending.setdefault(year, set()).add(number)
    for year, batch_numbers in sorted(numbers.items()):
        used = set(register.numbers(year)) | pending.get(year, set())
        before = {(f.numbers[0], f.numbers[-1]) for f in gaps(year, sorted(used))}
        for flag in gaps(year, sorted(used | batch_numbers)):
            if (flag.numbers[0], flag.numbers[-1]) in before:
                continue  # the register's own, shown on the Sổ đến screen
            if not used and flag.numbers[0] == 1:
                continue  # the station's first entry of the year may go on from a paper book
            found.append(Finding("gap", None, flag.message_vi, flag.message_en))
    return sorted(found, key=lambda f: (not f.blocking, f.seq or 0))


def _arrival(doc: ReviewDoc, today: date) -> date:
    given = doc.metadata.get("ArrivalDate")
    try:
        return date.fromisoformat(str(given)) if given else today
    except ValueError:
        return today
