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

A batch of sent documents (văn bản đi) carries no labels; it is asked about
its own numbers instead (:class:`Sent`, docs/outgoing.md#before-sending): a
number that is not the next of the Sổ đi for its year (a gap, or a number
already used, in the register, in the batch or in another batch under
review), a ký hiệu without any of the agency's own abbreviations, and a field
the Sổ đi needs left empty. :func:`next_numbers` offers the next number to a
document whose Số was left empty (often written by hand, which the reader
does not read).

The rules of the registers (what a gap is, how a label gives its year and
number, which series a number runs in) are :mod:`station.records.register`'s
and :mod:`station.records.outgoing_register`'s; this module only applies them
to a batch before it is entered.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from station.barcodes.split import SECRECY_QUESTIONS
from station.errors import InputError, StationError
from station.records.outgoing_register import (
    OutgoingRegister,
    kind_of,
    missing,
    number_of,
    number_text,
    own_notation,
    runs,
    span_text,
    year_of,
)
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
#: fields the Sổ đi needs for every document sent (Phụ lục IV: số, ký hiệu,
#: ngày tháng, tên loại và trích yếu, người ký)
NEEDED_OUTGOING = {
    "CodeNumber": ("Số", "number"),
    "CodeNotation": ("Ký hiệu", "symbol"),
    "IssuedDate": ("Ngày ban hành", "date issued"),
    "TypeName": ("Tên loại", "type"),
    "Subject": ("Trích yếu", "subject"),
    "SignerName": ("Người ký", "signer"),
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


@dataclass(frozen=True)
class Sent:
    """What a batch of sent documents is checked against: the Sổ đi (with its
    numbering), the agency's own abbreviations (``[outgoing] notation``) and
    the fields of the outgoing documents of the other batches still under
    review (their numbers are taken)."""

    register: OutgoingRegister
    notation: tuple[str, ...] = ()
    pending: Sequence[Mapping[str, Any]] = ()

    def key(self, metadata: Mapping[str, Any], year: int) -> tuple[int, str]:
        """The year and the series a document's number runs in."""
        return year, self.register.series(kind_of(metadata))

    def taken(self, today: date) -> dict[tuple[int, str], set[int]]:
        """The numbers of the documents under review in other batches."""
        found: dict[tuple[int, str], set[int]] = {}
        for metadata in self.pending:
            number = number_of(metadata)
            if number is not None:
                found.setdefault(self.key(metadata, year_of(metadata, today)), set()).add(number)
        return found


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
    sent: Sent | None = None,
) -> list[Finding]:
    """The batch's findings, blocking ones first, in document order.
    ``labelled``: received documents, each under a registration label (its Số
    đến); sent ones (văn bản đi) carry none, and their labels are not checked.
    ``elsewhere``: the labels of the other batches not in the register yet (a
    stack scanned after this one and still under review skips no number).
    ``replaces``: the refused document a document of the batch replaces
    ("Quét lại", :func:`replacement`): the same paper keeps its label and entry.
    ``sent``: the batch is of sent documents (``labelled`` False), asked about
    their numbers and symbols against the Sổ đi (:func:`sent_findings`)."""
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
        needed = NEEDED if labelled else NEEDED_OUTGOING
        empty = [names for name, names in needed.items() if not doc.metadata.get(name)]
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
    if sent is not None and not labelled:
        found += sent_findings(docs, sent, today)
    return sorted(found, key=lambda f: (not f.blocking, f.seq or 0))


def batch_years(docs: Sequence[ReviewDoc], today: date) -> dict[str, int]:
    """The year each document's number runs in: its date's; for one whose
    date was left empty (written by hand) the year of the dated document
    before it in the batch, else after it, else this year: a stack is
    numbered in one stretch."""
    dated = [_issued(doc) for doc in docs]
    years: dict[str, int] = {}
    for index, doc in enumerate(docs):
        before = [d for d in dated[:index] if d is not None]
        after = [d for d in dated[index:] if d is not None]
        near = dated[index] or (before[-1] if before else after[0] if after else None)
        years[doc.doc_id] = near.year if near else today.year
    return years


def _issued(doc: ReviewDoc) -> date | None:
    try:
        given = doc.metadata.get("IssuedDate")
        return date.fromisoformat(str(given)) if given else None
    except ValueError:
        return None


def sent_findings(docs: Sequence[ReviewDoc], sent: Sent, today: date) -> list[Finding]:
    """A batch of sent documents against the Sổ đi: a ký hiệu without the
    agency's abbreviations, a number already used (in the register, twice in
    the batch, in another batch under review) and numbers the batch would
    skip. The station's first numbers of a year may go on from a paper book."""
    found: list[Finding] = []
    register = sent.register
    taken = sent.taken(today)
    years = batch_years(docs, today)
    numbered: dict[tuple[int, str], list[tuple[int, ReviewDoc]]] = {}
    for doc in docs:
        n = doc.seq
        notation = str(doc.metadata.get("CodeNotation") or "")
        if sent.notation and notation and not own_notation(notation, sent.notation):
            own = ", ".join(sent.notation)
            found.append(Finding(
                "notation", n,
                f"Văn bản {n}: ký hiệu {notation} không có chữ viết tắt của cơ quan ({own})",
                f"document {n}: the symbol {notation} has none of the agency's abbreviations "
                f"({own})",
            ))  # fmt: skip
        number = number_of(doc.metadata)
        if number is not None:
            numbered.setdefault(sent.key(doc.metadata, years[doc.doc_id]), []).append((number, doc))
    for (year, series), items in sorted(numbered.items()):
        label = register.series_text(series)
        used = register.used(year, series)
        elsewhere = taken.get((year, series), set())
        counts = Counter(number for number, _doc in items)
        for number, doc in items:
            text = f"{number_text(number)}/{year}{label}"
            holders = [d for d in used.get(number, []) if d != doc.doc_id]
            if holders:
                held = register.entry(holders[0])
                what = held.code or held.summary[:60]
                vi = f"số {text} đã vào sổ đi ngày {held.registered_at:%d/%m/%Y} ({what})"
                en = f"no. {text} is already in the outgoing register since " + (
                    f"{held.registered_at:%d/%m/%Y} ({what})"
                )
            elif counts[number] > 1:
                vi, en = f"số {text} dùng cho nhiều văn bản trong lô", f"no. {text} is used twice"
            elif number in elsewhere:
                vi = f"số {text} đã dùng cho văn bản của lô khác đang chờ xem lại"
                en = f"no. {text} is used by a document of another batch under review"
            else:
                continue
            found.append(Finding("repeat", doc.seq, f"Văn bản {doc.seq}: {vi}",
                                 f"document {doc.seq}: {en}"))  # fmt: skip
        on_file = set(used) | elsewhere
        skipped = missing(on_file | set(counts)) - missing(on_file)
        if not on_file:  # the year's first numbers at the station may go on from a paper book
            skipped -= set(range(1, min(counts)))
        expected = number_text(max(on_file, default=0) + 1)
        for first, last in runs(skipped):
            span = span_text(first, last)
            found.append(Finding(
                "gap", None,
                f"Bỏ cách số: thiếu số {span}/{year}{label}; số tiếp theo của sổ đi là {expected}",
                f"numbers skipped: {span}/{year}{label} missing; the outgoing register's next "
                f"is {expected}",
            ))  # fmt: skip
    return found


def next_numbers(docs: Sequence[ReviewDoc], sent: Sent, today: date) -> dict[str, str]:
    """ "Dùng số tiếp theo": for each document whose Số is empty, the number
    after the register's last of its series and after the documents before it
    (in the batch and in other batches under review), skipping the numbers
    already on the batch's documents; as Decree 30 prints it ("07"). Offered
    to the clerk, never filled in by itself."""
    taken = sent.taken(today)
    years = batch_years(docs, today)
    on_docs: dict[tuple[int, str], set[int]] = {}
    for doc in docs:
        number = number_of(doc.metadata)
        if number is not None:
            on_docs.setdefault(sent.key(doc.metadata, years[doc.doc_id]), set()).add(number)
    last: dict[tuple[int, str], int] = {}
    offered: dict[str, str] = {}
    for doc in docs:
        key = sent.key(doc.metadata, years[doc.doc_id])
        if key not in last:
            on_file = set(sent.register.used(*key)) | taken.get(key, set())
            last[key] = max(on_file, default=0)
        number = number_of(doc.metadata)
        if number is not None:
            last[key] = max(last[key], number)
            continue
        if doc.metadata.get("CodeNumber"):
            continue  # something typed that is no number: the field says so
        candidate = last[key] + 1
        while candidate in on_docs.get(key, set()) | taken.get(key, set()):
            candidate += 1
        last[key] = candidate
        offered[doc.doc_id] = number_text(candidate)
    return offered


def _arrival(doc: ReviewDoc, today: date) -> date:
    given = doc.metadata.get("ArrivalDate")
    try:
        return date.fromisoformat(str(given)) if given else today
    except ValueError:
        return today
