"""The store's SQLite connection: opened in WAL mode with ``synchronous=FULL``,
checked whole (station/store/check.py), migrated (station/store/schema.py), and
its one write boundary, :meth:`Connection.transaction`, where a database that
cannot grow (the disk is full) becomes :class:`~station.errors.StorageFull`.

One connection serves every thread, behind one re-entrant lock.
"""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Self

from station.common.dbutil import immediate
from station.common.fsutil import full_disk
from station.errors import StorageError
from station.store import check as storecheck
from station.store import schema

logger = logging.getLogger("scanstation.store")

#: how long a statement waits for another process's lock
BUSY_TIMEOUT_MS = 30_000
#: how many times :meth:`Connection.scrub` tries to empty the log, and the wait between two
SCRUB_TRIES = 5
SCRUB_WAIT_S = 0.2


def now_iso() -> str:
    """The time as every table of the store records it (UTC, milliseconds, ``Z``)."""
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Connection:
    """The database of a store, open, whole and at the latest schema version."""

    def __init__(self, db_path: Path) -> None:
        self.db_path = db_path
        self._lock = threading.RLock()
        #: whether the write-ahead log may still hold what was deleted: a
        #: scrub found it busy, or the store was just opened (the process
        #: before may have ended first); the retention's runs scrub it then
        self.scrub_due = True
        try:
            self._db = sqlite3.connect(
                self.db_path,
                check_same_thread=False,
                isolation_level=None,
                timeout=BUSY_TIMEOUT_MS / 1000,
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

    def scrub(self) -> bool:
        """Move the write-ahead log into the database and empty it, so what was
        deleted (overwritten there: ``secure_delete``) is in no copy on disk.

        A reader in another process (``scanstation register``, a backup) that
        holds an older snapshot, or a writer, keeps the log from being emptied:
        SQLite then answers busy. The checkpoint is tried :data:`SCRUB_TRIES`
        times, :data:`SCRUB_WAIT_S` apart, each without waiting on SQLite's
        busy timeout (the station's threads are not held up meanwhile). True
        when the log was emptied; else :attr:`scrub_due` stays set and the
        next scrub tries again (a later stop; the retention's next run)."""
        for attempt in range(SCRUB_TRIES):
            if attempt:
                time.sleep(SCRUB_WAIT_S)
            busy, frames, moved = self._checkpoint()
            if not busy:
                self.scrub_due = False
                return True
            logger.info("the write-ahead log is busy (%d frames, %d moved)", frames, moved)
        self.scrub_due = True
        return False

    def _checkpoint(self) -> tuple[int, int, int]:
        """One ``wal_checkpoint(TRUNCATE)`` that does not wait: (busy, frames in
        the log, frames moved into the database), as SQLite answers."""
        with self._lock:
            self._db.execute("PRAGMA busy_timeout = 0")
            try:
                row = self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode & 0xFF not in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED):
                    raise
                return 1, -1, -1
            finally:
                self._db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        return int(row[0]), int(row[1]), int(row[2])

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        """The rows a read returns."""
        with self._lock:
            return self._db.execute(sql, params).fetchall()
