"""What the station's store and the fleet's history share about SQLite."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def immediate(db: sqlite3.Connection, lock: threading.RLock) -> Iterator[sqlite3.Connection]:
    """One write transaction (BEGIN IMMEDIATE), rolled back on any error, a
    failed COMMIT included (a full disk): a transaction is never left open to
    refuse every later BEGIN. The connection runs in autocommit mode
    (``isolation_level=None``)."""
    with lock:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
