"""The incoming register (Sổ đăng ký văn bản đến, Decree 30/2020 Phụ lục IV).

Every confirmed document gets an entry with the register's ten columns
(docs/decree30.md#register). The station fills what it knows: Ngày đến (the day the document was
scanned, which the clerk may correct), Số đến (the number on its registration
label), Tác giả (the issuing agency), Số và ký hiệu, Ngày tháng văn bản and Tên
loại và trích yếu (from the header fields the clerk checked). The clerk adds
the rest as the document moves on: Đơn vị hoặc người nhận, Ngày chuyển, Ký nhận,
Ghi chú.

Số đến runs from 1 within each year (the label's year). :meth:`Register.flags`
points out what a paper register would hide: numbers skipped or used twice,
labels of another year, and documents registered later than the next working
day after they arrived (urgent ones, Hỏa tốc, Thượng khẩn, Khẩn, the same day).

The entries live in the station's store (table ``register``), so they survive
restarts and power cuts; :mod:`station.records.register_export` prints and exports them.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from station.errors import InputError, NotFound
from station.records.vocabulary import SECRECY, URGENCY
from station.store import Store, now_iso


@dataclass(frozen=True)
class Column:
    key: str
    vi: str
    en: str


#: the register's columns, in the paper register's order (Phụ lục IV)
COLUMNS: tuple[Column, ...] = (
    Column("arrival_date", "Ngày đến", "Date received"),
    Column("number", "Số đến", "Arrival no."),
    Column("author", "Tác giả", "Issuing agency"),
    Column("code", "Số, ký hiệu", "Number, symbol"),
    Column("issued_date", "Ngày tháng", "Date of document"),
    Column("summary", "Tên loại và trích yếu nội dung", "Type and summary"),
    Column("recipient", "Đơn vị hoặc người nhận", "Unit or person receiving"),
    Column("transfer_date", "Ngày chuyển", "Date passed on"),
    Column("received_by", "Ký nhận", "Signed for by"),
    Column("note", "Ghi chú", "Notes"),
)
#: what the clerk may change once the document is registered
EDITABLE = ("arrival_date", "recipient", "transfer_date", "received_by", "note")
#: national holidays on fixed dates (Labour Code 2019, Art. 112); lunar ones
#: (Tết, the Hùng Kings' day) and moved days come from ``[incoming] holidays``
FIXED_HOLIDAYS = ((1, 1), (4, 30), (5, 1), (9, 2))


class Marked:
    """A register's row with a ``priority`` ("Mật, Khẩn"): its marks for the
    Ghi chú, and its columns as the paper register shows them."""

    priority: str

    @property
    def secrecy(self) -> list[str]:
        return [m for m in _marks(self.priority) if m in SECRECY]

    @property
    def urgency(self) -> list[str]:
        return [m for m in _marks(self.priority) if m in URGENCY]

    def cell(self, key: str) -> str:
        """A column's text as the paper register shows it (dates dd/mm/yyyy)."""
        value = getattr(self, key)
        if value is None:
            return ""
        if isinstance(value, date):
            return f"{value:%d/%m/%Y}"
        return str(value)


@dataclass(frozen=True)
class Entry(Marked):
    doc_id: str
    batch_id: str
    registration: str
    year: int
    number: int
    arrival_date: date
    registered_at: datetime
    author: str
    code: str
    issued_date: date | None
    summary: str
    priority: str
    recipient: str
    transfer_date: date | None
    received_by: str
    note: str

    def to_json(self) -> dict[str, Any]:
        return {
            "doc_id": self.doc_id,
            "registration": self.registration,
            "year": self.year,
            "number": self.number,
            "arrival_date": self.arrival_date.isoformat(),
            "registered_at": self.registered_at.isoformat(),
            "author": self.author,
            "code": self.code,
            "issued_date": self.issued_date.isoformat() if self.issued_date else None,
            "summary": self.summary,
            "priority": self.priority,
            "recipient": self.recipient,
            "transfer_date": self.transfer_date.isoformat() if self.transfer_date else None,
            "received_by": self.received_by,
            "note": self.note,
        }


@dataclass(frozen=True)
class Flag:
    """Something the register's keeper must look at."""

    code: str  # gap, repeat, wrong_year, late
    year: int
    #: a gap: its first and last missing number; otherwise the numbers concerned
    numbers: tuple[int, ...]
    doc_ids: tuple[str, ...]
    message_vi: str
    message_en: str


def _marks(priority: str) -> list[str]:
    return [m.strip() for m in priority.split(",") if m.strip()]


def summary_of(metadata: Mapping[str, Any]) -> str:
    """Tên loại và trích yếu: "Quyết định về việc …", "Công văn về việc …"."""
    kind = str(metadata.get("TypeName") or "").strip()
    subject = str(metadata.get("Subject") or "").strip()
    if kind and subject[:2].lower() == "về":
        return f"{kind} {subject[0].lower()}{subject[1:]}"
    return ": ".join(part for part in (kind, subject) if part)


def code_of(metadata: Mapping[str, Any]) -> str:
    """Số và ký hiệu: "45/QĐ-VKS"."""
    parts = [str(metadata.get(k) or "").strip() for k in ("CodeNumber", "CodeNotation")]
    return "/".join(part for part in parts if part)


def arrival_number(registration: str, pattern: str) -> tuple[int, int]:
    """(year, Số đến) from a registration label."""
    found = re.fullmatch(pattern, registration)
    if found is None:
        raise InputError(
            f"{registration!r} is not a registration label",
            f"{registration!r} không phải nhãn số đến",
        )
    return int(found.group("year")), int(found.group("number"))


def is_working_day(day: date, holidays: Iterable[date] = ()) -> bool:
    return (
        day.weekday() < 5
        and (day.month, day.day) not in FIXED_HOLIDAYS
        and (day not in set(holidays))
    )


def next_working_day(day: date, holidays: Iterable[date] = ()) -> date:
    off = set(holidays)
    following = day + timedelta(days=1)
    while not is_working_day(following, off):
        following += timedelta(days=1)
    return following


def registered_late(
    arrival: date, registered: date, urgent: bool, holidays: Iterable[date] = ()
) -> bool:
    """Decree 30: the same day, or the next working day; urgent documents at once."""
    if urgent:
        return registered > arrival
    return registered > next_working_day(arrival, holidays)


def typed_day(text: str) -> date:
    """A day as the clerk types it: dd/mm/yyyy (the way Vietnamese write dates,
    also with "-" or "." and one-digit days and months), or YYYY-MM-DD."""
    found = re.fullmatch(r"\s*(\d{1,2})\s*[/.-]\s*(\d{1,2})\s*[/.-]\s*(\d{4})\s*", text)
    try:
        if found:
            return date(int(found[3]), int(found[2]), int(found[1]))
        return date.fromisoformat(text.strip())
    except ValueError:
        raise InputError(
            "a date is day/month/year, e.g. 06/03/2024",
            "ngày có dạng ngày/tháng/năm, ví dụ 06/03/2024",
        ) from None


def day_text(value: date | str | None) -> str:
    """A day as the screens show it: dd/mm/yyyy; "" for none."""
    if value is None or value == "":
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value))
    return f"{day:%d/%m/%Y}"


def past_day(text: str, today: date, earliest: int, what_en: str, what_vi: str) -> date:
    """A day the clerk typed (:func:`typed_day`): real, not after today, not before ``earliest``."""
    day = typed_day(text)
    if day > today or day.year < earliest:
        raise InputError(f"{what_en} cannot be in the future", f"{what_vi} không thể ở tương lai")
    return day


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _entry(row: Any) -> Entry:
    return Entry(
        doc_id=row["doc_id"],
        batch_id=row["batch_id"],
        registration=row["registration"],
        year=row["year"],
        number=row["number"],
        arrival_date=date.fromisoformat(row["arrival_date"]),
        registered_at=datetime.fromisoformat(row["registered_at"]),
        author=row["author"] or "",
        code=row["code"] or "",
        issued_date=_date(row["issued_date"]),
        summary=row["summary"] or "",
        priority=row["priority"] or "",
        recipient=row["recipient"],
        transfer_date=_date(row["transfer_date"]),
        received_by=row["received_by"],
        note=row["note"],
    )


class Register:
    def __init__(self, store: Store, holidays: Iterable[date] = ()) -> None:
        self.store = store
        self.holidays = frozenset(holidays)

    # ------------------------------------------------------------------ writing

    def record(
        self,
        doc_id: str,
        batch_id: str,
        registration: str,
        pattern: str,
        metadata: Mapping[str, Any],
        arrival: date,
        registered_at: datetime,
    ) -> Entry:
        """Enter a confirmed document; entering it again changes nothing."""
        year, number = arrival_number(registration, pattern)
        issued = metadata.get("IssuedDate")
        with self.store.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO register (doc_id, batch_id, registration, year, number,"
                " arrival_date, registered_at, author, code, issued_date, summary, priority,"
                " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    doc_id, batch_id, registration, year, number, arrival.isoformat(),
                    registered_at.isoformat(timespec="seconds"),
                    str(metadata.get("OrganName") or ""), code_of(metadata),
                    str(issued) if issued else None, summary_of(metadata),
                    str(metadata.get("Priority") or ""), now_iso(),
                ),
            )  # fmt: skip
        return self.entry(doc_id)

    def correct(self, doc_id: str, metadata: Mapping[str, Any]) -> Entry:
        """A refused document answered (sent again corrected, or scanned again
        under its label): the columns read from its fields follow the answer's
        fields; the Số đến, Ngày đến and the clerk's later columns stay."""
        issued = metadata.get("IssuedDate")
        with self.store.transaction() as db:
            db.execute(
                "UPDATE register SET author = ?, code = ?, issued_date = ?, summary = ?,"
                " priority = ?, updated_at = ? WHERE doc_id = ?",
                (
                    str(metadata.get("OrganName") or ""), code_of(metadata),
                    str(issued) if issued else None, summary_of(metadata),
                    str(metadata.get("Priority") or ""), now_iso(), doc_id,
                ),
            )  # fmt: skip
        return self.entry(doc_id)

    def update(self, doc_id: str, changes: Mapping[str, str], today: date) -> Entry:
        """The clerk's changes to the columns in :data:`EDITABLE`, all or none."""
        entry = self.entry(doc_id)
        values: dict[str, Any] = {}
        for key, raw in changes.items():
            if key not in EDITABLE:
                raise InputError(f"{key} cannot be changed here", f"không sửa được {key} ở đây")
            text = " ".join(str(raw).split())
            if key in ("arrival_date", "transfer_date"):
                values[key] = self._checked_date(key, text, today)
            elif len(text) > 500:
                raise InputError("at most 500 characters", "tối đa 500 ký tự")
            else:
                values[key] = text
        arrival = values.get("arrival_date", entry.arrival_date.isoformat())
        if arrival is None:
            raise InputError("Ngày đến is required", "cần có ngày đến")
        transfer = values.get("transfer_date", entry.transfer_date)
        if transfer is not None and str(transfer) < str(arrival):
            raise InputError(
                "a document is passed on after it arrived",
                "ngày chuyển không thể trước ngày đến",
            )
        if values:
            sets = ", ".join(f"{key} = ?" for key in values)
            with self.store.transaction() as db:
                db.execute(
                    f"UPDATE register SET {sets}, updated_at = ? WHERE doc_id = ?",  # noqa: S608
                    (*values.values(), now_iso(), doc_id),
                )
        return self.entry(doc_id)

    @staticmethod
    def _checked_date(key: str, text: str, today: date) -> str | None:
        if not text:
            return None
        if key == "arrival_date":
            return past_day(text, today, 2000, "the date received", "ngày đến").isoformat()
        return past_day(text, today, 2000, "the date passed on", "ngày chuyển").isoformat()

    # ------------------------------------------------------------------ reading

    def entry(self, doc_id: str) -> Entry:
        rows = self.store.query("SELECT * FROM register WHERE doc_id = ?", (doc_id,))
        if not rows:
            raise NotFound(f"{doc_id} is not in the register", f"{doc_id} chưa vào sổ đến")
        return _entry(rows[0])

    def entries(self, start: date, end: date) -> list[Entry]:
        """The entries whose Ngày đến falls in [start, end], in Số đến order."""
        rows = self.store.query(
            "SELECT * FROM register WHERE arrival_date BETWEEN ? AND ?"
            " ORDER BY year, number, registered_at",
            (start.isoformat(), end.isoformat()),
        )
        return [_entry(r) for r in rows]

    def numbers(self, year: int) -> list[int]:
        """The Số đến of a year in the register, in order."""
        rows = self.store.query(
            "SELECT DISTINCT number FROM register WHERE year = ? ORDER BY number", (year,)
        )
        return [row["number"] for row in rows]

    def holding(self, registration: str) -> Entry | None:
        """The entry that already uses this label, if any."""
        rows = self.store.query(
            "SELECT * FROM register WHERE registration = ? ORDER BY registered_at LIMIT 1",
            (registration,),
        )
        return _entry(rows[0]) if rows else None

    def flags(self, start: date, end: date) -> list[Flag]:
        """Gaps and repeats in the Số đến of the years the period touches (up to its
        end), labels of another year, and late registrations within the period."""
        shown = self.entries(start, end)
        found: list[Flag] = []
        for year in sorted({e.year for e in shown}):
            rows = self.store.query(
                "SELECT doc_id, number FROM register WHERE year = ? AND arrival_date <= ?"
                " ORDER BY number",
                (year, end.isoformat()),
            )
            used: dict[int, list[str]] = defaultdict(list)
            for row in rows:
                used[row["number"]].append(row["doc_id"])
            found += gaps(year, sorted(used))
            for number, doc_ids in used.items():
                if len(doc_ids) > 1:
                    found.append(Flag(
                        "repeat", year, (number,), tuple(doc_ids),
                        f"Số đến {number}/{year} dùng cho {len(doc_ids)} văn bản",
                        f"arrival no. {number}/{year} is used by {len(doc_ids)} documents",
                    ))  # fmt: skip
        for entry in shown:
            other = wrong_year(entry.registration, entry.year, entry.number, entry.arrival_date)
            if other is not None:
                found.append(Flag(other.code, other.year, other.numbers, (entry.doc_id,),
                                  other.message_vi, other.message_en))  # fmt: skip
            registered = entry.registered_at.date()
            urgent = bool(entry.urgency)
            if registered_late(entry.arrival_date, registered, urgent, self.holidays):
                due = (
                    entry.arrival_date
                    if urgent
                    else next_working_day(entry.arrival_date, self.holidays)
                )
                found.append(Flag(
                    "late", entry.year, (entry.number,), (entry.doc_id,),
                    f"Số đến {entry.number}: vào sổ ngày {registered:%d/%m/%Y}, chậm hơn hạn "
                    f"{due:%d/%m/%Y}" + (" (văn bản khẩn)" if urgent else ""),
                    f"arrival no. {entry.number}: registered on {registered:%d/%m/%Y}, after "
                    f"the due day {due:%d/%m/%Y}" + (" (urgent)" if urgent else ""),
                ))  # fmt: skip
        return found


def wrong_year(registration: str, year: int, number: int, arrival: date) -> Flag | None:
    """A label of another year than the day its document arrived (the Số đến
    starts again at 1 each year), or None."""
    if year == arrival.year:
        return None
    return Flag(
        "wrong_year", year, (number,), (),
        f"Nhãn {registration} của năm {year} dùng cho văn bản đến năm {arrival.year}",
        f"label {registration} of {year} used for a document that arrived in {arrival.year}",
    )  # fmt: skip


def gaps(year: int, numbers: list[int]) -> list[Flag]:
    """Runs of numbers missing below the highest one used (the year starts at 1)."""
    flags = []
    expected = 1
    for number in numbers:
        if number > expected:
            first, last = expected, number - 1
            span = f"{first}" if first == last else f"{first}-{last}"
            flags.append(Flag(
                "gap", year, (first, last), (),
                f"Thiếu số đến {span}/{year} (nhãn bị bỏ qua?)",
                f"arrival no. {span}/{year} missing (a skipped label?)",
            ))  # fmt: skip
        expected = max(expected, number + 1)
    return flags
