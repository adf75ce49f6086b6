"""Batches and their pages: the records, the batch state machine, and the spool.

A batch moves only along the edges of :data:`BATCH_TRANSITIONS`;
:meth:`Batches.set_batch_state` refuses any other move, and
:meth:`Batches.advance_batch` walks a batch forward along :data:`FORWARD` (the
way every batch goes after capture) for the pipeline and the review.

Write order for a page, so that whatever moment power is cut, a page that was
reported is complete and a page that was not reported leaves nothing behind:

1. the bytes go to ``.pNNNNN.ext.tmp`` and are fsync'd;
2. the page row is inserted and committed (``synchronous=FULL``);
3. the temporary file is renamed to its final name and the folder fsync'd;
4. only then is the page reported to the caller.

:meth:`Batches.recover` finishes step 3 for rows whose rename was cut off, deletes
temporary files that never got a row, and marks batches that were capturing when
the process died as ``interrupted``; they can then be resumed or closed.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from station.common.direction import DIRECTIONS
from station.common.fsutil import erase, fsync_dir, storage_error
from station.errors import InputError, NotFound, StorageError
from station.store import spool
from station.store.connection import Connection, now_iso

#: the allowed batch state transitions: the pipeline, the review and the uplink
#: move batches along these edges only
BATCH_TRANSITIONS: dict[str, set[str]] = {
    "capturing": {"captured", "interrupted", "failed"},
    "interrupted": {"capturing", "captured", "cancelled"},
    "captured": {"processing", "cancelled"},
    "processing": {"review", "failed", "captured"},
    "review": {"confirmed", "processing", "cancelled"},
    "confirmed": {"done"},
    "failed": {"captured", "cancelled"},
    "done": set(),
    "cancelled": set(),
}
#: the way every batch goes after capture
FORWARD = ("captured", "processing", "review", "confirmed", "done")
PAGE_STATES = ("captured", "processed", "failed")


def forward_steps(current: str, target: str) -> list[str]:
    """The states a batch in ``current`` passes through to reach ``target`` on
    :data:`FORWARD` (an interrupted batch whose pages the clerk keeps counts as
    captured); none when it is already there or past it, or off that way."""
    if target not in FORWARD:
        raise ValueError(f"{target!r} is not a state on the way forward")
    steps = ["captured"] if current == "interrupted" else []
    start = "captured" if current == "interrupted" else current
    if start in FORWARD and FORWARD.index(start) < FORWARD.index(target):
        steps += FORWARD[FORWARD.index(start) + 1 : FORWARD.index(target) + 1]
    return steps


def new_batch_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ") + "-" + secrets.token_hex(3)


@dataclass(frozen=True)
class Batch:
    id: str
    created_at: str
    updated_at: str
    state: str
    device: str
    profile: str
    trigger: str
    error_code: str | None
    error_message: str | None
    #: when the retention removed the batch's files (None: they are kept)
    files_removed_at: str | None = None
    #: "incoming" (văn bản đến) or "outgoing" (văn bản đi)
    direction: str = "incoming"


@dataclass(frozen=True)
class Page:
    id: int
    batch_id: str
    seq: int
    input: str
    frame: int
    side: str
    path: str
    sha256: str
    size: int
    width: int
    height: int
    dpi: int
    state: str
    created_at: str
    #: a hot-folder file's SHA-256, or None
    source: str | None = None


@dataclass(frozen=True)
class RecoveryReport:
    interrupted_batches: list[str]
    renamed_pages: int
    removed_temp_files: int
    missing_pages: list[int]


class Batches(Connection):
    """The ``batches`` and ``pages`` tables and the spool folder beside them."""

    def __init__(self, db_path: Path, spool_dir: Path, min_free_bytes: int) -> None:
        self.spool = spool_dir
        self.min_free_bytes = min_free_bytes
        super().__init__(db_path)

    # ------------------------------------------------------------------ batches

    def create_batch(
        self, device: str, profile: str, trigger: str, direction: str = "incoming"
    ) -> Batch:
        if direction not in DIRECTIONS:
            raise ValueError(f"no direction {direction!r}")
        batch_id = new_batch_id()
        ts = now_iso()
        folder = self.spool / batch_id
        try:
            folder.mkdir(parents=True, exist_ok=False)
            fsync_dir(self.spool)
        except OSError as exc:
            raise storage_error(exc, folder) from exc
        try:
            with self.transaction() as db:
                db.execute(
                    "INSERT INTO batches (id, created_at, updated_at, state, device, profile,"
                    " trigger, direction) VALUES (?, ?, ?, 'capturing', ?, ?, ?, ?)",
                    (batch_id, ts, ts, device, profile, trigger, direction),
                )
        except StorageError:
            with contextlib.suppress(OSError):
                folder.rmdir()
            raise
        return self.batch(batch_id)

    def set_batch_direction(self, batch_id: str, direction: str) -> Batch:
        """A batch's documents are received or sent (the clerk's choice, a cover
        sheet); not once it is confirmed."""
        if direction not in DIRECTIONS:
            raise ValueError(f"no direction {direction!r}")
        with self.transaction() as db:
            row = db.execute("SELECT state FROM batches WHERE id = ?", (batch_id,)).fetchone()
            if row is None:
                raise NotFound(f"no batch {batch_id}", f"Không có lô {batch_id}")
            if row["state"] in ("confirmed", "done"):
                raise InputError(
                    f"batch {batch_id} is {row['state']}: its direction stays",
                    f"lô {batch_id} đã xác nhận: không đổi được văn bản đến/đi",
                )
            db.execute(
                "UPDATE batches SET direction = ?, updated_at = ? WHERE id = ?",
                (direction, now_iso(), batch_id),
            )
        return self.batch(batch_id)

    def batch(self, batch_id: str) -> Batch:
        rows = self.query("SELECT * FROM batches WHERE id = ?", (batch_id,))
        if not rows:
            raise NotFound(f"no batch {batch_id}", f"Không có lô {batch_id}")
        return Batch(**dict(rows[0]))

    def batches(self, state: str | None = None) -> list[Batch]:
        if state is None:
            rows = self.query("SELECT * FROM batches ORDER BY created_at, id")
        else:
            rows = self.query(
                "SELECT * FROM batches WHERE state = ? ORDER BY created_at, id", (state,)
            )
        return [Batch(**dict(r)) for r in rows]

    def set_batch_state(
        self,
        batch_id: str,
        state: str,
        *,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> Batch:
        """Move a batch to ``state``, if :data:`BATCH_TRANSITIONS` allows it."""
        with self.transaction() as db:
            row = db.execute("SELECT state FROM batches WHERE id = ?", (batch_id,)).fetchone()
            if row is None:
                raise NotFound(f"no batch {batch_id}", f"Không có lô {batch_id}")
            current = row["state"]
            if state not in BATCH_TRANSITIONS.get(current, set()):
                raise StorageError(
                    f"batch {batch_id} cannot go from {current} to {state}",
                    f"Lô {batch_id} không thể chuyển từ {current} sang {state}",
                )
            db.execute(
                "UPDATE batches SET state = ?, updated_at = ?,"
                " error_code = COALESCE(?, error_code), error_message = COALESCE(?, error_message)"
                " WHERE id = ?",
                (state, now_iso(), error_code, error_message, batch_id),
            )
        return self.batch(batch_id)

    def advance_batch(self, batch_id: str, target: str) -> None:
        """Move a capture batch forward to ``target`` (:func:`forward_steps`); a
        batch already there or past it stays."""
        for step in forward_steps(self.batch(batch_id).state, target):
            self.set_batch_state(batch_id, step)

    # ------------------------------------------------------------------ pages

    def add_page(
        self,
        batch_id: str,
        data: bytes,
        *,
        ext: str,
        input_name: str,
        frame: int,
        side: str,
        width: int,
        height: int,
        dpi: int,
        source: str = "",
    ) -> Page:
        """Store one captured frame durably (see the module docstring for the order)."""
        if not re.fullmatch(r"[a-z0-9]{2,5}", ext):
            raise StorageError(f"bad page file extension {ext!r}")
        folder = self.spool / batch_id
        spool.check_room(folder, len(data), self.min_free_bytes)
        digest = hashlib.sha256(data).hexdigest()
        with self._lock:
            row = self._db.execute(
                "SELECT state, (SELECT COALESCE(MAX(seq), 0) FROM pages WHERE batch_id = ?) AS last"
                " FROM batches WHERE id = ?",
                (batch_id, batch_id),
            ).fetchone()
            if row is None:
                raise NotFound(f"no batch {batch_id}", f"Không có lô {batch_id}")
            if row["state"] != "capturing":
                raise StorageError(f"batch {batch_id} is {row['state']}, not capturing")
            seq = row["last"] + 1
            name = f"p{seq:05d}.{ext}"
            final = folder / name
            tmp = folder / f".{name}.tmp"
            spool.write_synced(tmp, data)
            ts = now_iso()
            with spool.unlinked_on_error(tmp), self.transaction() as db:
                cur = db.execute(
                    "INSERT INTO pages (batch_id, seq, input, frame, side, path, sha256, size,"
                    " width, height, dpi, created_at, source)"
                    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    (
                        batch_id,
                        seq,
                        input_name,
                        frame,
                        side,
                        f"{batch_id}/{name}",
                        digest,
                        len(data),
                        width,
                        height,
                        dpi,
                        ts,
                        source or None,
                    ),
                )
                page_id = cur.lastrowid
                counters = ["pages_total", "pages_since_roller"]
                if side != "back":  # a sheet went through the rollers
                    counters += ["sheets_total", "sheets_since_roller"]
                for counter in counters:
                    db.execute(
                        "INSERT INTO counters (name, value) VALUES (?, 1)"
                        " ON CONFLICT(name) DO UPDATE SET value = value + 1",
                        (counter,),
                    )
                db.execute("UPDATE batches SET updated_at = ? WHERE id = ?", (ts, batch_id))
            try:
                tmp.replace(final)
                fsync_dir(folder)
            except OSError as exc:  # the row is committed: recover() renames it at the next start
                raise storage_error(exc, final) from exc
        assert page_id is not None
        return self.page(page_id)

    def page(self, page_id: int) -> Page:
        rows = self.query("SELECT * FROM pages WHERE id = ?", (page_id,))
        if not rows:
            raise NotFound(f"no page {page_id}", f"Không có trang {page_id}")
        return Page(**dict(rows[0]))

    def pages(self, batch_id: str) -> list[Page]:
        rows = self.query("SELECT * FROM pages WHERE batch_id = ? ORDER BY seq", (batch_id,))
        return [Page(**dict(r)) for r in rows]

    def page_path(self, page: Page) -> Path:
        return self.spool / page.path

    def sources_of(self, page_ids: Iterable[int]) -> set[str]:
        """The hot-folder files these pages came from (``source``: the file's
        SHA-256), for those that came from one."""
        ids = list(page_ids)
        marks = ",".join("?" * len(ids))
        rows = self.query(
            f"SELECT DISTINCT source FROM pages WHERE id IN ({marks}) AND source != ''",  # noqa: S608
            tuple(ids),
        )
        return {row["source"] for row in rows if row["source"]}

    def erase_pages(self, page_ids: Iterable[int]) -> int:
        """Pages that must not stay on the station (a secret document's): each
        file in the spool overwritten and removed, then its row deleted (the
        database overwrites deleted rows: ``secure_delete``); returns how many
        files there were."""
        erased = 0
        for page_id in page_ids:
            rows = self.query("SELECT path FROM pages WHERE id = ?", (page_id,))
            if rows:
                erased += erase(self.spool / rows[0]["path"])
                with self.transaction() as db:
                    db.execute("DELETE FROM pages WHERE id = ?", (page_id,))
        return erased

    def verify_pages(self, batch_id: str) -> list[int]:
        """Re-hash every page file of a batch; returns the ids of pages that do not match."""
        bad = []
        for page in self.pages(batch_id):
            try:
                data = self.page_path(page).read_bytes()
            except OSError:
                bad.append(page.id)
                continue
            if hashlib.sha256(data).hexdigest() != page.sha256:
                bad.append(page.id)
        return bad

    # ------------------------------------------------------------------ recovery

    def recover(self) -> RecoveryReport:
        """Bring the store to a consistent state after a crash or power loss."""
        rows = self.query(
            "SELECT p.id, p.path, b.files_removed_at FROM pages p"
            " JOIN batches b ON b.id = p.batch_id"
        )
        known = {r["path"]: r["id"] for r in rows}
        renamed, removed = spool.finish_renames(self.spool, set(known))
        # the pages of a batch the retention cleared are gone on purpose
        kept = {r["path"]: r["id"] for r in rows if r["files_removed_at"] is None}
        missing = [page_id for rel, page_id in kept.items() if not (self.spool / rel).exists()]
        interrupted = []
        for batch in self.batches("capturing"):
            self.set_batch_state(batch.id, "interrupted")
            interrupted.append(batch.id)
        return RecoveryReport(interrupted, renamed, removed, missing)
