"""Retention: a batch's files are removed once nobody needs them; its rows stay.

A station keeps the pages it captured (``spool/{batch}/``) and the review's
work (``work/{batch}/``: cleaned and turned pages, thumbnails, the PDFs) only
as long as it must (docs/security.md#where-documents-rest-and-for-how-long):

- a **delivered** batch: once every document of it has its receipt 01
  (received by the agency's system) and the last of those receipts is older
  than ``received`` (``[uplink] retention_hours``);
- a **cancelled** batch (state ``cancelled``: a capture that ended with no
  page, or a batch whose only documents were secret and stopped,
  station/pipeline/secret.py; nothing can take it up again) once it has been
  cancelled longer than ``cancelled`` (``[station] cancelled_retention_hours``).

The unit is a review and the capture batches that fed it (pages scanned into
a batch under review join that review): their files go together, and only
when every one of them is ``done`` or ``cancelled``. A batch still capturing,
interrupted, being read, under review, failed or confirming is never touched,
nor is a batch with a document not yet received.

A hot folder's originals (its ``.done/``) go with the files of the batches
their pages are in (station/store/originals.py).

Files are erased (:func:`station.common.fsutil.erase`: overwritten, then
removed) and their folders removed; then, in one transaction, the batches get
``files_removed_at`` and the event ``retention.removed`` is recorded, and the
documents' outbox rows become ``deleted``. The rows (batches, pages,
documents, receipts, the register) stay: the register and the statistics need
them. A run cut off half way leaves files of a batch not yet marked; the next
run (at every start, then every :func:`interval`) erases the rest, so a run
can be repeated at any time and does nothing more the second time.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from station.common.fsutil import erase_tree
from station.store.connection import now_iso
from station.store.database import Store
from station.store.originals import Originals

log = logging.getLogger("scanstation.store")

#: the event recorded for each review whose files were removed (docs/mqtt.md)
EVENT = "retention.removed"
#: the states after which a batch's files may go
_FINAL = ("done", "cancelled")
#: a run at least this often, and at most this often, whatever the periods
LONGEST_WAIT_S = 600.0
SHORTEST_WAIT_S = 5.0


@dataclass(frozen=True)
class Periods:
    """How long files are kept: after the last receipt 01 of a batch's
    documents, and after a batch was cancelled."""

    received: timedelta
    cancelled: timedelta


@dataclass(frozen=True)
class Removal:
    """What a run removed for one review (or one batch that never had one)."""

    batch_id: str
    #: every batch whose files went: the review and the capture batches that fed it
    batches: tuple[str, ...]
    #: "received" or "cancelled"
    reason: str
    documents: tuple[str, ...]
    files: int
    bytes: int


def interval(periods: Periods) -> float:
    """Seconds between two runs: a quarter of the shorter period, from
    :data:`SHORTEST_WAIT_S` to :data:`LONGEST_WAIT_S`; files then stay at most
    a quarter longer than their period (or ten minutes)."""
    shorter = min(periods.received, periods.cancelled).total_seconds()
    return min(LONGEST_WAIT_S, max(SHORTEST_WAIT_S, shorter / 4))


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


class Retention:
    """Finds the batches past their retention and removes their files."""

    def __init__(self, store: Store, work: Path, originals: Originals | None = None) -> None:
        self.store = store
        #: the review's work folder (station/review/drafts.py)
        self.work = work
        #: a hot folder's originals, which go with the batches' files
        self.originals = originals

    # ------------------------------------------------------------------ finding

    def _reviews_of(self, batch_id: str) -> list[str]:
        rows = self.store.query(
            "SELECT DISTINCT r.batch_id FROM review_pages r JOIN pages p ON p.id = r.page_id"
            " WHERE p.batch_id = ?",
            (batch_id,),
        )
        return [r["batch_id"] for r in rows]

    def _members(self, review: str) -> list[str]:
        """The review and every capture batch whose pages joined it."""
        rows = self.store.query(
            "SELECT DISTINCT p.batch_id FROM review_pages r JOIN pages p ON p.id = r.page_id"
            " WHERE r.batch_id = ?",
            (review,),
        )
        return sorted({review, *(r["batch_id"] for r in rows)})

    def _documents(self, review: str) -> list[str]:
        rows = self.store.query(
            "SELECT id AS doc_id FROM documents WHERE batch_id = ?"
            " UNION SELECT doc_id FROM review_docs WHERE batch_id = ?",
            (review, review),
        )
        return sorted(r["doc_id"] for r in rows)

    def _received_at(self, docs: list[str]) -> datetime | None:
        """When the last of these documents got its first receipt 01; None
        while one of them has none."""
        marks = ",".join("?" * len(docs))
        rows = self.store.query(
            "SELECT doc_id, min(received_at) AS at FROM receipts"  # noqa: S608
            f" WHERE status = '01' AND doc_id IN ({marks}) GROUP BY doc_id",
            tuple(docs),
        )
        if len(rows) < len(docs):
            return None
        return max(_time(r["at"]) for r in rows)

    def due(self, periods: Periods, now: datetime | None = None) -> list[tuple[str, str]]:
        """(review, reason) for each review whose files are past their retention."""
        now = now or datetime.now(UTC)
        candidates = self.store.query(
            "SELECT id FROM batches WHERE files_removed_at IS NULL"
            " AND state IN ('done', 'cancelled') ORDER BY created_at, id"
        )
        seen: set[str] = set()
        found: list[tuple[str, str]] = []
        for row in candidates:
            for review in self._reviews_of(row["id"]) or [row["id"]]:
                if review in seen:
                    continue
                seen.add(review)
                reason = self._reason(review, periods, now)
                if reason is not None:
                    found.append((review, reason))
        return found

    def _reason(self, review: str, periods: Periods, now: datetime) -> str | None:
        members = self._members(review)
        marks = ",".join("?" * len(members))
        rows = self.store.query(
            f"SELECT state, updated_at FROM batches WHERE id IN ({marks})",  # noqa: S608
            tuple(members),
        )
        states = {r["state"] for r in rows}
        if not states or not states <= set(_FINAL):
            return None  # a batch of it is still at work (or unknown)
        if states == {"cancelled"}:
            cancelled = max(_time(r["updated_at"]) for r in rows)
            return "cancelled" if cancelled + periods.cancelled <= now else None
        docs = self._documents(review)
        if not docs:
            return None  # a confirmed batch always has documents: kept, to be looked at
        received = self._received_at(docs)
        if received is None or received + periods.received > now:
            return None
        return "received"

    # ------------------------------------------------------------------ removing

    def run(
        self, periods: Periods, now: datetime | None = None, stop: threading.Event | None = None
    ) -> list[Removal]:
        """Remove the files of every review past its retention (until ``stop``
        is set: the rest waits for the next run); what went. Then the hot
        folder's originals whose batches' files are gone, or that held a
        secret document (:class:`~station.store.originals.Originals`), and a
        write-ahead log that an erasure could not empty (or the one found at
        start: :meth:`Store.scrub`)."""
        done = []
        for review, reason in self.due(periods, now):
            if stop is not None and stop.is_set():
                break
            done.append(self.remove(review, reason))
        if self.originals is not None and not (stop is not None and stop.is_set()):
            self.originals.sweep()
        if self.store.scrub_due:
            self.store.scrub()
        return done

    def remove(self, review: str, reason: str) -> Removal:
        """Erase the files of a review and its capture batches, then record it."""
        members = self._members(review)
        docs = self._documents(review)
        files = size = 0
        for folder in [self.store.spool / m for m in members] + [self.work / m for m in members]:
            erased, length = erase_tree(folder)
            files += erased
            size += length
        now = now_iso()
        marks = ",".join("?" * len(members))
        words = {
            "received": ("đã được nơi nhận xác nhận", "received by the agency"),
            "cancelled": ("đã hủy", "cancelled"),
        }[reason]
        with self.store.transaction() as db:
            db.execute(
                f"UPDATE batches SET files_removed_at = ? WHERE id IN ({marks})",  # noqa: S608
                (now, *members),
            )
            self.store.events.add(
                "retention.removed",
                "info",
                f"Đã xóa tệp của lô {review} ({words[0]}) theo thời hạn lưu giữ:"
                f" {files} tệp, {size // 1024} KiB",
                f"Removed the files of batch {review} ({words[1]}) after retention:"
                f" {files} files, {size // 1024} KiB",
                {
                    "batch": review,
                    "batches": members,
                    "reason": reason,
                    "documents": len(docs),
                    "files": files,
                    "bytes": size,
                },
                within=db,
            )
        for doc_id in docs:
            self.store.outbox.set_state(doc_id, "deleted")
        log.info("retention: removed %d files (%d bytes) of batch %s", files, size, review)
        return Removal(review, tuple(members), reason, tuple(docs), files, size)
