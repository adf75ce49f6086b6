"""The durable store: SQLite (WAL) plus a spool folder. The single source of truth.

Layout under ``data_dir``::

    store.sqlite3          batches, pages, documents, events, counters
    spool/{batch_id}/      p00001.png, p00002.jpg, … (one file per captured frame)
    .lock                  held by the process that owns the store (the daemon or a scan)

Write order for a page, so that whatever moment power is cut, a page that was
reported is complete and a page that was not reported leaves nothing behind:

1. the bytes go to ``.pNNNNN.ext.tmp`` and are fsync'd;
2. the page row is inserted and committed (``synchronous=FULL``);
3. the temporary file is renamed to its final name and the folder fsync'd;
4. only then is the page reported to the caller.

:meth:`Store.recover` finishes step 3 for rows whose rename was cut off, deletes
temporary files that never got a row, and marks batches that were capturing when
the process died as ``interrupted``; they can then be resumed or closed.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import os
import re
import secrets
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station.common.dbutil import immediate
from station.common.fsutil import free_bytes, fsync_dir, full_disk, sha256_file, storage_error
from station.errors import DiskFull, NotFound, StorageError, StorageFull
from station.store import check as storecheck

# Allowed batch state transitions. Later stages (pipeline, review, uplink) move
# batches forward along these edges only.
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
PAGE_STATES = ("captured", "processed", "failed")

_SCHEMA = [
    # version 1
    """
    CREATE TABLE batches (
        id            TEXT PRIMARY KEY,
        created_at    TEXT NOT NULL,
        updated_at    TEXT NOT NULL,
        state         TEXT NOT NULL,
        device        TEXT NOT NULL,
        profile       TEXT NOT NULL,
        trigger       TEXT NOT NULL,
        error_code    TEXT,
        error_message TEXT
    );
    CREATE TABLE pages (
        id         INTEGER PRIMARY KEY,
        batch_id   TEXT NOT NULL REFERENCES batches(id),
        seq        INTEGER NOT NULL,
        input      TEXT NOT NULL,
        frame      INTEGER NOT NULL,
        side       TEXT NOT NULL,
        path       TEXT NOT NULL,
        sha256     TEXT NOT NULL,
        size       INTEGER NOT NULL,
        width      INTEGER NOT NULL,
        height     INTEGER NOT NULL,
        dpi        INTEGER NOT NULL,
        state      TEXT NOT NULL DEFAULT 'captured',
        created_at TEXT NOT NULL,
        UNIQUE (batch_id, seq)
    );
    CREATE TABLE events (
        id         INTEGER PRIMARY KEY,
        ts         TEXT NOT NULL,
        type       TEXT NOT NULL,
        severity   TEXT NOT NULL,
        message_vi TEXT NOT NULL,
        message_en TEXT NOT NULL,
        detail     TEXT NOT NULL,
        published  INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE counters (
        name  TEXT PRIMARY KEY,
        value INTEGER NOT NULL
    );
    CREATE INDEX pages_by_batch ON pages (batch_id, seq);
    CREATE INDEX batches_by_state ON batches (state);
    CREATE INDEX events_unpublished ON events (published) WHERE published = 0;
    """,
    # version 2: documents and their Decree 30 metadata
    """
    CREATE TABLE documents (
        id            TEXT PRIMARY KEY,
        batch_id      TEXT NOT NULL,
        registration  TEXT,
        pdf           TEXT,
        metadata      TEXT NOT NULL,
        duplicate_key TEXT,
        created_at    TEXT NOT NULL
    );
    CREATE INDEX documents_by_key ON documents (duplicate_key) WHERE duplicate_key IS NOT NULL;
    """,
    # version 3: the outbox (DESIGN §3.4): documents to deliver, acknowledged
    # segments, receipts
    """
    CREATE TABLE outbox (
        doc_id       TEXT PRIMARY KEY,
        file_id      TEXT NOT NULL UNIQUE,
        path         TEXT NOT NULL,
        size         INTEGER NOT NULL,
        sha256       TEXT NOT NULL,
        metadata     TEXT NOT NULL,
        segment_size INTEGER NOT NULL,
        state        TEXT NOT NULL,
        attempts     INTEGER NOT NULL DEFAULT 0,
        status       TEXT,
        received_at  TEXT,
        created_at   TEXT NOT NULL,
        updated_at   TEXT NOT NULL
    );
    CREATE TABLE file_ids (
        file_id TEXT PRIMARY KEY,
        doc_id  TEXT NOT NULL
    );
    CREATE TABLE acked_segments (
        file_id TEXT NOT NULL,
        offset  INTEGER NOT NULL,
        PRIMARY KEY (file_id, offset)
    );
    CREATE TABLE receipts (
        id          INTEGER PRIMARY KEY,
        doc_id      TEXT NOT NULL,
        status      TEXT NOT NULL,
        payload     TEXT NOT NULL,
        received_at TEXT NOT NULL
    );
    CREATE INDEX outbox_by_state ON outbox (state, created_at);
    """,
    # version 4: the clerk's review of a batch (station/review/drafts.py): cleaned pages
    # and draft documents; a capture batch's pages may join another batch's review
    """
    CREATE TABLE review_pages (
        page_id   INTEGER PRIMARY KEY,
        batch_id  TEXT NOT NULL,
        position  INTEGER NOT NULL,
        info      TEXT NOT NULL,
        clean     TEXT,
        thumb     TEXT,
        rotation  INTEGER NOT NULL DEFAULT 0,
        deleted   INTEGER NOT NULL DEFAULT 0,
        doc_id    TEXT,
        doc_seq   INTEGER
    );
    CREATE INDEX review_pages_by_batch ON review_pages (batch_id, position);
    CREATE TABLE review_docs (
        doc_id       TEXT PRIMARY KEY,
        batch_id     TEXT NOT NULL,
        seq          INTEGER NOT NULL,
        registration TEXT,
        metadata     TEXT NOT NULL,
        edited       TEXT NOT NULL DEFAULT '[]',
        warnings     TEXT NOT NULL DEFAULT '[]',
        pdf          TEXT,
        stale        INTEGER NOT NULL DEFAULT 1
    );
    CREATE INDEX review_docs_by_batch ON review_docs (batch_id, seq);
    """,
    # version 5: where a frame came from (a hot-folder file's SHA-256), so a
    # file read again after a crash is not stored twice
    """
    ALTER TABLE pages ADD COLUMN source TEXT;
    CREATE INDEX pages_by_source ON pages (source, frame) WHERE source IS NOT NULL;
    """,
    # version 6: batches under review whose auto-confirm countdown the clerk
    # stopped (or edited), so a restart does not start it again
    """
    CREATE TABLE review_holds (
        batch_id TEXT PRIMARY KEY,
        at       TEXT NOT NULL
    );
    """,
    # version 7: the incoming register (Sổ đăng ký văn bản đến, station/records/register.py)
    """
    CREATE TABLE register (
        doc_id        TEXT PRIMARY KEY,
        batch_id      TEXT NOT NULL,
        registration  TEXT NOT NULL,
        year          INTEGER NOT NULL,
        number        INTEGER NOT NULL,
        arrival_date  TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        author        TEXT,
        code          TEXT,
        issued_date   TEXT,
        summary       TEXT,
        priority      TEXT,
        recipient     TEXT NOT NULL DEFAULT '',
        transfer_date TEXT,
        received_by   TEXT NOT NULL DEFAULT '',
        note          TEXT NOT NULL DEFAULT '',
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX register_by_number ON register (year, number);
    CREATE INDEX register_by_arrival ON register (arrival_date);
    CREATE INDEX register_by_registration ON register (registration);
    """,
]

#: states of a document in the outbox, in order; "held" waits for its signature
OUTBOX_STATES = ("held", "queued", "sent", "announced", "received", "deleted")

_PAGE_NAME = re.compile(r"^p(\d{5,})\.([a-z0-9]+)$")
_TMP_NAME = re.compile(r"^\.p(\d{5,})\.([a-z0-9]+)\.tmp$")


def duplicate_key(metadata: dict[str, Any]) -> str | None:
    """Number + symbol + issuing agency, compared without case or spacing
    ("07" and "7" are one number); None when any of them is unknown."""
    number, notation, organ = (
        metadata.get("CodeNumber"),
        metadata.get("CodeNotation"),
        metadata.get("OrganName"),
    )
    if not number or not notation or not organ or not str(number).isdigit():
        return None
    squeeze = "".join(str(organ).split()).casefold()
    return f"{int(number)}|{''.join(str(notation).split()).casefold()}|{squeeze}"


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
        )


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


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
class Event:
    id: int
    ts: str
    type: str
    severity: str
    message_vi: str
    message_en: str
    detail: dict[str, Any]
    published: bool


@dataclass(frozen=True)
class RecoveryReport:
    interrupted_batches: list[str]
    renamed_pages: int
    removed_temp_files: int
    missing_pages: list[int]


class Store:
    """Access to the station's database and spool. Thread-safe (one lock)."""

    def __init__(self, data_dir: Path, *, min_free_bytes: int = 0, owner: bool = False) -> None:
        self.data_dir = data_dir
        self.spool = data_dir / "spool"
        self.db_path = data_dir / "store.sqlite3"
        self.min_free_bytes = min_free_bytes
        self._lock = threading.RLock()
        self._lock_fd: int | None = None
        try:
            self.spool.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise storage_error(exc, self.spool) from exc
        if owner:
            self._take_ownership()
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
            problems = storecheck.quick_check(self._db)
            if not problems:
                self._migrate()
        except sqlite3.DatabaseError as exc:  # not a database at all, or cut short
            problems = [str(exc)]
        if problems:
            self.close()
            raise storecheck.damaged(self.db_path, problems)

    # ------------------------------------------------------------------ lifecycle

    def _take_ownership(self) -> None:
        path = self.data_dir / ".lock"
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o640)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise StorageError(
                f"the store {self.data_dir} is in use by another process (pid {holder})",
                f"Kho dữ liệu {self.data_dir} đang được tiến trình khác dùng (pid {holder})",
            ) from None
        os.ftruncate(fd, 0)
        os.write(fd, str(os.getpid()).encode())
        self._lock_fd = fd

    def close(self) -> None:
        with self._lock:
            self._db.close()
            if self._lock_fd is not None:
                os.close(self._lock_fd)
                self._lock_fd = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _migrate(self) -> None:
        with self._lock:
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            for number, script in enumerate(_SCHEMA[version:], start=version + 1):
                with self._tx():
                    for statement in script.split(";"):
                        if statement.strip():
                            self._db.execute(statement)
                    self._db.execute(f"PRAGMA user_version = {number}")

    @contextlib.contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
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

    def transaction(self) -> contextlib.AbstractContextManager[sqlite3.Connection]:
        """A write transaction, for the store's companion modules (review)."""
        return self._tx()

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        with self._lock:
            return self._db.execute(sql, params).fetchall()

    # ------------------------------------------------------------------ batches

    def create_batch(self, device: str, profile: str, trigger: str) -> Batch:
        batch_id = new_batch_id()
        ts = now_iso()
        folder = self.spool / batch_id
        try:
            folder.mkdir(parents=True, exist_ok=False)
            fsync_dir(self.spool)
        except OSError as exc:
            raise storage_error(exc, folder) from exc
        try:
            with self._tx() as db:
                db.execute(
                    "INSERT INTO batches (id, created_at, updated_at, state, device, profile,"
                    " trigger) VALUES (?, ?, ?, 'capturing', ?, ?, ?)",
                    (batch_id, ts, ts, device, profile, trigger),
                )
        except StorageError:
            with contextlib.suppress(OSError):
                folder.rmdir()
            raise
        return self.batch(batch_id)

    def batch(self, batch_id: str) -> Batch:
        with self._lock:
            row = self._db.execute("SELECT * FROM batches WHERE id = ?", (batch_id,)).fetchone()
        if row is None:
            raise NotFound(f"no batch {batch_id}", f"Không có lô {batch_id}")
        return Batch(**dict(row))

    def batches(self, state: str | None = None) -> list[Batch]:
        with self._lock:
            if state is None:
                rows = self._db.execute("SELECT * FROM batches ORDER BY created_at, id").fetchall()
            else:
                rows = self._db.execute(
                    "SELECT * FROM batches WHERE state = ? ORDER BY created_at, id", (state,)
                ).fetchall()
        return [Batch(**dict(r)) for r in rows]

    def set_batch_state(
        self,
        batch_id: str,
        state: str,
        *,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> Batch:
        with self._tx() as db:
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
        free = free_bytes(folder)
        if free < len(data):
            raise StorageFull(
                f"disk full: {free} bytes free for a page of {len(data)}",
                f"Hết dung lượng lưu trữ: còn {free} byte cho một trang {len(data)} byte",
                free_bytes=free,
            )
        if free - len(data) < self.min_free_bytes:
            raise DiskFull(
                f"free space {free // 2**20} MiB is below the floor of "
                f"{self.min_free_bytes // 2**20} MiB; capture stopped",
                f"Dung lượng trống {free // 2**20} MiB dưới mức tối thiểu "
                f"{self.min_free_bytes // 2**20} MiB; đã dừng quét",
                free_bytes=free,
            )
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
            self._write_synced(tmp, data)
            ts = now_iso()
            with self._unlinked_on_error(tmp), self._tx() as db:
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

    @staticmethod
    @contextlib.contextmanager
    def _unlinked_on_error(path: Path) -> Iterator[None]:
        """A page file whose row was not recorded (the disk is full) is removed."""
        try:
            yield
        except BaseException:
            with contextlib.suppress(OSError):
                path.unlink()
            raise

    @staticmethod
    def _write_synced(path: Path, data: bytes) -> None:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o640)
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError as exc:
            with contextlib.suppress(OSError):
                path.unlink()
            raise storage_error(exc, path) from exc

    def has_frame(self, source: str, frame: int) -> bool:
        """Whether a frame of this source (a hot-folder file's SHA-256) is stored."""
        with self._lock:
            row = self._db.execute(
                "SELECT 1 FROM pages WHERE source = ? AND frame = ? LIMIT 1", (source, frame)
            ).fetchone()
        return row is not None

    def page(self, page_id: int) -> Page:
        with self._lock:
            row = self._db.execute("SELECT * FROM pages WHERE id = ?", (page_id,)).fetchone()
        if row is None:
            raise NotFound(f"no page {page_id}", f"Không có trang {page_id}")
        return Page(**dict(row))

    def pages(self, batch_id: str) -> list[Page]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM pages WHERE batch_id = ? ORDER BY seq", (batch_id,)
            ).fetchall()
        return [Page(**dict(r)) for r in rows]

    def page_path(self, page: Page) -> Path:
        return self.spool / page.path

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
        renamed = removed = 0
        missing: list[int] = []
        with self._lock:
            rows = self._db.execute("SELECT id, path FROM pages").fetchall()
        known = {r["path"]: r["id"] for r in rows}
        for folder in sorted(p for p in self.spool.iterdir() if p.is_dir()):
            for item in folder.iterdir():
                tmp = _TMP_NAME.match(item.name)
                if not tmp:
                    continue
                final_rel = f"{folder.name}/{item.name[1:-4]}"
                if final_rel in known and not (self.spool / final_rel).exists():
                    item.replace(self.spool / final_rel)
                    renamed += 1
                else:
                    item.unlink()
                    removed += 1
            fsync_dir(folder)
        for rel, page_id in known.items():
            if not (self.spool / rel).exists():
                missing.append(page_id)
        interrupted = []
        for batch in self.batches("capturing"):
            self.set_batch_state(batch.id, "interrupted")
            interrupted.append(batch.id)
        return RecoveryReport(interrupted, renamed, removed, missing)

    # ------------------------------------------------------------------ events

    def add_event(
        self,
        type_: str,
        severity: str,
        message_vi: str,
        message_en: str,
        detail: dict[str, Any] | None = None,
    ) -> Event:
        with self._tx() as db:
            cur = db.execute(
                "INSERT INTO events (ts, type, severity, message_vi, message_en, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (
                    now_iso(),
                    type_,
                    severity,
                    message_vi,
                    message_en,
                    json.dumps(detail or {}, ensure_ascii=False, default=str),
                ),
            )
            event_id = cur.lastrowid
        assert event_id is not None
        return self.events(since_id=event_id - 1, limit=1)[0]

    def events(self, since_id: int = 0, limit: int = 100) -> list[Event]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM events WHERE id > ? ORDER BY id LIMIT ?", (since_id, limit)
            ).fetchall()
        return [
            Event(
                id=r["id"],
                ts=r["ts"],
                type=r["type"],
                severity=r["severity"],
                message_vi=r["message_vi"],
                message_en=r["message_en"],
                detail=json.loads(r["detail"]),
                published=bool(r["published"]),
            )
            for r in rows
        ]

    def unpublished_events(self, limit: int = 100) -> list[Event]:
        """Events not yet handed to the broker, oldest first."""
        with self._lock:
            row = self._db.execute("SELECT min(id) FROM events WHERE published = 0").fetchone()
        if row[0] is None:
            return []
        return [e for e in self.events(since_id=row[0] - 1, limit=limit) if not e.published]

    def mark_event_published(self, event_id: int) -> None:
        with self._tx() as db:
            db.execute("UPDATE events SET published = 1 WHERE id = ?", (event_id,))

    def last_event(self, severity: str = "error") -> Event | None:
        with self._lock:
            row = self._db.execute(
                "SELECT max(id) FROM events WHERE severity = ?", (severity,)
            ).fetchone()
        if row[0] is None:
            return None
        return self.events(since_id=row[0] - 1, limit=1)[0]

    def last_events_of(self, types: Iterable[str]) -> dict[str, Event]:
        """The latest event of each of these types."""
        wanted = sorted(set(types))
        marks = ",".join("?" * len(wanted)) or "NULL"
        with self._lock:
            ids = self._db.execute(
                f"SELECT max(id) FROM events WHERE type IN ({marks}) GROUP BY type",  # noqa: S608
                wanted,
            ).fetchall()
        found = [self.events(since_id=row[0] - 1, limit=1)[0] for row in ids]
        return {event.type: event for event in found}

    # ------------------------------------------------------------------ documents

    def add_document(
        self,
        doc_id: str,
        batch_id: str,
        registration: str | None,
        pdf: str | None,
        metadata: dict[str, Any],
    ) -> None:
        """Record a document (again: its latest metadata wins)."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO documents (id, batch_id, registration, pdf, metadata, duplicate_key,"
                " created_at) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(id) DO UPDATE SET"
                " registration = excluded.registration, pdf = excluded.pdf,"
                " metadata = excluded.metadata, duplicate_key = excluded.duplicate_key",
                (
                    doc_id,
                    batch_id,
                    registration,
                    pdf,
                    json.dumps(metadata, ensure_ascii=False),
                    duplicate_key(metadata),
                    now_iso(),
                ),
            )

    def same_documents(self, metadata: dict[str, Any], exclude: str = "") -> list[dict[str, Any]]:
        """Documents on file with the same number, symbol and issuing agency."""
        key = duplicate_key(metadata)
        if key is None:
            return []
        with self._lock:
            rows = self._db.execute(
                "SELECT id, batch_id, registration, created_at FROM documents"
                " WHERE duplicate_key = ? AND id != ? ORDER BY created_at",
                (key, exclude),
            ).fetchall()
        return [dict(row) for row in rows]

    # ------------------------------------------------------------------ outbox

    def enqueue(
        self,
        doc_id: str,
        path: Path,
        metadata: dict[str, Any],
        segment_size: int,
        *,
        held: bool = False,
    ) -> OutboxItem:
        """Queue a document's file for delivery (again: nothing changes); ``held``
        keeps it back until :meth:`release` (a signature still missing)."""
        checksum = sha256_file(path)
        now = now_iso()
        file_id = new_file_id()
        with self._tx() as db:
            db.execute(
                "INSERT INTO outbox (doc_id, file_id, path, size, sha256, metadata, segment_size,"
                " state, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
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
                ),
            )
            db.execute(
                "INSERT OR IGNORE INTO file_ids (file_id, doc_id) VALUES (?, ?)", (file_id, doc_id)
            )
        return self.outbox_item(doc_id)

    def release(self, doc_id: str) -> OutboxItem:
        """A held document's file is final (signed): record its size and
        checksum again and queue it."""
        item = self.outbox_item(doc_id)
        if item.state != "held":
            return item
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET size = ?, sha256 = ?, state = 'queued', updated_at = ?"
                " WHERE doc_id = ? AND state = 'held'",
                (item.path.stat().st_size, sha256_file(item.path), now_iso(), doc_id),
            )
        return self.outbox_item(doc_id)

    def outbox_item(self, doc_id: str) -> OutboxItem:
        with self._lock:
            row = self._db.execute("SELECT * FROM outbox WHERE doc_id = ?", (doc_id,)).fetchone()
        if row is None:
            raise NotFound(f"no document {doc_id} in the outbox", f"Không có văn bản {doc_id}")
        return OutboxItem.from_row(row)

    def outbox(self, states: tuple[str, ...] = ("queued", "sent")) -> list[OutboxItem]:
        """Documents in the given states, oldest first."""
        marks = ",".join("?" * len(states))
        with self._lock:
            rows = self._db.execute(
                f"SELECT * FROM outbox WHERE state IN ({marks}) ORDER BY created_at, doc_id",  # noqa: S608
                states,
            ).fetchall()
        return [OutboxItem.from_row(r) for r in rows]

    def set_outbox_state(self, doc_id: str, state: str) -> None:
        """Move a document forward to ``state``; never back (a receipt can
        arrive before the sender has recorded that it announced the document)."""
        if state not in OUTBOX_STATES:
            raise ValueError(f"unknown outbox state {state!r}")
        earlier = OUTBOX_STATES[: OUTBOX_STATES.index(state)]
        marks = ",".join("?" * len(earlier)) or "NULL"
        with self._tx() as db:
            db.execute(
                "UPDATE outbox SET state = ?, updated_at = ?"  # noqa: S608
                f" WHERE doc_id = ? AND state IN ({marks})",
                (state, now_iso(), doc_id, *earlier),
            )

    def renew_file_id(self, doc_id: str) -> str:
        """A new file id for a document whose transfer was given up; never one used before."""
        file_id = new_file_id()
        with self._tx() as db:
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

    def ack_segment(self, file_id: str, offset: int) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT OR IGNORE INTO acked_segments (file_id, offset) VALUES (?, ?)",
                (file_id, offset),
            )

    def forget_segments(self, file_id: str) -> None:
        with self._tx() as db:
            db.execute("DELETE FROM acked_segments WHERE file_id = ?", (file_id,))

    def acked_offsets(self, file_id: str) -> set[int]:
        with self._lock:
            rows = self._db.execute(
                "SELECT offset FROM acked_segments WHERE file_id = ?", (file_id,)
            ).fetchall()
        return {r["offset"] for r in rows}

    def record_receipt(self, doc_id: str, status: str, payload: dict[str, Any]) -> None:
        """A receipt or later DMS status; status 01 with a matching checksum
        marks the document received."""
        now = now_iso()
        with self._tx() as db:
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
        with self._lock:
            rows = self._db.execute(
                "SELECT status, payload, received_at FROM receipts WHERE doc_id = ? ORDER BY id",
                (doc_id,),
            ).fetchall()
        return [
            {"status": r["status"], "payload": json.loads(r["payload"]), "at": r["received_at"]}
            for r in rows
        ]

    def outbox_summary(self) -> dict[str, Any]:
        """How many documents wait in each state before their receipt, and when
        the oldest of them, and the oldest not yet sent, were queued (None: none)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT state, count(*) AS n, min(created_at) AS oldest FROM outbox"
                " WHERE state IN ('held', 'queued', 'sent', 'announced') GROUP BY state"
            ).fetchall()
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

    def digitized_by_month(self, since: str) -> dict[str, dict[str, int]]:
        """Documents and their pages recorded per month (``YYYY-MM``, Vietnam
        time) from the month ``since`` on."""
        with self._lock:
            rows = self._db.execute(
                "SELECT substr(datetime(created_at, '+7 hours'), 1, 7) AS month,"
                " count(*) AS documents,"
                " coalesce(sum(json_extract(metadata, '$.PageAmount')), 0) AS pages"
                " FROM documents GROUP BY month HAVING month >= ? ORDER BY month",
                (since,),
            ).fetchall()
        return {r["month"]: {"documents": r["documents"], "pages": int(r["pages"])} for r in rows}

    # ------------------------------------------------------------------ counters

    def bump_counter(self, name: str) -> int:
        """Add one to a counter and return its new value."""
        with self._tx() as db:
            row = db.execute(
                "INSERT INTO counters (name, value) VALUES (?, 1)"
                " ON CONFLICT(name) DO UPDATE SET value = value + 1 RETURNING value",
                (name,),
            ).fetchone()
        return int(row[0])

    def counters(self) -> dict[str, int]:
        with self._lock:
            rows = self._db.execute("SELECT name, value FROM counters").fetchall()
        return {r["name"]: r["value"] for r in rows}

    def reset_counter(self, name: str) -> None:
        with self._tx() as db:
            db.execute(
                "INSERT INTO counters (name, value) VALUES (?, 0)"
                " ON CONFLICT(name) DO UPDATE SET value = 0",
                (name,),
            )
