"""The event log: what happened at the station (a paper jam, a full disk, a
failed signature), in Vietnamese and English, kept until telemetry has handed
each event to the broker (``published``). ``store.events`` is the one way in.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from station.store.connection import Connection, now_iso


@dataclass(frozen=True)
class Event:
    id: int
    ts: str
    type: str
    severity: str
    message_vi: str
    message_en: str
    detail: dict[str, Any]
    published: bool

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Event:
        return cls(
            id=row["id"],
            ts=row["ts"],
            type=row["type"],
            severity=row["severity"],
            message_vi=row["message_vi"],
            message_en=row["message_en"],
            detail=json.loads(row["detail"]),
            published=bool(row["published"]),
        )


class EventLog:
    """The ``events`` table of a store."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def add(
        self,
        type_: str,
        severity: str,
        message_vi: str,
        message_en: str,
        detail: dict[str, Any] | None = None,
        *,
        within: sqlite3.Connection | None = None,
    ) -> Event:
        """Record an event; ``within`` an open transaction, it is committed with
        the change it tells of (or not at all)."""
        row = (
            now_iso(),
            type_,
            severity,
            message_vi,
            message_en,
            json.dumps(detail or {}, ensure_ascii=False, default=str),
        )
        insert = (
            "INSERT INTO events (ts, type, severity, message_vi, message_en, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)"
        )
        if within is not None:
            event_id = within.execute(insert, row).lastrowid
        else:
            with self._db.transaction() as db:
                event_id = db.execute(insert, row).lastrowid
        assert event_id is not None
        return self.since(event_id - 1, limit=1)[0]

    def since(self, since_id: int = 0, limit: int = 100) -> list[Event]:
        """Events after ``since_id``, oldest first."""
        rows = self._db.query(
            "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (since_id, limit)
        )
        return [Event.from_row(r) for r in rows]

    def unpublished(self, limit: int = 100) -> list[Event]:
        """Events not yet handed to the broker, oldest first."""
        row = self._db.query("SELECT min(id) FROM events WHERE published = 0")[0]
        if row[0] is None:
            return []
        return [e for e in self.since(row[0] - 1, limit=limit) if not e.published]

    def mark_published(self, event_id: int) -> None:
        with self._db.transaction() as db:
            db.execute("UPDATE events SET published = 1 WHERE id = ?", (event_id,))

    def last_id(self) -> int:
        """The id of the latest event (0 when there is none)."""
        return int(self._db.query("SELECT coalesce(max(id), 0) FROM events")[0][0])

    def last(self, severity: str = "error") -> Event | None:
        """The latest event of this severity."""
        row = self._db.query("SELECT max(id) FROM events WHERE severity = ?", (severity,))[0]
        if row[0] is None:
            return None
        return self.since(row[0] - 1, limit=1)[0]

    def last_of(self, types: Iterable[str]) -> dict[str, Event]:
        """The latest event of each of these types."""
        wanted = sorted(set(types))
        marks = ",".join("?" * len(wanted)) or "NULL"
        ids = self._db.query(
            f"SELECT max(id) FROM events WHERE type IN ({marks}) GROUP BY type",  # noqa: S608
            tuple(wanted),
        )
        found = [self.since(row[0] - 1, limit=1)[0] for row in ids]
        return {event.type: event for event in found}
