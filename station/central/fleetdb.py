"""The fleet dashboard's own history: SQLite (WAL) in its data folder.

stations       the latest state and health of every station ever seen
state_changes  every online / offline / lost, with its time
events         every event a station reported (deduplicated)
monthly        documents and pages digitized per station and month, and of the
               documents those received and those sent (NULL: not reported)
commands       every command sent from the dashboard, who sent it, and its reply
electronic     the DMS's electronic documents per unit and year or month (imported)
imports        every import of electronic figures: who, when, which file
alerts …       the alerts with their history, and the messages about them
               (read and written by :mod:`station.central.alertdb`)
series…        each station's trends, made and kept by :mod:`station.central.history`

The tables and their migrations are :mod:`station.central.fleetschema`.
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

from station.central.electronic import ElectronicFigure
from station.central.fleetschema import MIGRATIONS, MONTH_UPSERT
from station.central.fleetschema import SCHEMA as SCHEMA
from station.central.fleetschema import SCHEMA_VERSION as SCHEMA_VERSION
from station.common.dbutil import immediate
from station.errors import StorageError
from station.wire import payloads

log = logging.getLogger("scanstation.fleet")


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


@dataclass(frozen=True)
class PaperMonth:
    """Paper documents one unit's stations digitized in one month (Vietnam time)."""

    unit: str
    year: int
    month: int
    incoming: int
    outgoing: int
    #: reported without their direction (stations older than the split)
    unknown: int


@dataclass(frozen=True)
class ImportRecord:
    """One import of electronic figures: when, by whom, from which file, and what it did."""

    id: int
    at: str
    who: str
    address: str
    file_name: str
    sha256: str
    rows: int
    replaced: int
    summary: dict[str, Any]

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> ImportRecord:
        return cls(
            id=row["id"], at=row["at"], who=row["who"], address=row["address"],
            file_name=row["file_name"], sha256=row["sha256"], rows=row["rows"],
            replaced=row["replaced"], summary=json.loads(row["summary"]),
        )  # fmt: skip


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
            # a report every minute from hundreds of stations: in WAL mode NORMAL
            # never corrupts the file; a power cut may lose the last moments
            self._db.execute("PRAGMA synchronous=NORMAL")
            if self._db.execute("PRAGMA user_version").fetchone()[0] > SCHEMA_VERSION:
                raise StorageError(
                    f"{self.path} was written by a newer version of the dashboard",
                    f"{self.path} do phiên bản mới hơn của trang giám sát ghi",
                )
            self._db.executescript(SCHEMA)
            self._migrate()
            self._repair()
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(
                f"cannot open the fleet history {self.path}: {exc}",
                f"Không mở được dữ liệu giám sát {self.path}: {exc}",
            ) from exc

    def _migrate(self) -> None:
        # a history made before versions were counted (0) has version 1's tables
        version = max(1, self._db.execute("PRAGMA user_version").fetchone()[0])
        for number, script in enumerate(MIGRATIONS[version - 1 :], start=version + 1):
            with self._tx() as db:
                for statement in script.split(";"):
                    if statement.strip():
                        db.execute(statement)
                db.execute(f"PRAGMA user_version = {number}")

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
                        {
                            "documents": row["documents"],
                            "pages": row["pages"],
                            **(
                                {"incoming": row["incoming"], "outgoing": row["outgoing"]}
                                if row["incoming"] is not None or row["outgoing"] is not None
                                else {}
                            ),
                        }
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
                db.execute(MONTH_UPSERT, (
                    station_id, month, unit or "", counts["documents"], counts["pages"],
                    counts.get("incoming"), counts.get("outgoing"),
                ))  # fmt: skip

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

    def paper_months(self) -> list[PaperMonth]:
        """Paper documents the stations digitized, per unit and month: of them
        received, sent, and those whose direction no report gave (stations older
        than the split)."""
        rows = self._rows(
            "SELECT unit, month, sum(documents) AS documents,"
            " sum(coalesce(incoming, 0)) AS incoming, sum(coalesce(outgoing, 0)) AS outgoing,"
            " sum(CASE WHEN incoming IS NULL THEN documents ELSE 0 END) AS unknown"
            " FROM monthly GROUP BY unit, month ORDER BY unit, month"
        )
        return [
            PaperMonth(
                unit=r["unit"], year=int(r["month"][:4]), month=int(r["month"][5:7]),
                incoming=r["incoming"], outgoing=r["outgoing"], unknown=r["unknown"],
            )
            for r in rows
        ]  # fmt: skip

    def electronic(self) -> list[ElectronicFigure]:
        """The DMS's electronic documents as imported, per unit and year (month 0) or month."""
        rows = self._rows(
            "SELECT unit, year, month, incoming, outgoing FROM electronic"
            " ORDER BY unit, year, month"
        )
        return [
            ElectronicFigure(r["unit"], r["year"], r["month"], r["incoming"], r["outgoing"])
            for r in rows
        ]

    def import_electronic(
        self,
        figures: list[ElectronicFigure],
        *,
        who: str,
        address: str,
        file_name: str,
        sha256: str,
        summary: dict[str, Any],
    ) -> ImportRecord:
        """Store an import's figures in one transaction: each replaces what was
        stored for its unit and period (a whole year replaces the year's months,
        a month replaces the whole year's figure), and the import is logged."""
        at = utc_now()
        replaced = 0
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO imports (at, who, address, file_name, sha256, rows, replaced,"
                " summary) VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                (at, who, address, file_name, sha256, len(figures),
                 json.dumps(summary, ensure_ascii=False)),
            )  # fmt: skip
            import_id = int(cur.lastrowid or 0)
            for f in figures:
                gone = db.execute(
                    "DELETE FROM electronic WHERE unit = ? AND year = ?"
                    " AND (? = 0 OR month IN (0, ?))",
                    (f.unit, f.year, f.month, f.month),
                )
                replaced += gone.rowcount
                db.execute(
                    "INSERT INTO electronic (unit, year, month, incoming, outgoing, import_id)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (f.unit, f.year, f.month, f.incoming, f.outgoing, import_id),
                )
            db.execute("UPDATE imports SET replaced = ? WHERE id = ?", (replaced, import_id))
        found = self.import_record(import_id)
        assert found is not None
        return found

    def import_record(self, import_id: int) -> ImportRecord | None:
        rows = self._rows("SELECT * FROM imports WHERE id = ?", (import_id,))
        return ImportRecord.from_row(rows[0]) if rows else None

    def imports(self, limit: int = 50) -> list[ImportRecord]:
        """The latest imports of electronic figures, newest first."""
        rows = self._rows("SELECT * FROM imports ORDER BY id DESC LIMIT ?", (limit,))
        return [ImportRecord.from_row(r) for r in rows]

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
