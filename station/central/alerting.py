"""The alert engine: the rules (:mod:`rules`) applied to what the fleet hears,
kept as alerts with a history (:mod:`alertdb`).

A station is looked at again the moment one of its messages arrives (a ``lost``
last will is an alert at once, not at the next sweep; retained messages read at
start-up wait for the sweep) and every
:data:`SWEEP_S` seconds with the others, for what time alone changes (a station
switched off for 15 minutes, a silent one, a working day without a document);
units are looked at in the sweep. Each change wakes the notifier.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from station.central.alertdb import AlertStore, StoredAlert
from station.central.fleetconfig import FleetSettings
from station.central.fleetdb import FleetDB
from station.central.rules import (
    EVENT_KINDS,
    STATION_KINDS,
    UNIT_KINDS,
    UnitFacts,
    alerts_of,
    parse_time,
    secret_alert,
    unit_alerts,
)
from station.common.clock import VIETNAM
from station.common.supervisor import supervised

log = logging.getLogger("scanstation.fleet.alerts")

#: seconds between two looks at every station and unit
SWEEP_S = 10.0

Clock = Callable[[], datetime]


def utc_clock() -> datetime:
    return datetime.now(UTC)


class Alerting:
    def __init__(self, db: FleetDB, settings: FleetSettings, clock: Clock = utc_clock) -> None:
        self.db = db
        self.settings = settings
        self.clock = clock
        self.store = AlertStore(db)
        #: called after alerts changed (the notifier's wake-up)
        self.listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _changed(self, made: list[str], subject: str) -> None:
        if not made:
            return
        log.info("alerts of %s: %s", subject, ", ".join(made))
        for listener in self.listeners:
            listener()

    # ------------------------------------------------------------------ looks

    def station(self, station_id: str) -> None:
        """Look at one station again (after each of its messages)."""
        with self._lock:
            row = self.db.station(station_id)
            if row is None:
                return
            now = self.clock()
            active = {a.kind for a in self.store.active("station", station_id)}
            found = alerts_of(row, self.settings, now, active)
            made = self.store.sync("station", station_id, row.unit, found, STATION_KINDS, now)
        self._changed(made, station_id)

    def secret(self, station_id: str, level: object) -> None:
        """A ``secret.detected`` event: an alert until a person acknowledges it."""
        alert = secret_alert(self.settings, level)
        if alert is None:
            return
        row = self.db.station(station_id)
        with self._lock:
            what = self.store.raise_event(
                "station", station_id, row.unit if row else "", alert, self.clock()
            )
        self._changed([f"{what}:secret"] if what else [], station_id)

    def units(self) -> None:
        """Look at every unit (in the sweep)."""
        now = self.clock()
        for facts in self.unit_facts(now):
            with self._lock:
                found = unit_alerts(facts, self.settings, now)
                made = self.store.sync("unit", facts.unit, facts.unit, found, UNIT_KINDS, now)
            self._changed(made, facts.unit)

    def unit_facts(self, now: datetime) -> list[UnitFacts]:
        """Every unit with its last document: the latest a station of it reported
        (``last_document_at``), else the end of the last month with documents."""
        last: dict[str, datetime | None] = {}
        since: dict[str, datetime] = {}
        stations: dict[str, list[str]] = {}
        for row in self.db.stations():
            if not row.unit:
                continue
            unit = row.unit
            stations.setdefault(unit, []).append(row.station_id)
            since[unit] = min(since.get(unit, now), parse_time(row.first_seen, now))
            raw = (row.health or {}).get("last_document_at")
            known = last.get(unit)
            if raw:
                at = parse_time(raw, now)
                last[unit] = at if known is None or at > known else known
            else:
                last.setdefault(unit, None)
        for unit, month in self.db.last_months().items():
            if unit not in stations:
                continue
            # a Vietnam month; its last second, unless a station's own time falls
            # in it or later (a month's figures say less than that time)
            year, number = int(month[:4]), int(month[5:7])
            start = datetime(year, number, 1, tzinfo=VIETNAM)
            end = datetime(year + number // 12, number % 12 + 1, 1, tzinfo=VIETNAM)
            known = last.get(unit)
            if known is None or start > known:
                last[unit] = min(end - timedelta(seconds=1), now)
        return [
            UnitFacts(unit, last.get(unit), since[unit], tuple(stations[unit]))
            for unit in sorted(stations)
        ]

    def sweep(self) -> None:
        """Every station and unit, for what time alone changes."""
        for row in self.db.stations():
            self.station(row.station_id)
        self.units()

    # ------------------------------------------------------------------ people

    def acknowledge(self, alert_id: int, by: str, note: str) -> StoredAlert | None:
        """ "Đã biết": the alert stays while it holds, acknowledged; an event's
        alert (a secret document) ends with it."""
        with self._lock:
            done = self.store.acknowledge(alert_id, by, note, self.clock(), EVENT_KINDS)
        if done is not None:
            log.info("alert %d (%s of %s) acknowledged by %s", alert_id, done.kind,
                     done.subject, by)  # fmt: skip
        return done

    # ------------------------------------------------------------------ the loop

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(SWEEP_S):
                self.sweep()

        # the first sweep after SWEEP_S: by then the retained state and health
        # of every station have come (the alerts of before the start are kept)
        self.store.prune(self.clock())
        self._thread = supervised("fleet-alerts", loop, self._stop)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
