"""Alerts with a history, and the messages about them, in the fleet's SQLite.

alerts        one row per time a condition held: raised (when, value), acknowledged
              (by whom, when, a note), cleared (when); a condition that comes back
              after it cleared is a new row, a re-raise
transitions   every raise, re-raise and clear, until the notifier has dealt with it
notifications one message to one channel (e-mail, webhook): sent, waiting for a
              retry, or given up

At most one row of ``alerts`` per key (a station's or a unit's kind) is active.
The tables are made by the history's migrations (:mod:`fleetschema`, version 3).
Every change goes through :meth:`AlertStore.sync`, :meth:`AlertStore.raise_event`
and :meth:`AlertStore.acknowledge`, each one transaction that also records its
transitions, so a restart neither loses nor repeats a message.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from station.central.fleetdb import FleetDB
from station.central.rules import Alert

#: alerts, transitions and notifications older than this are pruned (as the history)
KEEP = timedelta(days=400)


def stamp(at: datetime) -> str:
    """A moment as the fleet's tables keep it: UTC, milliseconds, ``Z`` (so that
    text order is time order)."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value, ensure_ascii=False)


@dataclass(frozen=True)
class StoredAlert:
    """An alert as the pages, the API and the messages show it."""

    id: int
    kind: str
    severity: str
    vi: str
    en: str
    scope: str
    subject: str
    unit: str
    value: Any
    last_value: Any
    raised_at: str
    updated_at: str
    occurrence: int
    count: int
    acked_by: str | None
    acked_at: str | None
    ack_note: str | None
    cleared_at: str | None
    cleared_by: str | None

    @property
    def active(self) -> bool:
        return self.cleared_at is None

    @property
    def station_id(self) -> str | None:
        return self.subject if self.scope == "station" else None

    @property
    def reraised(self) -> bool:
        return self.occurrence > 1

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> StoredAlert:
        return cls(
            id=row["id"],
            kind=row["kind"],
            severity=row["severity"],
            vi=row["message_vi"],
            en=row["message_en"],
            scope=row["scope"],
            subject=row["subject"],
            unit=row["unit"],
            value=json.loads(row["value"]) if row["value"] else None,
            last_value=json.loads(row["last_value"]) if row["last_value"] else None,
            raised_at=row["raised_at"],
            updated_at=row["updated_at"],
            occurrence=row["occurrence"],
            count=row["count"],
            acked_by=row["acked_by"],
            acked_at=row["acked_at"],
            ack_note=row["ack_note"],
            cleared_at=row["cleared_at"],
            cleared_by=row["cleared_by"],
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "severity": self.severity,
            "vi": self.vi,
            "en": self.en,
            "scope": self.scope,
            "subject": self.subject,
            "unit": self.unit,
            "value": self.value,
            "raised_at": self.raised_at,
            "occurrence": self.occurrence,
            "acknowledged": None
            if self.acked_at is None
            else {"by": self.acked_by, "at": self.acked_at, "note": self.ack_note},
            "cleared_at": self.cleared_at,
        }


@dataclass(frozen=True)
class Change:
    """A transition waiting for the notifier, with its alert as it is now."""

    id: int
    what: str
    at: str
    held: bool
    alert: StoredAlert


def key_of(scope: str, subject: str, kind: str) -> str:
    return f"{scope}/{subject}/{kind}"


class AlertStore:
    def __init__(self, db: FleetDB) -> None:
        self.db = db

    # ------------------------------------------------------------------ changes

    def sync(
        self,
        scope: str,
        subject: str,
        unit: str,
        found: Iterable[Alert],
        kinds: Collection[str],
        now: datetime,
    ) -> list[str]:
        """Make the active alerts of ``subject`` among ``kinds`` those ``found``:
        raise the new ones (a re-raise when the key had cleared before), update
        the value of those still true (an acknowledgement stays), clear the rest.
        The transitions made, as "raise:kind", "reraise:kind", "clear:kind"."""
        at = stamp(now)
        made: list[str] = []
        wanted = {a.kind: a for a in found if a.kind in kinds}
        with self.db._tx() as db:
            rows = db.execute(
                "SELECT * FROM alerts WHERE scope = ? AND subject = ? AND cleared_at IS NULL",
                (scope, subject),
            ).fetchall()
            current = {r["kind"]: r for r in rows if r["kind"] in kinds}
            for kind, row in current.items():
                if kind not in wanted:
                    db.execute(
                        "UPDATE alerts SET cleared_at = ?, cleared_by = '', updated_at = ?"
                        " WHERE id = ?",
                        (at, at, row["id"]),
                    )
                    self._transition(db, row["id"], "clear", at)
                    made.append(f"clear:{kind}")
            for kind, alert in wanted.items():
                row = current.get(kind)
                if row is not None:
                    same = (row["severity"], row["message_vi"], row["message_en"],
                            row["last_value"], row["unit"]) == (
                        alert.severity, alert.vi, alert.en, _json(alert.value), unit)  # fmt: skip
                    if same:
                        continue  # nothing to write
                    db.execute(
                        "UPDATE alerts SET severity = ?, message_vi = ?, message_en = ?,"
                        " last_value = ?, unit = ?, updated_at = ? WHERE id = ?",
                        (alert.severity, alert.vi, alert.en, _json(alert.value), unit, at,
                         row["id"]),
                    )  # fmt: skip
                    continue
                what = self._insert(db, scope, subject, unit, alert, at)
                made.append(f"{what}:{kind}")
        return made

    def raise_event(
        self, scope: str, subject: str, unit: str, alert: Alert, now: datetime
    ) -> str | None:
        """An alert raised by an event: a new one, or one more on the active one
        (counted, not sent again). "raise", "reraise" or None."""
        at = stamp(now)
        with self.db._tx() as db:
            cur = db.execute(
                "UPDATE alerts SET count = count + 1, last_value = ?, message_vi = ?,"
                " message_en = ?, updated_at = ? WHERE key = ? AND cleared_at IS NULL",
                (_json(alert.value), alert.vi, alert.en, at, key_of(scope, subject, alert.kind)),
            )
            if cur.rowcount:
                return None
            return self._insert(db, scope, subject, unit, alert, at)

    def _insert(
        self, db: sqlite3.Connection, scope: str, subject: str, unit: str, alert: Alert, at: str
    ) -> str:
        key = key_of(scope, subject, alert.kind)
        before = db.execute("SELECT count(*) FROM alerts WHERE key = ?", (key,)).fetchone()[0]
        cur = db.execute(
            "INSERT INTO alerts (key, scope, subject, unit, kind, severity, message_vi,"
            " message_en, value, last_value, raised_at, updated_at, occurrence)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (key, scope, subject, unit, alert.kind, alert.severity, alert.vi, alert.en,
             _json(alert.value), _json(alert.value), at, at, before + 1),
        )  # fmt: skip
        what = "reraise" if before else "raise"
        assert cur.lastrowid is not None
        self._transition(db, cur.lastrowid, what, at)
        return what

    @staticmethod
    def _transition(db: sqlite3.Connection, alert_id: int, what: str, at: str) -> None:
        db.execute(
            "INSERT INTO transitions (alert_id, what, at) VALUES (?, ?, ?)", (alert_id, what, at)
        )

    def acknowledge(
        self, alert_id: int, by: str, note: str, now: datetime, ends: Collection[str] = ()
    ) -> StoredAlert | None:
        """A person saw an active alert ("Đã biết"); the alert, or None when it is
        not active or already acknowledged. Kinds in ``ends`` (raised by an
        event: nothing else ends them) are cleared by it."""
        at = stamp(now)
        with self.db._tx() as db:
            cur = db.execute(
                "UPDATE alerts SET acked_by = ?, acked_at = ?, ack_note = ?"
                " WHERE id = ? AND cleared_at IS NULL AND acked_at IS NULL",
                (by, at, note, alert_id),
            )
            if not cur.rowcount:
                return None
            db.execute(
                f"UPDATE alerts SET cleared_at = ?, cleared_by = ? WHERE id = ?"  # noqa: S608
                f" AND kind IN ({','.join('?' * len(ends)) or 'NULL'})",
                (at, by, alert_id, *ends),
            )
        return self.get(alert_id)

    # ------------------------------------------------------------------ reading

    def get(self, alert_id: int) -> StoredAlert | None:
        rows = self.db._rows("SELECT * FROM alerts WHERE id = ?", (alert_id,))
        return StoredAlert.from_row(rows[0]) if rows else None

    def active(self, scope: str | None = None, subject: str | None = None) -> list[StoredAlert]:
        """Active alerts, those not yet acknowledged first, the worst first, then the oldest."""
        where, params = "cleared_at IS NULL", tuple[str, ...]()
        if scope is not None and subject is not None:
            where, params = where + " AND scope = ? AND subject = ?", (scope, subject)
        rows = self.db._rows(
            f"SELECT * FROM alerts WHERE {where} ORDER BY acked_at IS NOT NULL,"  # noqa: S608
            " CASE severity WHEN 'critical' THEN 0 WHEN 'error' THEN 1 ELSE 2 END, raised_at, id",
            params,
        )
        return [StoredAlert.from_row(r) for r in rows]

    def active_by_station(self) -> dict[str, list[StoredAlert]]:
        found: dict[str, list[StoredAlert]] = {}
        for alert in self.active():
            if alert.scope == "station":
                found.setdefault(alert.subject, []).append(alert)
        return found

    def history(
        self, limit: int = 100, offset: int = 0, subject: str | None = None
    ) -> list[StoredAlert]:
        """Every alert, the latest raised first (a station's or unit's with ``subject``)."""
        where, params = ("WHERE subject = ?", (subject,)) if subject else ("", ())
        rows = self.db._rows(
            f"SELECT * FROM alerts {where} ORDER BY raised_at DESC, id DESC"  # noqa: S608
            " LIMIT ? OFFSET ?",
            (*params, limit, offset),
        )
        return [StoredAlert.from_row(r) for r in rows]

    def count(self, subject: str | None = None) -> int:
        where, params = ("WHERE subject = ?", (subject,)) if subject else ("", ())
        rows = self.db._rows(f"SELECT count(*) AS n FROM alerts {where}", params)  # noqa: S608
        return int(rows[0]["n"])

    # ------------------------------------------------------------------ the notifier's

    def open_changes(self) -> list[Change]:
        """Transitions the notifier has not dealt with, oldest first."""
        rows = self.db._rows(
            "SELECT t.id AS t_id, t.what, t.at AS t_at, t.held, a.* FROM transitions t"
            " JOIN alerts a ON a.id = t.alert_id WHERE t.done_at IS NULL ORDER BY t.id"
        )
        return [
            Change(r["t_id"], r["what"], r["t_at"], bool(r["held"]), StoredAlert.from_row(r))
            for r in rows
        ]

    def hold(self, ids: Iterable[int]) -> None:
        with self.db._tx() as db:
            db.executemany("UPDATE transitions SET held = 1 WHERE id = ?", [(i,) for i in ids])

    def settle(
        self,
        sent: Iterable[int],
        skipped: Iterable[int],
        messages: Iterable[tuple[str, dict[str, Any], bool]],
        now: datetime,
    ) -> None:
        """In one transaction: transitions ``sent`` (in ``messages``, one row per
        channel, due now) and ``skipped`` (not to be sent) are done."""
        at = stamp(now)
        with self.db._tx() as db:
            db.executemany(
                "UPDATE transitions SET done_at = ?, sent = 1 WHERE id = ?", [(at, i) for i in sent]
            )
            db.executemany(
                "UPDATE transitions SET done_at = ?, sent = 0 WHERE id = ?",
                [(at, i) for i in skipped],
            )
            for channel, message, digest in messages:
                db.execute(
                    "INSERT INTO notifications (channel, created_at, due_at, digest, message)"
                    " VALUES (?, ?, ?, ?, ?)",
                    (channel, at, at, int(digest), json.dumps(message, ensure_ascii=False)),
                )

    def due(self, now: datetime) -> list[dict[str, Any]]:
        rows = self.db._rows(
            "SELECT * FROM notifications WHERE sent_at IS NULL AND gave_up_at IS NULL"
            " AND due_at <= ? ORDER BY id",
            (stamp(now),),
        )
        return [{**dict(r), "message": json.loads(r["message"])} for r in rows]

    def next_due(self) -> str | None:
        rows = self.db._rows(
            "SELECT min(due_at) AS at FROM notifications WHERE sent_at IS NULL"
            " AND gave_up_at IS NULL"
        )
        return rows[0]["at"] if rows else None

    def delivered(self, notification_id: int, now: datetime) -> None:
        with self.db._tx() as db:
            db.execute(
                "UPDATE notifications SET sent_at = ?, attempts = attempts + 1 WHERE id = ?",
                (stamp(now), notification_id),
            )

    def failed(
        self, notification_id: int, error: str, retry_at: datetime | None, now: datetime
    ) -> None:
        with self.db._tx() as db:
            if retry_at is None:
                db.execute(
                    "UPDATE notifications SET attempts = attempts + 1, last_error = ?,"
                    " gave_up_at = ? WHERE id = ?",
                    (error[:500], stamp(now), notification_id),
                )
            else:
                db.execute(
                    "UPDATE notifications SET attempts = attempts + 1, last_error = ?,"
                    " due_at = ? WHERE id = ?",
                    (error[:500], stamp(retry_at), notification_id),
                )

    def notification_counts(self) -> dict[tuple[str, str], int]:
        """(channel, "pending" or "failed") -> how many messages."""
        rows = self.db._rows(
            "SELECT channel, CASE WHEN gave_up_at IS NULL THEN 'pending' ELSE 'failed' END AS k,"
            " count(*) AS n FROM notifications WHERE sent_at IS NULL GROUP BY channel, k"
        )
        return {(r["channel"], r["k"]): int(r["n"]) for r in rows}

    def notifications(self, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.db._rows("SELECT * FROM notifications ORDER BY id DESC LIMIT ?", (limit,))
        return [{**dict(r), "message": json.loads(r["message"])} for r in rows]

    def prune(self, now: datetime) -> None:
        cutoff = stamp(now - KEEP)
        with self.db._tx() as db:
            db.execute(
                "DELETE FROM transitions WHERE done_at IS NOT NULL AND done_at < ?", (cutoff,)
            )
            db.execute(
                "DELETE FROM alerts WHERE cleared_at IS NOT NULL AND cleared_at < ?"
                " AND id NOT IN (SELECT alert_id FROM transitions)",
                (cutoff,),
            )
            db.execute("DELETE FROM notifications WHERE created_at < ?", (cutoff,))
