"""The store's tables and their migrations: version N of the schema is ``SCHEMA[N-1]``.

``PRAGMA user_version`` holds the version a database has; :func:`migrate` runs
the scripts after it, each in its own transaction, at every open (after the
integrity check, station/store/check.py). A script is only ever appended, never
changed: a station's database was made by the scripts as they were.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Callable

SCHEMA: list[str] = [
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
    # version 3: the outbox (docs/mqtt.md): documents to deliver, acknowledged
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
    # version 8: how each header field of a draft was read: confidence, box on
    # page 1, why it is empty (station/ocr/readings.py)
    """
    ALTER TABLE review_docs ADD COLUMN readings TEXT NOT NULL DEFAULT '{}';
    """,
    # version 9: the register of secret documents (Sổ đăng ký văn bản mật đến,
    # station/records/secret_register.py): a minimal entry for each document a
    # connected station stopped, no subject, no image; and the outbox's route
    # ('' or 'secret': an independent LAN's secret documents, their own topic root)
    """
    CREATE TABLE secret_register (
        id            INTEGER PRIMARY KEY,
        year          INTEGER NOT NULL,
        number        INTEGER NOT NULL,
        arrival_date  TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        level         TEXT NOT NULL,
        author        TEXT NOT NULL DEFAULT '',
        label         TEXT,
        batch_id      TEXT NOT NULL,
        doc_id        TEXT NOT NULL,
        found_by      TEXT NOT NULL,
        handling      TEXT NOT NULL,
        seen_at       TEXT,
        UNIQUE (year, number)
    );
    CREATE INDEX secret_register_by_arrival ON secret_register (arrival_date);
    CREATE INDEX secret_register_by_batch ON secret_register (batch_id);
    ALTER TABLE outbox ADD COLUMN route TEXT NOT NULL DEFAULT '';
    """,
    # version 10: when the retention removed a batch's files (station/store/retention.py);
    # its rows stay for the register and the statistics. The retention looks up a
    # batch's documents and their receipts.
    """
    ALTER TABLE batches ADD COLUMN files_removed_at TEXT;
    CREATE INDEX documents_by_batch ON documents (batch_id);
    CREATE INDEX receipts_by_doc ON receipts (doc_id, status);
    """,
    # version 11: a document the agency's system refused (receipt 02) and its
    # answer: the document that supersedes it (``answered_by``, ``answer`` update or
    # replace), and the rescans the clerk asked for: the next scanned batch's
    # first document replaces the refused one (station/store/outbox.py)
    """
    ALTER TABLE outbox ADD COLUMN answered_by TEXT;
    ALTER TABLE outbox ADD COLUMN answer TEXT;
    CREATE TABLE rescans (
        rejected   TEXT PRIMARY KEY,
        state      TEXT NOT NULL,
        batch_id   TEXT,
        doc_id     TEXT,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
    );
    CREATE INDEX rescans_by_batch ON rescans (batch_id) WHERE batch_id IS NOT NULL;
    """,
    # version 12: the clerk said a document is not secret (the answer to a
    # secrecy mark read or unsure): no reading of its header makes it so again
    """
    ALTER TABLE review_docs ADD COLUMN not_secret INTEGER NOT NULL DEFAULT 0;
    """,
    # version 13: a batch of documents received (incoming, the Sổ đến) or sent
    # (outgoing, the Sổ đi), chosen on the scan screen or by a cover sheet
    """
    ALTER TABLE batches ADD COLUMN direction TEXT NOT NULL DEFAULT 'incoming';
    """,
    # version 14: the outgoing register (Sổ đăng ký văn bản đi,
    # station/records/outgoing_register.py): one entry per confirmed outgoing
    # document, its number (NULL: it had none) of the year, its type (the
    # series under per-type numbering), the day that places it in a period,
    # the columns read from its fields, the clerk's later columns and whether
    # it went by post (the Sổ gửi văn bản đi bưu điện)
    """
    CREATE TABLE outgoing_register (
        doc_id        TEXT PRIMARY KEY,
        batch_id      TEXT NOT NULL,
        year          INTEGER NOT NULL,
        number        INTEGER,
        kind          TEXT NOT NULL DEFAULT '',
        day           TEXT NOT NULL,
        registered_at TEXT NOT NULL,
        code          TEXT NOT NULL DEFAULT '',
        issued_date   TEXT,
        summary       TEXT NOT NULL DEFAULT '',
        signer        TEXT NOT NULL DEFAULT '',
        recipients    TEXT NOT NULL DEFAULT '',
        priority      TEXT NOT NULL DEFAULT '',
        pages         INTEGER,
        archive       TEXT NOT NULL DEFAULT '',
        copies        INTEGER,
        transfer_date TEXT,
        received_by   TEXT NOT NULL DEFAULT '',
        note          TEXT NOT NULL DEFAULT '',
        by_post       INTEGER NOT NULL DEFAULT 0,
        envelopes     INTEGER,
        post_note     TEXT NOT NULL DEFAULT '',
        updated_at    TEXT NOT NULL
    );
    CREATE INDEX outgoing_register_by_number ON outgoing_register (year, number);
    CREATE INDEX outgoing_register_by_day ON outgoing_register (day);
    """,
]

#: the version a database has once every migration ran
VERSION = len(SCHEMA)


def migrate(
    db: sqlite3.Connection,
    transaction: Callable[[], contextlib.AbstractContextManager[sqlite3.Connection]],
) -> None:
    """Run the scripts after the database's ``user_version``, one transaction each."""
    version = db.execute("PRAGMA user_version").fetchone()[0]
    for number, script in enumerate(SCHEMA[version:], start=version + 1):
        with transaction() as tx:
            for statement in script.split(";"):
                if statement.strip():
                    tx.execute(statement)
            tx.execute(f"PRAGMA user_version = {number}")
