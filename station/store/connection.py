"""The store's SQLite connection: opened in WAL mode with ``synchronous=FULL``,
checked whole (station/store/check.py), migrated (station/store/schema.py), and
its one write boundary, :meth:`Connection.transaction`, where a database that
cannot grow (the disk is full) becomes :class:`~station.errors.StorageFull`.

One connection serves every thread, behind one re-entrant lock.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from station.common.dbutil import immediate
from station.common.fsutil import full_disk
from station.errors import StorageError
from station.store import check as storecheck
from station.store import schema


def now_iso() -> str:
    """The time as every table of the store records it (UTC, milliseconds, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Connection:
    """The database of a store, open, whole and at the latest schema version."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._lock = threading.RLock()
        try:
            self._db = sqlite3.connect(
                self.db_path, check_same_thread=False, isolation_level=None, timeout=30
            )
        except sqlite3.Error as exc:
            raise StorageError(
                f"cannot open the store {self.db_path}: {exc}",
                f"Không mở được kho dữ liệu {self.db_path}: {exc}",
            ) from exc
        self._db.row_factory = sqlite3.Row
        try:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.execute("PRAGMA foreign_keys=ON")
            # what is deleted is overwritten with zeros, not left in free pages
            # (a secret document's rows, docs/security.md#state-secrets)
            self._db.execute("PRAGMA secure_delete=ON")
            problems = storecheck.quick_check(self._db)
            if not problems:
                with self._lock:
                    schema.migrate(self._db, self.transaction)
        except sqlite3.DatabaseError as exc:  # not a database at all, or cut short
            problems = [str(exc)]
        if problems:
            self.close()
            raise storecheck.damaged(self.db_path, problems)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction; a database that cannot grow (the disk is full)
        raises :class:`~station.errors.StorageFull`, like the spool's writes."""
        try:
            with immediate(self._db, self._lock) as db:
                yield db
        except sqlite3.Error as exc:
            full = full_disk(exc, self.db_path)
            if full is None:
                raise
            raise full from exc

    def scrub(self) -> None:
        """Move the write-ahead log into the database and empty it, so what was
        deleted (overwritten there: ``secure_delete``) is in no copy on disk."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """The rows a read returns."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()
