"""The outgoing register (Sổ đăng ký văn bản đi, Decree 30/2020 Phụ lục IV),
and the post register kept beside it (Sổ gửi văn bản đi bưu điện).

Every confirmed outgoing document gets an entry with the register's ten
columns (docs/outgoing.md, "The register"). The station fills what the clerk
checked in the review: Số, ký hiệu; Ngày tháng; Tên loại và trích yếu; Người
ký (authority, position and name of the signature block); Nơi nhận ("Kính
gửi" and the "Nơi nhận:" list); and, from the "Lưu: VT, …" line of that list,
Đơn vị, người nhận bản lưu. The clerk adds the rest as the document goes out:
Số lượng bản, Ngày chuyển, Ký nhận, Ghi chú, and whether it went by post
with how many envelopes (the post register's rows).

Numbers run from 1 within the year of the document's date, across all
documents (``[outgoing] numbering = "common"``, Decree 30 Art. 15) or for each
type apart (``per_type``). :meth:`OutgoingRegister.flags` points out numbers
skipped or used twice, and documents entered without a number.

The entries live in the store (table ``outgoing_register``);
:data:`LAYOUT` and :data:`POST_LAYOUT` print and export them with
:mod:`station.records.register_export`.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal

from station.errors import InputError, NotFound
from station.records.register import Column, Flag, Marked, code_of, past_day, summary_of
from station.records.register_export import Layout, note_cell
from station.store import Store, now_iso

Numbering = Literal["common", "per_type"]

#: the register's columns, in the paper register's order (Phụ lục IV)
COLUMNS: tuple[Column, ...] = (
    Column("code", "Số, ký hiệu văn bản", "Number, symbol"),
    Column("issued_date", "Ngày tháng văn bản", "Date of document"),
    Column("summary", "Tên loại và trích yếu nội dung văn bản", "Type and summary"),
    Column("signer", "Người ký", "Signed by"),
    Column("recipients", "Nơi nhận văn bản", "Sent to"),
    Column("archive", "Đơn vị, người nhận bản lưu", "Copy kept by"),
    Column("copies", "Số lượng bản", "Copies"),
    Column("transfer_date", "Ngày chuyển", "Date sent"),
    Column("received_by", "Ký nhận", "Signed for by"),
    Column("note", "Ghi chú", "Notes"),
)
#: the post register's columns (Sổ gửi văn bản đi bưu điện, Phụ lục IV)
POST_COLUMNS: tuple[Column, ...] = (
    Column("transfer_date", "Ngày chuyển", "Date sent"),
    Column("code", "Số, ký hiệu văn bản", "Number, symbol"),
    Column("recipients", "Nơi nhận văn bản", "Sent to"),
    Column("envelopes", "Số lượng bì", "Envelopes"),
    Column("post_receipt", "Ký nhận và dấu bưu điện", "Post office's signature and stamp"),
    Column("post_note", "Ghi chú", "Notes"),
)
#: what the clerk may change once the document is registered (columns 6 to 10
#: and the post register's own)
EDITABLE = (
    "archive", "copies", "transfer_date", "received_by", "note",
    "by_post", "envelopes", "post_note",
)  # fmt: skip
#: "Lưu: VT, P.TH" on the "Nơi nhận:" list: where the file copies stay
_ARCHIVE = re.compile(r"^\s*Lưu\s*[:;.]?\s*(?P<units>.*)$", re.IGNORECASE)
#: "Như trên": the addressees of "Kính gửi" above
_AS_ABOVE = re.compile(r"^\s*Như\s+trên\s*[;.,]?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class OutgoingEntry(Marked):
    doc_id: str
    batch_id: str
    year: int
    number: int | None
    kind: str
    day: date
    registered_at: datetime
    code: str
    issued_date: date | None
    summary: str
    signer: str
    recipients: str
    priority: str
    pages: int | None
    archive: str
    copies: int | None
    transfer_date: date | None
    received_by: str
    note: str
    by_post: bool
    envelopes: int | None
    post_note: str
    #: the post register's "Ký nhận và dấu bưu điện": signed on the printed book
    post_receipt: str = ""

    def to_json(self) -> dict[str, Any]:
        def day(value: date | None) -> str | None:
            return value.isoformat() if value else None

        return {
            "doc_id": self.doc_id,
            "year": self.year,
            "number": self.number,
            "kind": self.kind,
            "day": self.day.isoformat(),
            "registered_at": self.registered_at.isoformat(),
            "code": self.code,
            "issued_date": day(self.issued_date),
            "summary": self.summary,
            "signer": self.signer,
            "recipients": self.recipients,
            "priority": self.priority,
            "pages": self.pages,
            "archive": self.archive,
            "copies": self.copies,
            "transfer_date": day(self.transfer_date),
            "received_by": self.received_by,
            "note": self.note,
            "by_post": self.by_post,
            "envelopes": self.envelopes,
            "post_note": self.post_note,
        }


# --------------------------------------------------------------------------- the rules


def number_of(metadata: Mapping[str, Any]) -> int | None:
    """The document's number ("07" → 7), or None when it has none."""
    text = str(metadata.get("CodeNumber") or "").strip()
    return int(text) if re.fullmatch(r"\d{1,6}", text) else None


def number_text(number: int) -> str:
    """A number as Decree 30 prints it: a leading 0 below 10 ("07")."""
    return f"{number:02d}"


def year_of(metadata: Mapping[str, Any], today: date) -> int:
    """The year a document's number runs in: its date's, else this year."""
    issued = _day(metadata.get("IssuedDate"))
    return issued.year if issued else today.year


def kind_of(metadata: Mapping[str, Any]) -> str:
    """The type a document is numbered with under per-type numbering."""
    return str(metadata.get("TypeName") or "").strip()


def signer_of(metadata: Mapping[str, Any]) -> str:
    """Người ký: the name, then the authority and position as printed:
    "Nguyễn Văn An (KT. VIỆN TRƯỞNG, PHÓ VIỆN TRƯỞNG)"."""
    titles = [str(metadata.get(k) or "").strip() for k in ("SignerCompetence", "SignerPosition")]
    titles = [t for t in titles if t]
    name = str(metadata.get("SignerName") or "").strip()
    if name and titles:
        return f"{name} ({', '.join(titles)})"
    return name or ", ".join(titles)


def _items(value: Any) -> list[str]:
    if isinstance(value, list):
        return [str(v).strip() for v in value if str(v).strip()]
    text = str(value or "").strip()
    return [part.strip() for part in text.split(";") if part.strip()] if text else []


def recipients_of(metadata: Mapping[str, Any]) -> tuple[str, str]:
    """(Nơi nhận văn bản, Đơn vị nhận bản lưu) from "Kính gửi" and "Nơi nhận:":
    the addressees, then the places of the list; "Như trên" stands for the
    addressees when they were read; "Lưu: VT, P.TH" is where the file copies
    stay, the register's column 6."""
    addressees = _items(metadata.get("Addressees"))
    places: list[str] = []
    archive: list[str] = []
    for item in _items(metadata.get("ToPlaces")):
        kept = _ARCHIVE.match(item)
        if kept:
            archive += [u.strip() for u in kept["units"].split(",") if u.strip()]
        elif not (addressees and _AS_ABOVE.match(item)):
            places.append(item)
    return "; ".join(addressees + places), ", ".join(archive)


def own_notation(notation: str, abbreviations: Iterable[str]) -> bool:
    """Whether a ký hiệu carries one of the agency's own abbreviations as one
    of its dash-separated parts ("QĐ-VKSTH" with VKSTH)."""
    parts = {p.strip().upper() for p in re.split(r"[-–/]", notation) if p.strip()}
    return any(a.strip().upper() in parts for a in abbreviations)


def missing(numbers: Iterable[int]) -> set[int]:
    """The numbers missing below the highest one used (the year starts at 1)."""
    used = set(numbers)
    return set(range(1, max(used, default=0))) - used


def runs(numbers: Iterable[int]) -> list[tuple[int, int]]:
    """Numbers as runs of consecutive ones: {3, 4, 7} → [(3, 4), (7, 7)]."""
    found: list[tuple[int, int]] = []
    for number in sorted(set(numbers)):
        if found and found[-1][1] == number - 1:
            found[-1] = (found[-1][0], number)
        else:
            found.append((number, number))
    return found


def span_text(first: int, last: int) -> str:
    return number_text(first) if first == last else f"{number_text(first)}-{number_text(last)}"


def _day(value: Any) -> date | None:
    try:
        return date.fromisoformat(str(value)) if value else None
    except ValueError:
        return None


def _entry(row: Any) -> OutgoingEntry:
    return OutgoingEntry(
        doc_id=row["doc_id"],
        batch_id=row["batch_id"],
        year=row["year"],
        number=row["number"],
        kind=row["kind"],
        day=date.fromisoformat(row["day"]),
        registered_at=datetime.fromisoformat(row["registered_at"]),
        code=row["code"],
        issued_date=_day(row["issued_date"]),
        summary=row["summary"],
        signer=row["signer"],
        recipients=row["recipients"],
        priority=row["priority"],
        pages=row["pages"],
        archive=row["archive"],
        copies=row["copies"],
        transfer_date=_day(row["transfer_date"]),
        received_by=row["received_by"],
        note=row["note"],
        by_post=bool(row["by_post"]),
        envelopes=row["envelopes"],
        post_note=row["post_note"],
    )


def _read_columns(metadata: Mapping[str, Any]) -> dict[str, Any]:
    """The columns an entry takes from the document's checked fields."""
    recipients, archive = recipients_of(metadata)
    issued = _day(metadata.get("IssuedDate"))
    pages = metadata.get("PageAmount")
    return {
        "number": number_of(metadata),
        "kind": kind_of(metadata),
        "code": code_of(metadata),
        "issued_date": issued.isoformat() if issued else None,
        "summary": summary_of(metadata),
        "signer": signer_of(metadata),
        "recipients": recipients,
        "archive": archive,
        "priority": str(metadata.get("Priority") or ""),
        "pages": int(pages) if isinstance(pages, int) else None,
    }


# --------------------------------------------------------------------------- the register


class OutgoingRegister:
    def __init__(self, store: Store, numbering: Numbering = "common") -> None:
        self.store = store
        self.numbering = numbering

    def series(self, kind: str) -> str:
        """The series a document of this type is numbered in ("" under common numbering)."""
        return kind if self.numbering == "per_type" else ""

    def series_text(self, series: str) -> str:
        return f" ({series})" if series else ""

    # ------------------------------------------------------------------ writing

    def record(
        self, doc_id: str, batch_id: str, metadata: Mapping[str, Any], registered_at: datetime
    ) -> OutgoingEntry:
        """Enter a confirmed outgoing document; entering it again changes nothing."""
        read = _read_columns(metadata)
        day = read["issued_date"] or registered_at.date().isoformat()
        year = year_of(metadata, registered_at.date())
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO outgoing_register (doc_id, batch_id, year, number, kind,"
                " day, registered_at, code, issued_date, summary, signer, recipients, priority,"
                " pages, archive, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                " ?, ?)",
                (
                    doc_id, batch_id, year, read["number"], read["kind"], day,
                    registered_at.isoformat(timespec="seconds"), read["code"],
                    read["issued_date"], read["summary"], read["signer"], read["recipients"],
                    read["priority"], read["pages"], read["archive"], now_iso(),
                ),
            )  # fmt: skip
        return self.entry(doc_id)

    def correct(self, doc_id: str, metadata: Mapping[str, Any]) -> OutgoingEntry:
        """A refused document answered (sent again corrected, or scanned again):
        the columns read from its fields follow the answer's fields; the
        clerk's later columns stay (column 6 too, once the clerk wrote it)."""
        entry = self.entry(doc_id)
        read = _read_columns(metadata)
        year = year_of(metadata, entry.registered_at.date())
        day = read["issued_date"] or entry.registered_at.date().isoformat()
        archive = entry.archive or read["archive"]
        with self.store.transaction() as db:
            db.execute(
                "UPDATE outgoing_register SET year = ?, number = ?, kind = ?, day = ?, code = ?,"
                " issued_date = ?, summary = ?, signer = ?, recipients = ?, priority = ?,"
                " pages = ?, archive = ?, updated_at = ? WHERE doc_id = ?",
                (
                    year, read["number"], read["kind"], day, read["code"], read["issued_date"],
                    read["summary"], read["signer"], read["recipients"], read["priority"],
                    read["pages"], archive, now_iso(), doc_id,
                ),
            )  # fmt: skip
        return self.entry(doc_id)

    def update(self, doc_id: str, changes: Mapping[str, str], today: date) -> OutgoingEntry:
        """The clerk's changes to the columns in :data:`EDITABLE`, all or none.
        ``by_post`` is "1" (sent by post) or "" (not); a document sent by post
        goes in at least one envelope, on its Ngày chuyển (today, unless the
        clerk says otherwise)."""
        entry = self.entry(doc_id)
        values: dict[str, Any] = {}
        for key, raw in changes.items():
            if key not in EDITABLE:
                raise InputError(f"{key} cannot be changed here", f"không sửa được {key} ở đây")
            text = " ".join(str(raw).split())
            if key == "transfer_date":
                values[key] = (
                    past_day(text, today, 2000, "the date sent", "ngày chuyển").isoformat()
                    if text
                    else None
                )
            elif key in ("copies", "envelopes"):
                values[key] = _count(text, key)
            elif key == "by_post":
                values[key] = 1 if text in ("1", "on", "true") else 0
            elif len(text) > 500:
                raise InputError("at most 500 characters", "tối đa 500 ký tự")
            else:
                values[key] = text
        transfer = values.get("transfer_date", entry.transfer_date)
        if transfer is not None and entry.issued_date and str(transfer) < str(entry.issued_date):
            raise InputError(
                "a document is sent on or after its date",
                "ngày chuyển không thể trước ngày tháng văn bản",
            )
        by_post = values.get("by_post", int(entry.by_post))
        if by_post and values.get("envelopes", entry.envelopes) is None:
            values["envelopes"] = 1
        if by_post and transfer is None:  # marked as it goes to the post office
            values["transfer_date"] = today.isoformat()
        if values:
            sets = ", ".join(f"{key} = ?" for key in values)
            with self.store.transaction() as db:
                db.execute(
                    f"UPDATE outgoing_register SET {sets}, updated_at = ? WHERE doc_id = ?",  # noqa: S608
                    (*values.values(), now_iso(), doc_id),
                )
        return self.entry(doc_id)

    # ------------------------------------------------------------------ reading

    def has(self, doc_id: str) -> bool:
        return bool(self.store.query("SELECT 1 FROM outgoing_register WHERE doc_id = ?", (doc_id,)))

    def entry(self, doc_id: str) -> OutgoingEntry:
        rows = self.store.query("SELECT * FROM outgoing_register WHERE doc_id = ?", (doc_id,))
        if not rows:
            raise NotFound(f"{doc_id} is not in the outgoing register",
                           f"{doc_id} chưa vào sổ đi")  # fmt: skip
        return _entry(rows[0])

    def entries(self, start: date, end: date) -> list[OutgoingEntry]:
        """The entries whose day (the document's date) falls in [start, end], in
        number order within each year; those without a number last."""
        rows = self.store.query(
            "SELECT * FROM outgoing_register WHERE day BETWEEN ? AND ?"
            " ORDER BY year, number IS NULL, number, registered_at",
            (start.isoformat(), end.isoformat()),
        )
        return [_entry(r) for r in rows]

    def posted(self, start: date, end: date) -> list[OutgoingEntry]:
        """The entries sent by post whose Ngày chuyển (else their day) falls in
        [start, end], in the order they went."""
        rows = self.store.query(
            "SELECT * FROM outgoing_register WHERE by_post = 1"
            " AND coalesce(transfer_date, day) BETWEEN ? AND ?"
            " ORDER BY coalesce(transfer_date, day), year, number",
            (start.isoformat(), end.isoformat()),
        )
        return [_entry(r) for r in rows]

    def used(self, year: int, series: str, end: date | None = None) -> dict[int, list[str]]:
        """The numbers of a year's series in the register, with the documents
        holding each (up to ``end``, when given)."""
        rows = self.store.query(
            "SELECT doc_id, number, kind FROM outgoing_register WHERE year = ?"
            " AND number IS NOT NULL AND day <= ? ORDER BY number, registered_at",
            (year, (end or date.max).isoformat()),
        )
        found: dict[int, list[str]] = defaultdict(list)
        for row in rows:
            if self.series(row["kind"]) == series:
                found[row["number"]].append(row["doc_id"])
        return found

    def holder(self, year: int, series: str, number: int) -> OutgoingEntry | None:
        """The first entry holding a number of a year's series."""
        held = self.used(year, series).get(number)
        return self.entry(held[0]) if held else None

    def pending(self, batch_id: str) -> list[dict[str, Any]]:
        """The fields of the outgoing documents of the other batches not yet in
        the register (still under review): their numbers are taken."""
        rows = self.store.query(
            "SELECT d.metadata FROM review_docs d JOIN batches b ON b.id = d.batch_id"
            " WHERE b.direction = 'outgoing' AND d.batch_id != ?"
            " AND b.state NOT IN ('done', 'cancelled')"
            " AND d.doc_id NOT IN (SELECT doc_id FROM outgoing_register)",
            (batch_id,),
        )
        return [json.loads(row["metadata"]) for row in rows]

    def flags(self, start: date, end: date) -> list[Flag]:
        """Numbers skipped or used twice in the series of the years the period
        touches (up to its end), and entries of the period without a number."""
        shown = self.entries(start, end)
        found: list[Flag] = []
        for year, series in sorted({(e.year, self.series(e.kind)) for e in shown}):
            used = self.used(year, series, end)
            label = self.series_text(series)
            for first, last in runs(missing(used)):
                span = span_text(first, last)
                found.append(Flag(
                    "gap", year, (first, last), (),
                    f"Thiếu số {span}/{year}{label} trong sổ đi",
                    f"no. {span}/{year}{label} missing from the outgoing register",
                ))  # fmt: skip
            for number, doc_ids in used.items():
                if len(doc_ids) > 1:
                    found.append(Flag(
                        "repeat", year, (number,), tuple(doc_ids),
                        f"Số {number_text(number)}/{year}{label} dùng cho {len(doc_ids)} văn bản",
                        f"no. {number_text(number)}/{year}{label} is used by "
                        f"{len(doc_ids)} documents",
                    ))  # fmt: skip
        for entry in shown:
            if entry.number is None:
                what = entry.code or entry.summary[:60] or entry.doc_id
                found.append(Flag(
                    "no_number", entry.year, (), (entry.doc_id,),
                    f"Văn bản «{what}» vào sổ không có số",
                    f"document «{what}» was entered without a number",
                ))  # fmt: skip
        return found


def _count(text: str, key: str) -> int | None:
    if not text:
        return None
    if not re.fullmatch(r"\d{1,4}", text) or int(text) < 1:
        what = ("copies", "số lượng bản") if key == "copies" else ("envelopes", "số lượng bì")
        raise InputError(f"{what[0]} is a whole number from 1",
                         f"{what[1]} là một số nguyên từ 1")  # fmt: skip
    return int(text)


def _outgoing_row(entry: OutgoingEntry) -> list[Any]:
    return [note_cell(entry) if c.key == "note" else getattr(entry, c.key) for c in COLUMNS]


LAYOUT = Layout(
    title="SỔ ĐĂNG KÝ VĂN BẢN ĐI",
    sheet="Sổ đi",
    columns=COLUMNS,
    widths_mm=(28, 20, 58, 30, 38, 22, 14, 20, 19, 18),
    centred=("code", "issued_date", "copies", "transfer_date"),
    counted="văn bản đi",
    row=_outgoing_row,
)
POST_LAYOUT = Layout(
    title="SỔ GỬI VĂN BẢN ĐI BƯU ĐIỆN",
    sheet="Sổ gửi bưu điện",
    columns=POST_COLUMNS,
    widths_mm=(24, 34, 92, 20, 60, 37),
    centred=("transfer_date", "code", "envelopes"),
    counted="văn bản gửi qua bưu điện",
    row=lambda entry: [getattr(entry, c.key) for c in POST_COLUMNS],
    spans=False,  # its rows go by day, not by number
    stamped=("post_receipt",),
)
