"""The fleet dashboard's own history: SQLite (WAL) in its data folder.

stations       the latest state and health of every station ever seen
state_changes  every online / offline / lost, with its time
events         every event a station reported (deduplicated)
monthly        documents and pages digitized per station and month
commands       every command sent from the dashboard, who sent it, and its reply

The alerts and the messages about them have their own tables beside these
(:mod:`station.central.alertdb`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import sqlite3
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter

from station.common.dbutil import immediate
from station.errors import StorageError
from station.wire import payloads

log = logging.getLogger("scanstation.fleet")

SCHEMA = """
CREATE TABLE IF NOT EXISTS stations (
    station_id TEXT PRIMARY KEY,
    state      TEXT NOT NULL DEFAULT 'unknown',
    boot       INTEGER,
    version    TEXT,
    since      TEXT,
    last_seen  TEXT NOT NULL,
    first_seen TEXT NOT NULL,
    unit       TEXT NOT NULL DEFAULT '',
    health     TEXT,
    health_at  TEXT
);
CREATE TABLE IF NOT EXISTS state_changes (
    id         INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL,
    state      TEXT NOT NULL,
    boot       INTEGER,
    at         TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS events (
    id               INTEGER PRIMARY KEY,
    station_id       TEXT NOT NULL,
    station_event_id INTEGER,
    station_ts       TEXT NOT NULL,
    ts               TEXT NOT NULL,
    received_at      TEXT NOT NULL,
    type             TEXT NOT NULL,
    severity         TEXT NOT NULL,
    message_vi       TEXT NOT NULL,
    message_en       TEXT NOT NULL,
    detail           TEXT NOT NULL,
    UNIQUE (station_id, station_event_id, station_ts)
);
CREATE TABLE IF NOT EXISTS monthly (
    station_id TEXT NOT NULL,
    month      TEXT NOT NULL,
    unit       TEXT NOT NULL,
    documents  INTEGER NOT NULL,
    pages      INTEGER NOT NULL,
    PRIMARY KEY (station_id, month)
);
CREATE TABLE IF NOT EXISTS commands (
    id         TEXT PRIMARY KEY,
    station_id TEXT NOT NULL,
    name       TEXT NOT NULL,
    args       TEXT NOT NULL,
    sent_at    TEXT NOT NULL,
    sent_by    TEXT NOT NULL DEFAULT '',
    ok         INTEGER,
    reply      TEXT,
    replied_at TEXT
);
CREATE INDEX IF NOT EXISTS events_by_station ON events (station_id, id);
CREATE INDEX IF NOT EXISTS states_by_station ON state_changes (station_id, id);
CREATE INDEX IF NOT EXISTS commands_by_station ON commands (station_id, sent_at);
"""

SCHEMA_VERSION = 1

#: events and state changes older than this are pruned
KEEP = timedelta(days=400)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class StationRow:
    station_id: str
    state: str
    boot: int | None
    version: str | None
    since: str | None
    last_seen: str
    first_seen: str
    unit: str
    health: dict[str, Any] | None
    health_at: str | None

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StationRow:
        return cls(
            station_id=row["station_id"],
            state=row["state"],
            boot=row["boot"],
            version=row["version"],
            since=row["since"],
            last_seen=row["last_seen"],
            first_seen=row["first_seen"],
            unit=row["unit"],
            health=json.loads(row["health"]) if row["health"] else None,
            health_at=row["health_at"],
        )


class FleetDB:
    def __init__(self, data_dir: Path) -> None:
        self.path = data_dir / "fleet.sqlite3"
        self._lock = threading.RLock()
        try:
            data_dir.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(
                self.path, check_same_thread=False, isolation_level=None, timeout=30
            )
            self._db.row_factory = sqlite3.Row
            self._db.execute("PRAGMA journal_mode=WAL")
            if self._db.execute("PRAGMA user_version").fetchone()[0] > SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path} was written by a newer version of the dashboard",
                    f"{self.path} do phiên bản mới hơn của trang giám sát ghi",
                )
            self._db.executescript(SCHEMA)
            self._add_columns()
            self._db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self._repair()
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(
                f"cannot open the fleet history {self.path}: {exc}",
                f"Không mở được dữ liệu giám sát {self.path}: {exc}",
            ) from exc

    def _add_columns(self) -> None:
        """Columns added since a table was first made (a history kept from an
        older version gains them, empty)."""
        have = {r[1] for r in self._db.execute("PRAGMA table_info(commands)")}
        if "sent_by" not in have:
            self._db.execute("ALTER TABLE commands ADD COLUMN sent_by TEXT NOT NULL DEFAULT ''")

    def _repair(self) -> None:
        """Drop what does not fit the station payload models (:mod:`station.wire.payloads`):
        rows an older version stored without checking them would break the pages.
        A health report that does not fit is forgotten (the station sends a new
        one every interval); so is a month figure that does not."""
        month = TypeAdapter(payloads.Month)
        with self._tx() as db:
            for row in db.execute("SELECT station_id, health FROM stations").fetchall():
                if row["health"] is None:
                    continue
                raw = str(row["health"]).encode("utf-8", "replace")
                found = payloads.decode(payloads.Health, raw, len(raw))
                if isinstance(found, payloads.Rejected):
                    log.warning(
                        "forgot the stored health of %s: %s (%s)",
                        row["station_id"],
                        found.reason,
                        found.detail,
                    )
                    db.execute(
                        "UPDATE stations SET health = NULL, health_at = NULL WHERE station_id = ?",
                        (row["station_id"],),
                    )
            for row in db.execute("SELECT rowid, * FROM monthly").fetchall():
                try:
                    month.validate_python(row["month"], strict=True)
                    payloads.MonthCounts.model_validate(
                        {"documents": row["documents"], "pages": row["pages"]}
                    )
                    if not isinstance(row["unit"], str):
                        raise ValueError("unit is not text")
                except ValueError as exc:
                    log.warning("forgot a stored month figure of %s: %s", row["station_id"], exc)
                    db.execute("DELETE FROM monthly WHERE rowid = ?", (row["rowid"],))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def _tx(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        return immediate(self._db, self._lock)

    def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # ------------------------------------------------------------------ stations

    def seen(self, station_id: str, at: str) -> None:
        """Note a message from a station (``last_seen`` never goes backwards)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO stations (station_id, last_seen, first_seen) VALUES (?, ?, ?)"
                " ON CONFLICT(station_id) DO UPDATE SET"
                " last_seen = max(last_seen, excluded.last_seen)",
                (station_id, at, at),
            )

    def set_state(
        self, station_id: str, state: str, boot: int | None, version: str | None, since: str
    ) -> bool:
        """Record a state; True when it changed (a new state or a new boot)."""
        with self._tx() as db:
            row = db.execute(
                "SELECT state, boot FROM stations WHERE station_id = ?", (station_id,)
            ).fetchone()
            if row is None:
                db.execute(
                    "INSERT INTO stations (station_id, last_seen, first_seen) VALUES (?, ?, ?)",
                    (station_id, since, since),
                )
            elif row["state"] == state and row["boot"] == boot:
                return False
            db.execute(
                "UPDATE stations SET state = ?, boot = coalesce(?, boot),"
                " version = coalesce(?, version), since = ? WHERE station_id = ?",
                (state, boot, version, since, station_id),
            )
            db.execute(
                "INSERT INTO state_changes (station_id, state, boot, at) VALUES (?, ?, ?, ?)",
                (station_id, state, boot, since),
            )
        return True

    def set_health(self, station_id: str, health: dict[str, Any], at: str) -> None:
        """Record a station's health report (a :class:`payloads.Health`), heard at ``at``."""
        unit = health.get("unit") if isinstance(health.get("unit"), str) else None
        version = health.get("version") if isinstance(health.get("version"), str) else None
        with self._tx() as db:
            db.execute(
                "INSERT INTO stations (station_id, last_seen, first_seen) VALUES (?, ?, ?)"
                " ON CONFLICT(station_id) DO NOTHING",
                (station_id, at, at),
            )
            # reports come in the order the station sent them: the latest is the
            # last one heard, whatever time the station's clock wrote in it
            db.execute(
                "UPDATE stations SET health = ?, health_at = max(coalesce(health_at, ''), ?),"
                " unit = coalesce(?, unit), version = coalesce(?, version) WHERE station_id = ?",
                (json.dumps(health, ensure_ascii=False), at, unit, version, station_id),
            )
            for month, counts in (health.get("digitized") or {}).items():
                db.execute(
                    "INSERT INTO monthly (station_id, month, unit, documents, pages)"
                    " VALUES (?, ?, ?, ?, ?) ON CONFLICT(station_id, month) DO UPDATE SET"
                    " unit = excluded.unit, documents = max(documents, excluded.documents),"
                    " pages = max(pages, excluded.pages)",
                    (station_id, month, unit or "", counts["documents"], counts["pages"]),
                )

    def station(self, station_id: str) -> StationRow | None:
        rows = self._rows("SELECT * FROM stations WHERE station_id = ?", (station_id,))
        return StationRow.from_row(rows[0]) if rows else None

    def stations(self) -> list[StationRow]:
        return [StationRow.from_row(r) for r in self._rows("SELECT * FROM stations ORDER BY 1")]

    def state_changes(self, station_id: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = self._rows(
            "SELECT state, boot, at FROM state_changes WHERE station_id = ? ORDER BY id DESC"
            " LIMIT ?",
            (station_id, limit),
        )
        return [dict(r) for r in rows]

    # ------------------------------------------------------------------ events

    def add_event(
        self, station_id: str, event: dict[str, Any], station_ts: str, received_at: str
    ) -> bool:
        """Record a station's event; False for one already recorded (the same id
        and time as the station wrote them)."""
        message = event.get("message") or {}
        with self._tx() as db:
            cur = db.execute(
                "INSERT OR IGNORE INTO events (station_id, station_event_id, station_ts, ts,"
                " received_at, type, severity, message_vi, message_en, detail)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    station_id,
                    event.get("id"),
                    station_ts,
                    event["ts"],
                    received_at,
                    event["type"],
                    event["severity"],
                    str(message.get("vi", "")),
                    str(message.get("en", "")),
                    json.dumps(event.get("detail") or {}, ensure_ascii=False),
                ),
            )
        return cur.rowcount == 1

    def events(self, station_id: str | None = None, limit: int = 100) -> list[dict[str, Any]]:
        where, params = ("WHERE station_id = ?", (station_id,)) if station_id else ("", ())
        rows = self._rows(
            f"SELECT * FROM events {where} ORDER BY ts DESC, id DESC LIMIT ?",  # noqa: S608
            (*params, limit),
        )
        return [{**dict(r), "detail": json.loads(r["detail"])} for r in rows]

    def prune(self, now: datetime | None = None) -> None:
        cutoff = ((now or datetime.now(UTC)) - KEEP).isoformat()
        with self._tx() as db:
            db.execute("DELETE FROM events WHERE received_at < ?", (cutoff,))
            db.execute("DELETE FROM state_changes WHERE at < ?", (cutoff,))
            db.execute("DELETE FROM commands WHERE sent_at < ?", (cutoff,))

    # ------------------------------------------------------------------ statistics

    def monthly(self, year: int) -> list[dict[str, Any]]:
        """Documents and pages per unit and month of ``year``."""
        rows = self._rows(
            "SELECT unit, month, sum(documents) AS documents, sum(pages) AS pages,"
            " count(DISTINCT station_id) AS stations FROM monthly WHERE month LIKE ?"
            " GROUP BY unit, month ORDER BY unit, month",
            (f"{year:04d}-%",),
        )
        return [dict(r) for r in rows]

    def last_months(self) -> dict[str, str]:
        """Each unit's last month (``YYYY-MM``) with a document."""
        rows = self._rows(
            "SELECT unit, max(month) AS month FROM monthly WHERE documents > 0 GROUP BY unit"
        )
        return {r["unit"]: r["month"] for r in rows}

    def years(self) -> list[int]:
        rows = self._rows("SELECT DISTINCT substr(month, 1, 4) AS y FROM monthly ORDER BY y")
        return [int(r["y"]) for r in rows if str(r["y"]).isdigit()]

    # ------------------------------------------------------------------ commands

    def add_command(
        self,
        command_id: str,
        station_id: str,
        name: str,
        args: dict[str, Any],
        sent_by: str = "",
    ) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO commands (id, station_id, name, args, sent_at, sent_by)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (command_id, station_id, name, json.dumps(args, ensure_ascii=False), utc_now(),
                 sent_by),
            )  # fmt: skip

    def set_reply(self, station_id: str, command_id: str, ok: bool, reply: dict[str, Any]) -> bool:
        with self._tx() as db:
            cur = db.execute(
                "UPDATE commands SET ok = ?, reply = ?, replied_at = ?"
                " WHERE id = ? AND station_id = ? AND replied_at IS NULL",
                (int(ok), json.dumps(reply, ensure_ascii=False), utc_now(), command_id, station_id),
            )
        return cur.rowcount == 1

    def command(self, command_id: str) -> dict[str, Any] | None:
        rows = self._rows("SELECT * FROM commands WHERE id = ?", (command_id,))
        return _command(rows[0]) if rows else None

    def commands(
        self, station_id: str | None = None, limit: int = 20, offset: int = 0
    ) -> list[dict[str, Any]]:
        """Commands, the latest first: one station's, or the whole fleet's."""
        where, params = ("WHERE station_id = ?", (station_id,)) if station_id else ("", ())
        rows = self._rows(
            f"SELECT * FROM commands {where} ORDER BY sent_at DESC, rowid DESC"  # noqa: S608
            " LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [_command(r) for r in rows]

    def command_count(self, station_id: str | None = None) -> int:
        where, params = ("WHERE station_id = ?", (station_id,)) if station_id else ("", ())
        rows = self._rows(f"SELECT count(*) AS n FROM commands {where}", params)  # noqa: S608
        return int(rows[0]["n"])


def _command(row: sqlite3.Row) -> dict[str, Any]:
    return {
        **dict(row),
        "args": json.loads(row["args"]),
        "ok": None if row["ok"] is None else bool(row["ok"]),
        "reply": json.loads(row["reply"]) if row["reply"] else None,
    }
