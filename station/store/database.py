"""The durable store: SQLite (WAL) plus a spool folder. The single source of truth.

Layout under ``data_dir``::

    store.sqlite3          batches, pages, documents, events, counters, the outbox
    spool/{batch_id}/      p00001.png, p00002.jpg, … (one file per captured frame)
    .lock                  held by the process that owns the store (the daemon or a scan)

:class:`Store` is the connection (station/store/connection.py) with the batches,
their pages and their state machine (station/store/batches.py), the documents on
file and the counters; it hands the outbox to ``store.outbox``
(station/store/outbox.py) and the event log to ``store.events``
(station/store/events.py). The review and the register keep their own tables
through :meth:`Store.transaction` and :meth:`Store.query`.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
from pathlib import Path
from typing import Any

from station.common.fsutil import storage_error
from station.errors import StorageError
from station.store.batches import Batches
from station.store.connection import now_iso
from station.store.events import EventLog
from station.store.outbox import Outbox

logger = logging.getLogger("scanstation.store")


def duplicate_key(metadata: dict[str, Any]) -> str | None:
    """Number + symbol + issuing agency, compared without case or spacing
    ("07" and "7" are one number); None when any of them is unknown."""
    number, notation, organ = (
        metadata.get("CodeNumber"),
        metadata.get("CodeNotation"),
        metadata.get("OrganName"),
    )
    if not number or not notation or not organ or not str(number).isdigit():
        return None
    squeeze = "".join(str(organ).split()).casefold()
    return f"{int(number)}|{''.join(str(notation).split()).casefold()}|{squeeze}"


class Store(Batches):
    """Access to the station's database and spool. Thread-safe (one lock)."""

    def __init__(self, data_dir: Path, *, min_free_bytes: int = 0, owner: bool = False) -> None:
        self.data_dir = data_dir
        self._lock_fd: int | None = None
        spool = data_dir / "spool"
        try:
            spool.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error(exc, spool) from exc
        if owner:
            self._take_ownership()
        super().__init__(data_dir / "store.sqlite3", spool, min_free_bytes)
        #: documents to deliver, acknowledged segments, receipts
        self.outbox = Outbox(self)
        #: the event log
        self.events = EventLog(self)
        #: whether ``storage.wal_busy`` was raised and not yet cleared
        self._wal_busy_told = False

    # ------------------------------------------------------------------ lifecycle

    def _take_ownership(self) -> None:
        path = self.data_dir / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StorageError(
                f"the store {self.data_dir} is in use by another process (pid {holder})",
                f"Kho dữ liệu {self.data_dir} đang được tiến trình khác dùng (pid {holder})",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def close(self) -> None:
        with self._lock:
            super().close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    # ------------------------------------------------------------------ erasure

    def scrub(self) -> bool:
        """:meth:`Connection.scrub`, told: a log that stays busy raises the
        event ``storage.wal_busy`` (warning, ``active`` true) once, and the
        scrub that empties it later the same event as info (``active`` false)."""
        done = super().scrub()
        if not done:
            logger.warning("the store's write-ahead log could not be emptied: tried again later")
        if done == self._wal_busy_told:
            if done:
                self.events.add(
                    "storage.wal_busy",
                    "info",
                    "Đã làm trống nhật ký ghi (WAL) của kho dữ liệu",
                    "The store's write-ahead log was emptied",
                    {"active": False},
                )
            else:
                self.events.add(
                    "storage.wal_busy",
                    "warning",
                    "Không làm trống được nhật ký ghi (WAL) của kho dữ liệu vì một chương trình "
                    "khác đang đọc kho; dữ liệu đã xoá có thể còn trong đó đến lần thử sau",
                    "The store's write-ahead log could not be emptied: another program is "
                    "reading the store; what was erased may stay in it until the next try",
                    {"active": True},
                )
            self._wal_busy_told = not done
        return done

    # ------------------------------------------------------------------ documents

    def add_document(
        self,
        doc_id: str,
        batch_id: str,
        registration: str | None,
        pdf: str | None,
        metadata: dict[str, Any],
    ) -> None:
        """Record a document (again: its latest metadata wins)."""
        with self.transaction() as db:
            db.execute(
                "INSERT INTO documents (id, batch_id, registration, pdf, metadata, duplicate_key,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " registration = excluded.registration, pdf = excluded.pdf,"
                " metadata = excluded.metadata, duplicate_key = excluded.duplicate_key",
                (
                    doc_id,
                    batch_id,
                    registration,
                    pdf,
                    json.dumps(metadata, ensure_ascii=False),
                    duplicate_key(metadata),
                    now_iso(),
                ),
            )

    def same_documents(self, metadata: dict[str, Any], exclude: str = "") -> list[dict[str, Any]]:
        """Documents on file with the same number, symbol and issuing agency."""
        key = duplicate_key(metadata)
        if key is None:
            return []
        rows = self.query(
            "SELECT id, batch_id, registration, created_at FROM documents"
            " WHERE duplicate_key = ? AND id != ? ORDER BY created_at",
            (key, exclude),
        )
        return [dict(row) for row in rows]

    # ------------------------------------------------------------------ statistics

    def digitized_by_month(self, since: str) -> dict[str, dict[str, int]]:
        """Documents and their pages recorded per month (``YYYY-MM``, Vietnam
        time) from the month ``since`` on, and of the documents those received
        and those sent (``Direction``; a document recorded before it was received)."""
        rows = self.query(
            "SELECT substr(datetime(created_at, '+7 hours'), 1, 7) AS month,"
            " count(*) AS documents,"
            " coalesce(sum(json_extract(metadata, '$.PageAmount')), 0) AS pages,"
            " count(*) FILTER (WHERE json_extract(metadata, '$.Direction') = 'outgoing')"
            " AS outgoing"
            " FROM documents GROUP BY month HAVING month >= ? ORDER BY month",
            (since,),
        )
        return {
            r["month"]: {
                "documents": r["documents"],
                "pages": int(r["pages"]),
                "incoming": r["documents"] - r["outgoing"],
                "outgoing": r["outgoing"],
            }
            for r in rows
        }

    # ------------------------------------------------------------------ counters

    def bump_counter(self, name: str) -> int:
        """Add one to a counter and return its new value."""
        with self.transaction() as db:
            row = db.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1)"
                " ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
                (name,),
            ).fetchone()
        return int(row[0])

    def counters(self) -> dict[str, int]:
        rows = self.query("SELECT name, value FROM counters")
        return {r["name"]: r["value"] for r in rows}

    def reset_counter(self, name: str) -> None:
        with self.transaction() as db:
            db.execute(
                "INSERT INTO counters (name, value) VALUES (?, 0)"
                " ON CONFLICT(name) DO UPDATE SET value = 0",
                (name,),
            )
