"""The outbox (docs/mqtt.md): the documents to deliver, the segments the receiver
acknowledged, and the receipts. ``store.outbox`` is the one way in.

A document moves forward through :data:`OUTBOX_STATES` only: ``held`` (its
signature is missing) → ``queued`` → ``sent`` (``fin`` answered) → ``announced``
(``doc/{doc_id}`` is out) → ``received`` (receipt 01) → ``deleted`` (after the
retention). A transfer given up starts again under a new ``file_id``; no
``file_id`` is ever used twice (the ``file_ids`` table).

A document the agency's system refused (its latest status 02) waits for the
clerk's answer: a corrected copy (``update``, "Gửi lại") or a new scan
(``replace``, "Quét lại"), queued with ``Supersedes`` in its metadata; queuing
it marks the refused one answered (``answered_by``). A rescan the clerk asked
for moves ``waiting`` (the next scan) → ``bound`` (to the batch scanned next)
→ ``done`` (its document queued: the one under the refused label, else the
first), or is ``cancelled``.
"""

from __future__ import annotations

import json
import re
import secrets
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station.common.fsutil import sha256_file
from station.errors import InputError, NotFound
from station.store.connection import Connection, now_iso

#: states of a document in the outbox, in order; "held" waits for its signature
OUTBOX_STATES = ("held", "queued", "sent", "announced", "received", "deleted")


#: the outbox's routes: "" the stations' topic root, "secret" an independent
#: LAN's root of secret documents (docs/security.md#an-independent-lan-station)
ROUTES = ("", "secret")

#: how a document answers a refused one (``Supersedes.how``): a corrected copy
#: of the same paper, or a new scan of it
ANSWERS = ("update", "replace")
#: states of a rescan the clerk asked for
RESCAN_STATES = ("waiting", "bound", "done", "cancelled")
_REVISION = re.compile(r"^(.*)-r(\d{2,})$")


def revision_id(doc_id: str, n: int) -> str:
    """The doc id of the ``n``-th corrected copy of a document: ``{doc_id}-r01``,
    ``-r02``… (a copy of a copy counts on from the original), still a valid doc
    id (letters, digits, ``-``, ``_``; at most 80) and sorting after the original."""
    found = _REVISION.fullmatch(doc_id)
    base = found.group(1) if found else doc_id
    suffix = f"-r{n:02d}"
    return base[: 80 - len(suffix)] + suffix


def new_file_id() -> str:
    """A file id that is never reused: time-sortable, with 96 random bits."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%S}-{secrets.token_hex(12)}"


@dataclass(frozen=True)
class OutboxItem:
    doc_id: str
    file_id: str
    path: Path
    size: int
    sha256: str
    metadata: dict[str, Any]
    segment_size: int
    state: str
    attempts: int
    status: str | None
    received_at: str | None
    created_at: str
    #: "" or "secret": a secret document of an independent LAN, delivered under
    #: its own topic root ([security] secret_topic_root) and nowhere else
    route: str = ""
    #: the document that answers this one's refusal, and how (update or replace)
    answered_by: str | None = None
    answer: str | None = None

    @property
    def rejected(self) -> bool:
        """Refused by the agency's system (its latest status is 02)."""
        return self.status == "02"

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> OutboxItem:
        return cls(
            doc_id=row["doc_id"],
            file_id=row["file_id"],
            path=Path(row["path"]),
            size=row["size"],
            sha256=row["sha256"],
            metadata=json.loads(row["metadata"]),
            segment_size=row["segment_size"],
            state=row["state"],
            attempts=row["attempts"],
            status=row["status"],
            received_at=row["received_at"],
            created_at=row["created_at"],
            route=row["route"],
            answered_by=row["answered_by"],
            answer=row["answer"],
        )


class Outbox:
    """The ``outbox``, ``file_ids``, ``acked_segments`` and ``receipts`` tables of a store."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection

    def enqueue(
        self,
        doc_id: str,
        path: Path,
        metadata: dict[str, Any],
        segment_size: int,
        *,
        held: bool = False,
        route: str = "",
    ) -> OutboxItem:
        """Queue a document's file for delivery (again: nothing changes); ``held``
        keeps it back until :meth:`release` (a signature still missing);
        ``route`` "secret" sends it under the secret topic root only. A document
        whose metadata has ``Supersedes`` answers a refused one: that one is
        marked answered (and its rescan done) with the same commit."""
        if route not in ROUTES:
            raise ValueError(f"unknown outbox route {route!r}")
        supersedes = metadata.get("Supersedes")
        if supersedes is not None and (
            route
            or not isinstance(supersedes, dict)
            or supersedes.get("how") not in ANSWERS
            or not self.has(str(supersedes.get("doc_id")))
        ):
            raise ValueError(f"{doc_id}: Supersedes {supersedes!r} names no document it can answer")
        checksum = sha256_file(path)
        now = now_iso()
        file_id = new_file_id()
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO outbox (doc_id, file_id, path, size, sha256, metadata, segment_size,"
                " state, created_at, updated_at, route) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT(doc_id) DO NOTHING",
                (
                    doc_id,
                    file_id,
                    str(path),
                    path.stat().st_size,
                    checksum,
                    json.dumps(metadata, ensure_ascii=False),
                    segment_size,
                    "held" if held else "queued",
                    now,
                    now,
                    route,
                ),
            )
            db.execute(
                "INSERT OR IGNORE INTO file_ids (file_id, doc_id) VALUES (?, ?)", (file_id, doc_id)
            )
            if supersedes is not None:
                old, how = supersedes["doc_id"], supersedes["how"]
                db.execute(
                    "UPDATE outbox SET answered_by = ?, answer = ?, updated_at = ?"
                    " WHERE doc_id = ? AND answered_by IS NULL",
                    (doc_id, how, now, old),
                )
                db.execute(
                    "UPDATE rescans SET state = 'done', doc_id = ?, updated_at = ?"
                    " WHERE rejected = ? AND state IN ('waiting', 'bound')",
                    (doc_id, now, old),
                )
        return self.item(doc_id)

    def release(self, doc_id: str) -> OutboxItem:
        """A held document's file is final (signed): record its size and
        checksum again and queue it."""
        item = self.item(doc_id)
        if item.state != "held":
            return item
        with self._db.transaction() as db:
            db.execute(
                "UPDATE outbox SET size = ?, sha256 = ?, state = 'queued', updated_at = ?"
                " WHERE doc_id = ? AND state = 'held'",
                (item.path.stat().st_size, sha256_file(item.path), now_iso(), doc_id),
            )
        return self.item(doc_id)

    def has(self, doc_id: str) -> bool:
        return bool(self._db.query("SELECT 1 FROM outbox WHERE doc_id = ?", (doc_id,)))

    def item(self, doc_id: str) -> OutboxItem:
        rows = self._db.query("SELECT * FROM outbox WHERE doc_id = ?", (doc_id,))
        if not rows:
            raise NotFound(f"no document {doc_id} in the outbox", f"Không có văn bản {doc_id}")
        return OutboxItem.from_row(rows[0])

    def items(
        self, states: tuple[str, ...] = ("queued", "sent"), route: str | None = None
    ) -> list[OutboxItem]:
        """Documents in the given states (on one ``route``, or any), oldest first."""
        marks = ",".join("?" * len(states))
        rows = self._db.query(
            f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY created_at, doc_id",  # noqa: S608
            states,
        )
        found = [OutboxItem.from_row(r) for r in rows]
        return found if route is None else [item for item in found if item.route == route]

    def set_state(self, doc_id: str, state: str) -> None:
        """Move a document forward to ``state``; never back (a receipt can
        arrive before the sender has recorded that it announced the document)."""
        if state not in OUTBOX_STATES:
            raise ValueError(f"unknown outbox state {state!r}")
        earlier = OUTBOX_STATES[: OUTBOX_STATES.index(state)]
        marks = ",".join("?" * len(earlier)) or "NULL"
        with self._db.transaction() as db:
            db.execute(
                "UPDATE outbox SET state = ?, updated_at = ?"  # noqa: S608
                f" WHERE doc_id = ? AND state IN ({marks})",
                (state, now_iso(), doc_id, *earlier),
            )

    def renew_file_id(self, doc_id: str) -> str:
        """A new file id for a document whose transfer was given up; never one used before."""
        file_id = new_file_id()
        with self._db.transaction() as db:
            old = db.execute("SELECT file_id FROM outbox WHERE doc_id = ?", (doc_id,)).fetchone()
            db.execute("INSERT INTO file_ids (file_id, doc_id) VALUES (?, ?)", (file_id, doc_id))
            db.execute(
                "UPDATE outbox SET file_id = ?, state = 'queued', attempts = attempts + 1,"
                " updated_at = ? WHERE doc_id = ?",
                (file_id, now_iso(), doc_id),
            )
            if old is not None:
                db.execute("DELETE FROM acked_segments WHERE file_id = ?", (old["file_id"],))
        return file_id

    # ------------------------------------------------------------------ segments

    def ack_segment(self, file_id: str, offset: int) -> None:
        with self._db.transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO acked_segments (file_id, offset) VALUES (?, ?)",
                (file_id, offset),
            )

    def forget_segments(self, file_id: str) -> None:
        with self._db.transaction() as db:
            db.execute("DELETE FROM acked_segments WHERE file_id = ?", (file_id,))

    def acked_offsets(self, file_id: str) -> set[int]:
        rows = self._db.query("SELECT offset FROM acked_segments WHERE file_id = ?", (file_id,))
        return {r["offset"] for r in rows}

    # ------------------------------------------------------------------ receipts

    def record_receipt(self, doc_id: str, status: str, payload: dict[str, Any]) -> None:
        """A receipt or later DMS status; status 01 with a matching checksum
        marks the document received."""
        now = now_iso()
        with self._db.transaction() as db:
            db.execute(
                "INSERT INTO receipts (doc_id, status, payload, received_at) VALUES (?, ?, ?, ?)",
                (doc_id, status, json.dumps(payload, ensure_ascii=False), now),
            )
            db.execute(
                "UPDATE outbox SET status = ?, updated_at = ?,"
                " received_at = COALESCE(received_at, ?),"
                " state = CASE WHEN state IN ('queued', 'sent', 'announced') THEN 'received'"
                " ELSE state END WHERE doc_id = ?",
                (status, now, now, doc_id),
            )

    def receipts(self, doc_id: str) -> list[dict[str, Any]]:
        rows = self._db.query(
            "SELECT status, payload, received_at FROM receipts WHERE doc_id = ? ORDER BY id",
            (doc_id,),
        )
        return [
            {"status": r["status"], "payload": json.loads(r["payload"]), "at": r["received_at"]}
            for r in rows
        ]

    def rejection(self, doc_id: str) -> dict[str, Any] | None:
        """The latest refusal (receipt 02) of a document: its reason
        (``description``), who refused (``from``, ``staff``) and when; None: never refused."""
        refused = [r for r in self.receipts(doc_id) if r["status"] == "02"]
        if not refused:
            return None
        payload = refused[-1]["payload"]
        return {
            "description": str(payload.get("description") or ""),
            "from": str(payload.get("from") or ""),
            "staff": str(payload.get("staff") or ""),
            "at": str(payload.get("at") or refused[-1]["at"]),
            "received_at": refused[-1]["at"],
        }

    def unanswered(self) -> list[OutboxItem]:
        """Documents the agency's system refused that the clerk has not answered
        yet (sent again or scanned again), oldest first."""
        rows = self._db.query(
            "SELECT * FROM outbox WHERE status = '02' AND answered_by IS NULL AND route = ''"
            " AND state != 'deleted' ORDER BY created_at, doc_id"
        )
        return [OutboxItem.from_row(r) for r in rows]

    def answerable(self, doc_id: str) -> OutboxItem:
        """A refused document not yet answered; anything else is refused."""
        item = self.item(doc_id)
        if not item.rejected or item.route:
            raise InputError(
                f"{doc_id} was not refused by the agency's system",
                f"văn bản {doc_id} không bị hệ thống quản lý văn bản từ chối",
            )
        if item.answered_by is not None:
            raise InputError(
                f"{doc_id} was already answered by {item.answered_by}",
                f"văn bản {doc_id} đã được gửi lại thành {item.answered_by}",
            )
        return item

    def revision_for(self, doc_id: str) -> str:
        """A doc id for a corrected copy of ``doc_id`` never used in the outbox."""
        n = 1
        while self.has(revision_id(doc_id, n)):
            n += 1
        return revision_id(doc_id, n)

    # ------------------------------------------------------------------ rescans

    def plan_rescan(self, doc_id: str) -> None:
        """ "Quét lại": the next batch scanned replaces the refused ``doc_id``
        (its document under the same label, else its first). One rescan waits
        at a time: another waiting one is cancelled."""
        self.answerable(doc_id)
        now = now_iso()
        with self._db.transaction() as db:
            db.execute(
                "UPDATE rescans SET state = 'cancelled', updated_at = ? WHERE state = 'waiting'",
                (now,),
            )
            db.execute(
                "INSERT INTO rescans (rejected, state, created_at, updated_at)"
                " VALUES (?, 'waiting', ?, ?) ON CONFLICT(rejected) DO UPDATE SET"
                " state = 'waiting', batch_id = NULL, doc_id = NULL,"
                " updated_at = excluded.updated_at",
                (doc_id, now, now),
            )

    def cancel_rescan(self, doc_id: str) -> None:
        """The clerk cancelled the rescan of ``doc_id`` (waiting, or bound to a batch)."""
        with self._db.transaction() as db:
            db.execute(
                "UPDATE rescans SET state = 'cancelled', updated_at = ?"
                " WHERE rejected = ? AND state IN ('waiting', 'bound')",
                (now_iso(), doc_id),
            )

    def bind_rescan(self, batch_id: str) -> str | None:
        """A new batch is being scanned: the waiting rescan (if any) is now this
        batch's; the refused doc id, or None."""
        with self._db.transaction() as db:
            row = db.execute("SELECT rejected FROM rescans WHERE state = 'waiting'").fetchone()
            if row is None:
                return None
            db.execute(
                "UPDATE rescans SET state = 'bound', batch_id = ?, updated_at = ?"
                " WHERE rejected = ?",
                (batch_id, now_iso(), row["rejected"]),
            )
        return str(row["rejected"])

    def unbind_rescan(self, batch_id: str) -> None:
        """The batch cannot answer its rescan (its document is secret):
        the rescan waits for the next scan again."""
        with self._db.transaction() as db:
            db.execute(
                "UPDATE rescans SET state = 'waiting', batch_id = NULL, updated_at = ?"
                " WHERE batch_id = ? AND state = 'bound'",
                (now_iso(), batch_id),
            )

    def rescan(self, *, waiting: bool = False, batch_id: str = "") -> dict[str, Any] | None:
        """The waiting rescan, or the one bound to ``batch_id``: the refused
        document's id, registration, title and reason; None when there is none."""
        if waiting:
            rows = self._db.query("SELECT * FROM rescans WHERE state = 'waiting'")
        else:
            rows = self._db.query(
                "SELECT * FROM rescans WHERE state = 'bound' AND batch_id = ?", (batch_id,)
            )
        if not rows:
            return None
        return self._refused(rows[0]["rejected"], rows[0]["state"], rows[0]["batch_id"])

    def replaced(self, doc_id: str) -> dict[str, Any] | None:
        """The refused document ``doc_id`` was queued to replace (a rescan's), as
        :meth:`rescan` tells of it; None when it replaces none."""
        if not doc_id or not self.has(doc_id):
            return None
        supersedes = self.item(doc_id).metadata.get("Supersedes")
        if not isinstance(supersedes, dict) or supersedes.get("how") != "replace":
            return None
        return self._refused(str(supersedes["doc_id"]), "done", None)

    def _refused(self, doc_id: str, state: str, batch_id: str | None) -> dict[str, Any]:
        item = self.item(doc_id)
        return {
            "doc_id": item.doc_id,
            "state": state,
            "batch_id": batch_id,
            "registration": item.metadata.get("Registration"),
            "title": _title(item.metadata),
            "rejection": self.rejection(item.doc_id) or {},
        }

    def rescan_state(self, doc_id: str) -> str | None:
        rows = self._db.query("SELECT state FROM rescans WHERE rejected = ?", (doc_id,))
        return str(rows[0]["state"]) if rows else None

    def summary(self) -> dict[str, Any]:
        """How many documents wait in each state before their receipt, and when
        the oldest of them, and the oldest not yet sent, were queued (None: none)."""
        rows = self._db.query(
            "SELECT state, count(*) AS n, min(created_at) AS oldest FROM outbox"
            " WHERE state IN ('held', 'queued', 'sent', 'announced') GROUP BY state"
        )
        counts = dict.fromkeys(OUTBOX_STATES[:4], 0)
        oldest: dict[str, str] = {}
        for row in rows:
            counts[row["state"]] = row["n"]
            oldest[row["state"]] = row["oldest"]
        return {
            "counts": counts,
            "oldest": min(oldest.values(), default=None),
            "oldest_unsent": min((v for k, v in oldest.items() if k != "announced"), default=None),
        }

    def listing(self, limit: int = 200) -> list[dict[str, Any]]:
        """Documents handed to delivery, newest first, with progress and receipts."""
        items = self.items(("held", "queued", "sent", "announced", "received", "deleted"))
        rows = []
        for item in sorted(items, key=lambda i: i.created_at, reverse=True)[:limit]:
            total = max(1, -(-item.size // item.segment_size))
            acked = len(self.acked_offsets(item.file_id)) if item.state == "queued" else 0
            rows.append(
                {
                    "doc_id": item.doc_id,
                    "registration": item.metadata.get("Registration"),
                    "title": _title(item.metadata),
                    "state": item.state,
                    "progress": round(100 * acked / total) if item.state == "queued" else None,
                    "status": item.status,
                    "received_at": item.received_at,
                    "created_at": item.created_at,
                    "receipts": self.receipts(item.doc_id),
                    "route": item.route,
                    "rejection": self.rejection(item.doc_id) if item.rejected else None,
                    "answered_by": item.answered_by,
                    "answer": item.answer,
                    "supersedes": item.metadata.get("Supersedes"),
                    "rescan": self.rescan_state(item.doc_id),
                    # "Gửi lại" needs the file: kept until the retention
                    "kept": item.state != "deleted" and item.path.is_file(),
                }
            )
        return rows


def _title(metadata: dict[str, Any]) -> str:
    return " ".join(str(metadata.get(k) or "") for k in ("TypeName", "Subject")).strip()
