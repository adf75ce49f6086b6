"""The register of secret documents received (Sổ đăng ký văn bản mật đến).

Decree 30/2020 registers secret documents apart from the others. A station on
a connected network never keeps or sends a secret document (Law 117/2025/QH15
on State Secrets, docs/security.md#state-secrets): what stays of one is this
minimal entry — its own Số đến (from 1 within each year), Ngày đến, the độ
mật, the issuing agency when it was read, the registration label it carried
and how it was found — and "Xử lý ngoài trạm" (handled off the station). No
subject, no number or symbol, no image.

The entries live in the store (table ``secret_register``) and are exported
like the Sổ đến (:data:`LAYOUT` for :mod:`station.records.register_export`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from station.errors import InputError, NotFound
from station.records.register import Column
from station.records.register_export import Layout
from station.records.vocabulary import SECRECY, priority_marks
from station.store import Store, now_iso

#: how a secret document is handled once the station stopped it
OFF_STATION = "Xử lý ngoài trạm"
#: how the secrecy was found: read on the page, or said by the clerk
FOUND_BY = {
    "read": ("đọc được dấu mật trên trang", "the mark was read on the page"),
    "clerk": ("văn thư đánh dấu văn bản mật", "the clerk marked it secret"),
}
COLUMNS: tuple[Column, ...] = (
    Column("arrival_date", "Ngày đến", "Date received"),
    Column("number", "Số đến", "Arrival no."),
    Column("level", "Độ mật", "Secrecy"),
    Column("author", "Tác giả", "Issuing agency"),
    Column("label", "Nhãn số đến đã dán", "Label it carried"),
    Column("handling", "Xử lý", "Handling"),
)


@dataclass(frozen=True)
class SecretEntry:
    id: int
    year: int
    number: int
    arrival_date: date
    registered_at: datetime
    level: str
    author: str
    label: str
    batch_id: str
    found_by: str
    handling: str
    seen: bool

    def cell(self, key: str) -> str:
        value = getattr(self, key)
        if isinstance(value, date):
            return f"{value:%d/%m/%Y}"
        return str(value)

    def to_json(self) -> dict[str, Any]:
        return {
            "number": self.number,
            "year": self.year,
            "arrival_date": self.arrival_date.isoformat(),
            "registered_at": self.registered_at.isoformat(),
            "level": self.level,
            "author": self.author,
            "label": self.label,
            "batch_id": self.batch_id,
            "found_by": self.found_by,
            "handling": self.handling,
            "seen": self.seen,
        }


def _entry(row: Any) -> SecretEntry:
    return SecretEntry(
        id=row["id"],
        year=row["year"],
        number=row["number"],
        arrival_date=date.fromisoformat(row["arrival_date"]),
        registered_at=datetime.fromisoformat(row["registered_at"]),
        level=row["level"],
        author=row["author"] or "",
        label=row["label"] or "",
        batch_id=row["batch_id"],
        found_by=row["found_by"],
        handling=row["handling"],
        seen=row["seen_at"] is not None,
    )


def secrecy_level(text: str | None) -> str | None:
    """The secrecy mark of a Priority value ("Mật, Hỏa tốc" → "Mật"), or None."""
    return priority_marks(text)[0] or None


def checked_level(level: str) -> str:
    """A secrecy level as the clerk chose it: one of :data:`SECRECY`."""
    if level not in SECRECY:
        raise InputError(
            f"the secrecy level is one of {', '.join(SECRECY)}",
            f"độ mật là một trong {', '.join(SECRECY)}",
        )
    return level


class SecretRegister:
    def __init__(self, store: Store) -> None:
        self.store = store

    def record(
        self,
        level: str,
        arrival: date,
        *,
        batch_id: str,
        doc_id: str,
        found_by: str,
        author: str = "",
        label: str | None = None,
        registered_at: datetime,
    ) -> SecretEntry:
        """Enter a stopped secret document with the next Số đến of its year."""
        checked_level(level)
        if found_by not in FOUND_BY:
            raise ValueError(f"found_by is one of {sorted(FOUND_BY)}")
        with self.store.transaction() as db:
            number = db.execute(
                "SELECT coalesce(max(number), 0) + 1 FROM secret_register WHERE year = ?",
                (arrival.year,),
            ).fetchone()[0]
            cursor = db.execute(
                "INSERT INTO secret_register (year, number, arrival_date, registered_at, level,"
                " author, label, batch_id, doc_id, found_by, handling) VALUES (?, ?, ?, ?, ?, ?,"
                " ?, ?, ?, ?, ?)",
                (
                    arrival.year, number, arrival.isoformat(),
                    registered_at.isoformat(timespec="seconds"), level, author.strip()[:300],
                    label, batch_id, doc_id, found_by, OFF_STATION,
                ),
            )  # fmt: skip
            row_id = cursor.lastrowid
        return self.entry(int(row_id or 0))

    def entry(self, entry_id: int) -> SecretEntry:
        rows = self.store.query("SELECT * FROM secret_register WHERE id = ?", (entry_id,))
        if not rows:
            raise NotFound(
                f"no entry {entry_id} in the secret register",
                f"không có mục {entry_id} trong sổ văn bản mật",
            )
        return _entry(rows[0])

    def entries(self, start: date, end: date) -> list[SecretEntry]:
        """The entries whose Ngày đến falls in [start, end], in Số đến order."""
        rows = self.store.query(
            "SELECT * FROM secret_register WHERE arrival_date BETWEEN ? AND ?"
            " ORDER BY year, number",
            (start.isoformat(), end.isoformat()),
        )
        return [_entry(r) for r in rows]

    def of_batch(self, batch_id: str) -> list[SecretEntry]:
        """The secret documents stopped in a batch, for its review screen."""
        rows = self.store.query(
            "SELECT * FROM secret_register WHERE batch_id = ? ORDER BY id", (batch_id,)
        )
        return [_entry(r) for r in rows]

    def still_in_review(self) -> list[str]:
        """Registered documents whose draft is still in a review: their stop was
        cut off before the erasure (a power cut)."""
        rows = self.store.query(
            "SELECT s.doc_id FROM secret_register s JOIN review_docs d ON d.doc_id = s.doc_id"
        )
        return [row["doc_id"] for row in rows]

    def registered(self, doc_id: str) -> bool:
        """Whether this document was entered as secret (stopped, or being stopped)."""
        rows = self.store.query("SELECT 1 FROM secret_register WHERE doc_id = ?", (doc_id,))
        return bool(rows)

    def unseen(self) -> list[SecretEntry]:
        """Stopped documents whose notice the clerk has not acknowledged yet."""
        rows = self.store.query("SELECT * FROM secret_register WHERE seen_at IS NULL ORDER BY id")
        return [_entry(r) for r in rows]

    def seen(self, entry_id: int, author: str = "") -> SecretEntry:
        """The clerk read the notice and takes the paper document off the station;
        ``author``, the issuing agency the clerk read off the paper, fills the
        entry's Tác giả when the station had not read it (a mark found on the
        page stops the document before its header is read)."""
        entry = self.entry(entry_id)
        author = " ".join(author.split())[:300]
        with self.store.transaction() as db:
            db.execute(
                "UPDATE secret_register SET seen_at = coalesce(seen_at, ?) WHERE id = ?",
                (now_iso(), entry_id),
            )
            if author and not entry.author:
                db.execute("UPDATE secret_register SET author = ? WHERE id = ?", (author, entry_id))
        return self.entry(entry_id)


LAYOUT = Layout(
    title="SỔ ĐĂNG KÝ VĂN BẢN MẬT ĐẾN",
    sheet="Sổ văn bản mật đến",
    columns=COLUMNS,
    widths_mm=(30, 20, 30, 80, 50, 57),
    centred=("arrival_date", "number", "level"),
    counted="văn bản mật đến",
    row=lambda entry: [getattr(entry, c.key) for c in COLUMNS],
)
