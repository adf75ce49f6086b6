"""The fleet history's tables and their migrations (:mod:`station.central.fleetdb`).

``SCHEMA`` is the history as version 1 made it; :data:`MIGRATIONS` run after
the database's ``user_version``, each in its own transaction, at every open
(only ever appended: a dashboard's history was made by the scripts as they were).
"""

from __future__ import annotations

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
    ok         INTEGER,
    reply      TEXT,
    replied_at TEXT
);
CREATE INDEX IF NOT EXISTS events_by_station ON events (station_id, id);
CREATE INDEX IF NOT EXISTS states_by_station ON state_changes (station_id, id);
CREATE INDEX IF NOT EXISTS commands_by_station ON commands (station_id, sent_at);
"""

#: version N + 1 of the history is ``MIGRATIONS[N - 1]`` run on version N
MIGRATIONS: list[str] = [
    # version 2: the stations' incoming / outgoing split of their months (NULL
    # for the months of stations older than it: direction not reported); the
    # DMS's electronic documents imported by the administrator (month 0: the
    # whole year, given without months) and the log of those imports
    """
    ALTER TABLE monthly ADD COLUMN incoming INTEGER;
    ALTER TABLE monthly ADD COLUMN outgoing INTEGER;
    CREATE TABLE electronic (
        unit      TEXT NOT NULL,
        year      INTEGER NOT NULL,
        month     INTEGER NOT NULL,
        incoming  INTEGER NOT NULL,
        outgoing  INTEGER NOT NULL,
        import_id INTEGER NOT NULL,
        PRIMARY KEY (unit, year, month)
    );
    CREATE TABLE imports (
        id        INTEGER PRIMARY KEY,
        at        TEXT NOT NULL,
        who       TEXT NOT NULL,
        address   TEXT NOT NULL,
        file_name TEXT NOT NULL,
        sha256    TEXT NOT NULL,
        rows      INTEGER NOT NULL,
        replaced  INTEGER NOT NULL,
        summary   TEXT NOT NULL
    );
    """,
]

SCHEMA_VERSION = 1 + len(MIGRATIONS)

#: a station's month figure: the highest number of documents and of pages seen
#: (a month stays when a station is replaced); the incoming / outgoing split is
#: that of the report that gave the documents, so the two always add up to them
#: (NULL, direction not reported, from a station older than the split)
MONTH_UPSERT = """
INSERT INTO monthly (station_id, month, unit, documents, pages, incoming, outgoing)
VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(station_id, month) DO UPDATE SET
    unit = excluded.unit,
    incoming = CASE WHEN excluded.documents > documents
        OR (excluded.documents = documents AND excluded.incoming IS NOT NULL)
        THEN excluded.incoming ELSE incoming END,
    outgoing = CASE WHEN excluded.documents > documents
        OR (excluded.documents = documents AND excluded.incoming IS NOT NULL)
        THEN excluded.outgoing ELSE outgoing END,
    documents = max(documents, excluded.documents),
    pages = max(pages, excluded.pages)
"""
