"""The fleet collector: every station's state, health and events, and commands.

It subscribes to ``scanstation/v1/+/state``, ``…/health``, ``…/event`` and
``…/cmd-resp/+`` with a persistent session (events published while the
dashboard is down wait in the broker), decodes every payload with the models
of :mod:`station.wire.payloads` (a message that does not fit is dropped, logged
and counted in :attr:`Fleet.rejected`), keeps the history in :class:`FleetDB`,
and sends commands on ``cmd/{name}``, each with who sent it. Every message
also goes to the alert engine (:class:`station.central.alerting.Alerting`),
which keeps the alerts of ``fleet.toml``'s rules with their history.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections import Counter
from datetime import UTC, datetime
from typing import Any, TypeVar

from station.central.alertdb import StoredAlert
from station.central.alerting import Alerting, Clock, utc_clock
from station.central.fleetconfig import FleetSettings
from station.central.fleetdb import FleetDB, StationRow, utc_now
from station.central.history import History
from station.central.regions import Regions
from station.central.rules import parse_time
from station.errors import NotFound, UsageError
from station.wire import payloads, topics
from station.wire.mqtt import Connection
from station.wire.remote import COMMANDS

log = logging.getLogger("scanstation.fleet")

STATES = payloads.STATES
M = TypeVar("M", bound=payloads.Wire)
__all__ = ["STATES", "Fleet", "iso", "parse_time"]


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: the order of severities, the worst first
RANK = {"critical": 0, "error": 1, "warning": 2}


class Fleet:
    def __init__(
        self,
        connection: Connection,
        db: FleetDB,
        settings: FleetSettings | None = None,
        clock: Clock = utc_clock,
    ) -> None:
        self.conn = connection
        self.db = db
        self.settings = settings or FleetSettings()
        self.alerting = Alerting(db, self.settings, clock)
        self.replies = threading.Condition()
        self._lock = threading.Lock()
        self.rejected: Counter[tuple[str, str]] = Counter()
        #: each station's health over time (the station page's trends)
        self.history = History(db)
        #: each unit's region (``--regions``); empty: no regions
        self.regions = Regions()
        root = f"{topics.VERSION}/+"
        connection.subscribe(f"{root}/state", self._state)
        connection.subscribe(f"{root}/health", self._health, qos=0)
        connection.subscribe(f"{root}/event", self._event)
        connection.subscribe(f"{root}/cmd-resp/+", self._reply, retained=False)

    # ------------------------------------------------------------------ incoming

    @staticmethod
    def _station(topic: str) -> str | None:
        parts = topic.split("/")
        if len(parts) < 4 or "/".join(parts[:2]) != topics.VERSION:
            return None
        return parts[2] if topics.STATION_ID.fullmatch(parts[2]) else None

    def _take(self, kind: str, topic: str, payload: bytes, model: type[M]) -> tuple[str, M] | None:
        """The station and its message, or None when it is dropped (logged and counted)."""
        station_id = self._station(topic)
        found: M | payloads.Rejected = (
            payloads.decode(model, payload, payloads.MAX_BYTES[kind])
            if station_id is not None
            else payloads.Rejected("bad_topic", "not a station's topic")
        )
        if isinstance(found, payloads.Health) and found.station_id != station_id:
            found = payloads.Rejected(
                "bad_value", f"station_id {found.station_id!r} on another's topic"
            )
        if isinstance(found, payloads.Rejected):
            with self._lock:
                self.rejected[(kind, found.reason)] += 1
            log.warning(
                "dropped a message on %r (%s): %s, %s",
                topic[:200],
                kind,
                found.reason,
                found.detail,
            )
            return None
        assert station_id is not None
        return station_id, found

    def _heard(self, station_id: str, stated: str | None, now: datetime) -> str:
        """When a message was heard: now, by the dashboard's own clock, so that a
        station whose clock stepped back is not taken for silent or old; for a
        retained message read at start-up, the time the station wrote in it."""
        at = parse_time(stated, now) if self.conn.retained else now
        self.db.seen(station_id, iso(at))
        return iso(at)

    def _state(self, topic: str, payload: bytes) -> None:
        taken = self._take("state", topic, payload, payloads.State)
        if taken is None:
            return
        station_id, body = taken
        now = datetime.now(UTC)
        if body.state == "lost":
            # the will was written at connect time: the loss is now, or, for a
            # retained one read at start-up, the last time the station was heard
            known = self.db.station(station_id)
            at = parse_time(known.last_seen, now) if self.conn.retained and known else now
        else:
            self._heard(station_id, body.since, now)
            at = parse_time(body.since, now)
        if self.db.set_state(station_id, body.state, body.boot, body.version or None, iso(at)):
            log.info("station %s is %s", station_id, body.state)
        self._look(station_id)

    def _health(self, topic: str, payload: bytes) -> None:
        taken = self._take("health", topic, payload, payloads.Health)
        if taken is None:
            return
        station_id, body = taken
        at = self._heard(station_id, body.ts, datetime.now(UTC))
        report = body.model_dump(mode="json")
        if "last_document_at" not in body.model_fields_set:
            # a station older than the field: "no document yet" would be a guess
            del report["last_document_at"]
        self.db.set_health(station_id, report, at)
        self.history.add(station_id, parse_time(at, datetime.now(UTC)), report)
        self._look(station_id)

    def _look(self, station_id: str) -> None:
        """The station's alerts again, at once (a ``lost`` will is an alert within
        a second). Not for the retained messages read at start-up: a state and
        a health report written at different times would raise and clear alerts
        (a "silent" station between the two); the next sweep takes them together."""
        if not self.conn.retained:
            self.alerting.station(station_id)

    def _event(self, topic: str, payload: bytes) -> None:
        taken = self._take("event", topic, payload, payloads.Event)
        if taken is None:
            return
        station_id, body = taken
        now = datetime.now(UTC)
        at = iso(parse_time(body.ts, now))
        # the station's own time orders its events and, with its id, names them
        self.db.seen(station_id, at)
        new = self.db.add_event(
            station_id, {**body.model_dump(mode="json"), "ts": at}, body.ts, iso(now)
        )
        if new and body.type == "secret.detected":
            # the level alone: nothing else of the document reaches an alert
            self.alerting.secret(station_id, body.detail.get("level"))

    def _reply(self, topic: str, payload: bytes) -> None:
        taken = self._take("cmd-resp", topic, payload, payloads.CmdResp)
        if taken is None:
            return
        station_id, body = taken
        self.db.seen(station_id, utc_now())
        if body.id is None:
            log.warning("station %s could not read a command: %s", station_id, body.error)
            return
        reply = body.model_dump(mode="json", exclude_none=True)
        if self.db.set_reply(station_id, body.id, body.ok, reply):
            with self.replies:
                self.replies.notify_all()

    def rejected_counts(self) -> dict[tuple[str, str], int]:
        """Messages dropped since start, by topic kind and reason."""
        with self._lock:
            return dict(self.rejected)

    # ------------------------------------------------------------------ commands

    def send(
        self, station_id: str, name: str, args: dict[str, Any] | None = None, sent_by: str = ""
    ) -> str:
        """Send a command; its id (the reply is recorded when it comes). ``sent_by``
        is who sent it, for the command log."""
        if name not in COMMANDS:
            raise UsageError(f"unknown command {name!r}", f"không có lệnh {name!r}")
        if self.db.station(station_id) is None:
            raise NotFound(f"no station {station_id!r}", f"không có trạm {station_id!r}")
        command_id = secrets.token_hex(8)
        args = args or {}
        self.db.add_command(command_id, station_id, name, args, sent_by)
        body = json.dumps({"id": command_id, "args": args}, ensure_ascii=False).encode()
        self.conn.publish(topics.cmd(station_id, name), body, qos=1)
        return command_id

    def wait_reply(self, command_id: str, timeout_s: float) -> dict[str, Any] | None:
        """The command's record once its reply is in (None after ``timeout_s``)."""
        with self.replies:
            self.replies.wait_for(
                lambda: (self.db.command(command_id) or {}).get("replied_at") is not None,
                timeout=timeout_s,
            )
        found = self.db.command(command_id)
        return found if found and found["replied_at"] else None

    # ------------------------------------------------------------------ views

    def overview(self, now: datetime | None = None) -> list[dict[str, Any]]:
        """Every station with its alerts, those with alerts first."""
        now = now or datetime.now(UTC)
        active = self.alerting.store.active_by_station()
        views = [self.view(row, now, active.get(row.station_id, [])) for row in self.db.stations()]
        return sorted(
            views,
            key=lambda v: (
                min((RANK.get(a.severity, 3) for a in v["alerts"]), default=4),
                v["station_id"],
            ),
        )

    def view(
        self, row: StationRow, now: datetime, alerts: list[StoredAlert] | None = None
    ) -> dict[str, Any]:
        """A station as the pages show it, with its active alerts."""
        if alerts is None:
            alerts = self.alerting.store.active("station", row.station_id)
        return {
            "station_id": row.station_id,
            "state": row.state,
            "since": row.since,
            "last_seen": row.last_seen,
            "boot": row.boot,
            "version": row.version,
            "unit": row.unit,
            "health": row.health,
            "health_at": row.health_at,
            "alerts": alerts,
        }
