"""Each station's health over time, kept small: the trends of the station page.

Every health report adds one sample of five figures: documents waiting for
their receipt (``queue.depth``), the age of the oldest of them
(``queue.oldest_pending_s``), free disk (``disk.free_bytes``, kept in MiB), the
CPU temperature (``cpu_temp_c``, in tenths of a degree) and the pages captured
since installation (``counters.pages_total``).

They are kept in four tiers of buckets, each bucket holding, per figure, the
sum and the number of values (the pages: the highest count), so that a bucket
of a coarser tier is exactly the sum of the finer ones and a mean is exact:

====  =========  ===========
tier  bucket     kept
====  =========  ===========
0     1 minute   48 hours (the reports as they come: at most one row a minute)
1     15 minutes 30 days
2     1 hour     90 days
3     1 day      400 days (Vietnam days)
====  =========  ===========

A bucket of tier k is added up from tier k-1 once it is over (``compact``, run
by :meth:`History.add` at most once a minute, by the reports' own clock); then
what is past its tier's time is removed. A report that comes late (a retained
one read at start-up) goes into its minute and into every coarser bucket
already added up, so nothing is counted twice or lost. docs/benchmarks.md has
the sizes: a station's year takes about 290 KB.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from station.central.fleetdb import FleetDB

#: Vietnam is UTC+7 all year: days (and 6-hour steps) start at its midnight
OFFSET_S = 7 * 3600

#: the trends' own tables, made when the history is opened (they need no
#: migration: they only ever are added, never changed)
SCHEMA = """
CREATE TABLE IF NOT EXISTS series_stations (
    key        INTEGER PRIMARY KEY,
    station_id TEXT NOT NULL UNIQUE
);
CREATE TABLE IF NOT EXISTS series (
    station     INTEGER NOT NULL,
    tier        INTEGER NOT NULL,
    t           INTEGER NOT NULL,
    n           INTEGER NOT NULL,
    queue_sum   INTEGER NOT NULL,
    pending_sum INTEGER NOT NULL,
    disk_sum    INTEGER NOT NULL,
    disk_n      INTEGER NOT NULL,
    temp_sum    INTEGER NOT NULL,
    temp_n      INTEGER NOT NULL,
    pages_max   INTEGER,
    PRIMARY KEY (station, tier, t)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS series_rollups (
    tier       INTEGER PRIMARY KEY,
    done_until INTEGER NOT NULL
);
"""

#: the sums a bucket holds, added up from finer buckets
SUMS = ("n", "queue_sum", "pending_sum", "disk_sum", "disk_n", "temp_sum", "temp_n")
COLUMNS = (*SUMS, "pages_max")


@dataclass(frozen=True)
class Tier:
    number: int
    seconds: int
    keep: timedelta


TIERS = (
    Tier(0, 60, timedelta(hours=48)),
    Tier(1, 15 * 60, timedelta(days=30)),
    Tier(2, 3600, timedelta(days=90)),
    Tier(3, 86400, timedelta(days=400)),
)
#: how often the buckets are added up and pruned
COMPACT_EVERY_S = 60


def bucket(t: int, seconds: int) -> int:
    """The start of the bucket of ``seconds`` that holds ``t`` (Vietnam days)."""
    return t - (t + OFFSET_S) % seconds


@dataclass(frozen=True)
class Span:
    """A chart's time span and the width of one of its points."""

    key: str
    length: timedelta
    step_s: int


SPANS = {
    "2d": Span("2d", timedelta(hours=48), 1800),
    "7d": Span("7d", timedelta(days=7), 2 * 3600),
    "30d": Span("30d", timedelta(days=30), 6 * 3600),
    "1y": Span("1y", timedelta(days=365), 86400),
}


@dataclass(frozen=True)
class Point:
    """One point of a station's trends: the means over ``[t, t + step)``."""

    t: int
    reports: int
    queue: float
    pending_s: float
    disk_mib: float | None
    temp_c: float | None
    pages_total: int | None
    #: pages captured since the point before (None for the first, or after a reset)
    pages: int | None = None

    @property
    def at(self) -> datetime:
        return datetime.fromtimestamp(self.t, UTC)


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return round(value)


def sample(health: dict[str, Any]) -> tuple[int | None, ...]:
    """A health report (:class:`station.wire.payloads.Health`) as a row's sums."""
    queue = health.get("queue") or {}
    disk = health.get("disk") or {}
    free = _int(disk.get("free_bytes"))
    temp = health.get("cpu_temp_c")
    temp_tenths = _int(temp * 10) if isinstance(temp, int | float) else None
    pages = _int((health.get("counters") or {}).get("pages_total"))
    return (
        1,
        _int(queue.get("depth")) or 0,
        _int(queue.get("oldest_pending_s")) or 0,
        (free or 0) // 2**20,
        int(free is not None),
        temp_tenths or 0,
        int(temp_tenths is not None),
        pages,
    )


#: the higher of two page counts, either of which may be missing
_PAGES = "coalesce(max(pages_max, excluded.pages_max), pages_max, excluded.pages_max)"
_UPSERT = (
    f"INSERT INTO series (station, tier, t, {', '.join(COLUMNS)})"  # noqa: S608
    f" VALUES (?, ?, ?, {', '.join('?' * len(COLUMNS))})"
    " ON CONFLICT (station, tier, t) DO UPDATE SET "
    + ", ".join(f"{c} = {c} + excluded.{c}" for c in SUMS)
    + ", pages_max = "
    + _PAGES
)


class History:
    """The trends of every station, in the fleet's database."""

    def __init__(self, db: FleetDB, clock: Callable[[], datetime] | None = None) -> None:
        self.db = db
        self.clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()
        self._keys: dict[str, int] = {}
        with db._lock:
            db._db.executescript(SCHEMA)
            rows = db._db.execute("SELECT tier, done_until FROM series_rollups").fetchall()
        self.done: dict[int, int] = {tier.number: 0 for tier in TIERS[1:]}
        self.done.update({int(r[0]): int(r[1]) for r in rows})
        self._compacted = 0

    # ------------------------------------------------------------------ writing

    def _key(self, conn: Any, station_id: str) -> int:
        key = self._keys.get(station_id)
        if key is None:
            conn.execute(
                "INSERT INTO series_stations (station_id) VALUES (?) ON CONFLICT DO NOTHING",
                (station_id,),
            )
            key = int(
                conn.execute(
                    "SELECT key FROM series_stations WHERE station_id = ?", (station_id,)
                ).fetchone()[0]
            )
            self._keys[station_id] = key
        return key

    def add(self, station_id: str, at: datetime, health: dict[str, Any]) -> None:
        """A station's report, heard at ``at``; adds up and prunes once a minute."""
        t = int(at.timestamp())
        values = sample(health)
        with self.db._tx() as conn:
            key = self._key(conn, station_id)
            conn.execute(_UPSERT, (key, 0, bucket(t, TIERS[0].seconds), *values))
            for tier in TIERS[1:]:
                if t < self.done[tier.number]:  # late: its bucket is already added up
                    conn.execute(_UPSERT, (key, tier.number, bucket(t, tier.seconds), *values))
        if t - self._compacted >= COMPACT_EVERY_S:
            self.compact(at)

    def compact(self, now: datetime | None = None) -> None:
        """Add up every bucket that is over into the next tier; prune each tier."""
        t_now = int((now or self.clock()).timestamp())
        sums = ", ".join(f"sum({c})" for c in SUMS)
        with self.db._tx() as conn:
            for lower, tier in itertools.pairwise(TIERS):
                start, until = self.done[tier.number], bucket(t_now, tier.seconds)
                if until <= start:
                    continue
                # every station's rows of the finer tier, by the primary key (CROSS
                # JOIN: station by station, never a scan of the whole table)
                conn.execute(
                    f"INSERT INTO series (station, tier, t, {', '.join(COLUMNS)})"  # noqa: S608
                    f" SELECT x.station, ?, x.t - (x.t + ?) % ?, {sums},"
                    " max(x.pages_max)"
                    " FROM series_stations s CROSS JOIN series x ON x.station = s.key"
                    " AND x.tier = ? AND x.t >= ? AND x.t < ? WHERE true"
                    " GROUP BY x.station, x.t - (x.t + ?) % ? ORDER BY 1, 3"
                    " ON CONFLICT (station, tier, t) DO UPDATE SET "
                    + ", ".join(f"{c} = {c} + excluded.{c}" for c in SUMS)
                    + ", pages_max = "
                    + _PAGES,
                    (tier.number, OFFSET_S, tier.seconds, lower.number, start, until,
                     OFFSET_S, tier.seconds),
                )  # fmt: skip
                conn.execute(
                    "INSERT INTO series_rollups (tier, done_until) VALUES (?, ?)"
                    " ON CONFLICT (tier) DO UPDATE SET done_until = excluded.done_until",
                    (tier.number, until),
                )
                self.done[tier.number] = until
            for tier in TIERS:
                conn.execute(
                    "DELETE FROM series WHERE station IN (SELECT key FROM series_stations)"
                    " AND tier = ? AND t < ?",
                    (tier.number, t_now - int(tier.keep.total_seconds())),
                )
        self._compacted = t_now

    # ------------------------------------------------------------------ reading

    def _rows(self, station_id: str, tier: int, start: int, end: int) -> list[tuple[Any, ...]]:
        with self.db._lock:
            found = self.db._db.execute(
                f"SELECT t, {', '.join(COLUMNS)} FROM series"  # noqa: S608
                " WHERE station = (SELECT key FROM series_stations WHERE station_id = ?)"
                " AND tier = ? AND t >= ? AND t < ? ORDER BY t",
                (station_id, tier, start, end),
            ).fetchall()
        return [tuple(r) for r in found]

    def series(self, station_id: str, span: Span, now: datetime | None = None) -> list[Point]:
        """The station's points over ``span`` up to ``now``, one per ``span.step_s``
        (only points with reports), from the coarsest tier that fits the step and
        the finer ones for what is not added up yet."""
        t_now = int((now or self.clock()).timestamp())
        start = bucket(t_now - int(span.length.total_seconds()), span.step_s)
        # one step more before the start: the pages of the first point shown
        since = start - span.step_s
        chosen = max(t.number for t in TIERS if t.seconds <= span.step_s)
        rows: list[tuple[Any, ...]] = []
        upper = t_now + 1
        for number in range(0, chosen + 1):
            lower = since if number == chosen else max(since, self.done[number + 1])
            rows += self._rows(station_id, number, lower, upper)
            upper = min(upper, lower)
        return [p for p in _points(rows, span.step_s) if p.t >= start]

    def size(self) -> dict[str, int]:
        """Bytes the trends take on disk, and rows per tier (for docs/benchmarks.md)."""
        with self.db._lock:
            conn = self.db._db
            found = {
                f"tier{n}_rows": int(
                    conn.execute("SELECT count(*) FROM series WHERE tier = ?", (n,)).fetchone()[0]
                )
                for n in range(len(TIERS))
            }
            for name in ("series", "series_stations"):
                row = conn.execute(
                    "SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name = ?", (name,)
                ).fetchone()
                found[f"{name}_bytes"] = int(row[0])
        return found


def _points(rows: Iterable[tuple[Any, ...]], step_s: int) -> list[Point]:
    """Rows ``(t, *COLUMNS)`` of any tiers, added up into points of ``step_s``."""
    sums: dict[int, list[Any]] = {}
    for t, *values in rows:
        at = bucket(t, step_s)
        known = sums.get(at)
        if known is None:
            sums[at] = list(values)
        else:
            for i in range(len(SUMS)):
                known[i] += values[i]
            if values[-1] is not None:
                known[-1] = values[-1] if known[-1] is None else max(known[-1], values[-1])
    points: list[Point] = []
    last_pages: int | None = None
    for at in sorted(sums):
        n, queue, pending, disk, disk_n, temp, temp_n, pages = sums[at]
        if n <= 0:
            continue
        total = pages
        delta = None
        if total is not None and last_pages is not None and total >= last_pages:
            delta = total - last_pages
        points.append(
            Point(
                t=at,
                reports=n,
                queue=queue / n,
                pending_s=pending / n,
                disk_mib=disk / disk_n if disk_n else None,
                temp_c=temp / temp_n / 10 if temp_n else None,
                pages_total=total,
                pages=delta,
            )
        )
        if total is not None:
            last_pages = total
    return points
