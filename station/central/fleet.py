"""The fleet collector: every station's state, health and events, and commands.

It subscribes to ``scanstation/v1/+/state``, ``…/health``, ``…/event`` and
``…/cmd-resp/+`` with a persistent session (events published while the
dashboard is down wait in the broker), decodes every payload with the models
of :mod:`station.wire.payloads` (a message that does not fit is dropped, logged
and counted in :attr:`Fleet.rejected`), keeps the history in :class:`FleetDB`,
and sends commands on ``cmd/{name}``. Alerts are worked out from the latest
state and health by :func:`alerts_of`.
"""

from __future__ import annotations

import json
import logging
import secrets
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from station.central.fleetdb import FleetDB, StationRow, utc_now
from station.central.history import History
from station.central.regions import Regions
from station.errors import NotFound, UsageError
from station.wire import payloads, topics
from station.wire.mqtt import Connection
from station.wire.remote import COMMANDS

log = logging.getLogger("scanstation.fleet")

STATES = payloads.STATES
M = TypeVar("M", bound=payloads.Wire)
#: commands the dashboard sends (the station refuses anything else)


@dataclass(frozen=True)
class Limits:
    """When the dashboard raises an alert."""

    offline_minutes: int = 15
    backlog_hours: int = 8
    disk_percent: float = 10.0
    #: health older than this many report intervals: the station went silent
    silent_intervals: int = 3


@dataclass(frozen=True)
class Alert:
    kind: str
    severity: str  # "error" or "warning"
    vi: str
    en: str


def parse_time(value: object, now: datetime) -> datetime:
    """A station's timestamp, or ``now`` when it is missing, malformed or in the
    future (a clock not yet set must not hide a station)."""
    if isinstance(value, str) and len(value) <= 40:
        try:
            at = datetime.fromisoformat(value)
        except ValueError:
            return now
        if at.tzinfo is None:
            at = at.replace(tzinfo=UTC)
        if at <= now + timedelta(minutes=5):
            return at.astimezone(UTC)
    return now


def iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _dig(data: dict[str, Any] | None, *path: str) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def alerts_of(row: StationRow, limits: Limits, now: datetime) -> list[Alert]:
    found: list[Alert] = []
    since = parse_time(row.since, now) if row.since else parse_time(row.last_seen, now)
    down_min = (now - since).total_seconds() / 60
    if row.state in ("offline", "lost") and down_min >= limits.offline_minutes:
        what = ("mất kết nối", "lost") if row.state == "lost" else ("đã tắt", "switched off")
        vi, en = _duration(down_min)
        found.append(
            Alert("offline", "error", f"Trạm {what[0]} {vi}", f"Station {what[1]} for {en}")
        )
    health = row.health
    interval = _number(_dig(health, "interval_s")) or 60.0
    seen_ago = (now - parse_time(row.last_seen, now)).total_seconds()
    if row.state == "online" and seen_ago > max(limits.silent_intervals * interval, 180):
        vi, en = _duration(seen_ago / 60)
        found.append(
            Alert("silent", "warning", f"Không nhận được báo cáo {vi}", f"No report for {en}")
        )
    if health is None:
        return found
    health_age = (now - parse_time(row.health_at, now)).total_seconds()
    pending = _number(_dig(health, "queue", "oldest_pending_s"))
    if pending is not None and pending + health_age > limits.backlog_hours * 3600:
        hours = (pending + health_age) / 3600
        depth = _dig(health, "queue", "depth")
        found.append(
            Alert(
                "backlog",
                "error",
                f"{depth} văn bản chưa có xác nhận đã nhận, lâu nhất {hours:.1f} giờ",
                f"{depth} documents without a receipt, the oldest for {hours:.1f} h",
            )
        )
    refused = _number(_dig(health, "queue", "rejected"))
    if refused:
        found.append(
            Alert(
                "rejected",
                "warning",
                f"{refused:.0f} văn bản bị hệ thống quản lý văn bản từ chối, chưa gửi lại",
                f"{refused:.0f} documents refused by the document system, not answered yet",
            )
        )
    percent = _number(_dig(health, "disk", "free_percent"))
    if percent is not None and percent < limits.disk_percent:
        found.append(
            Alert(
                "disk",
                "error",
                f"Đĩa sắp đầy: còn trống {percent:.1f} %",
                f"Disk almost full: {percent:.1f} % free",
            )
        )
    sheets = _number(_dig(health, "counters", "sheets_since_roller"))
    limit = _number(_dig(health, "counters", "roller_limit"))
    if sheets is not None and limit and sheets >= limit:
        found.append(
            Alert(
                "roller",
                "warning",
                f"Cần thay trục cuốn giấy: {sheets:,.0f} / {limit:,.0f} tờ".replace(",", "."),
                f"Replace the feed rollers: {sheets:,.0f} / {limit:,.0f} sheets",
            )
        )
    if _dig(health, "signing", "enabled") and _dig(health, "signing", "ok") is False:
        held = _number(_dig(health, "signing", "held")) or 0
        found.append(
            Alert(
                "signing",
                "error",
                f"Không ký số được: {held:.0f} văn bản chờ ký",
                f"Signing fails: {held:.0f} documents wait for their signature",
            )
        )
    status = _dig(health, "scanner", "status")
    if status in ("jammed", "cover_open", "offline", "error"):
        text = _dig(health, "scanner", "status_text") or {}
        found.append(
            Alert(
                "scanner",
                "warning",
                f"Máy quét: {text.get('vi', status)}",
                f"Scanner: {text.get('en', status)}",
            )
        )
    return found


def _duration(minutes: float) -> tuple[str, str]:
    """A span in Vietnamese and in English."""
    if minutes < 120:
        value, vi, en = f"{minutes:.0f}", "phút", "min"
    elif minutes < 48 * 60:
        value, vi, en = f"{minutes / 60:.1f}", "giờ", "h"
    else:
        value, vi, en = f"{minutes / 1440:.0f}", "ngày", "days"
    return f"{value} {vi}", f"{value} {en}"


class Fleet:
    def __init__(self, connection: Connection, db: FleetDB, limits: Limits | None = None) -> None:
        self.conn = connection
        self.db = db
        self.limits = limits or Limits()
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

    def _health(self, topic: str, payload: bytes) -> None:
        taken = self._take("health", topic, payload, payloads.Health)
        if taken is None:
            return
        station_id, body = taken
        at = self._heard(station_id, body.ts, datetime.now(UTC))
        report = body.model_dump(mode="json")
        self.db.set_health(station_id, report, at)
        self.history.add(station_id, parse_time(at, datetime.now(UTC)), report)

    def _event(self, topic: str, payload: bytes) -> None:
        taken = self._take("event", topic, payload, payloads.Event)
        if taken is None:
            return
        station_id, body = taken
        now = datetime.now(UTC)
        at = iso(parse_time(body.ts, now))
        # the station's own time orders its events and, with its id, names them
        self.db.seen(station_id, at)
        self.db.add_event(station_id, {**body.model_dump(mode="json"), "ts": at}, body.ts, iso(now))

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

    def send(self, station_id: str, name: str, args: dict[str, Any] | None = None) -> str:
        """Send a command; its id (the reply is recorded when it comes)."""
        if name not in COMMANDS:
            raise UsageError(f"unknown command {name!r}", f"không có lệnh {name!r}")
        if self.db.station(station_id) is None:
            raise NotFound(f"no station {station_id!r}", f"không có trạm {station_id!r}")
        command_id = secrets.token_hex(8)
        args = args or {}
        self.db.add_command(command_id, station_id, name, args)
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
        views = [self.view(row, now) for row in self.db.stations()]
        rank = {"error": 0, "warning": 1}
        return sorted(
            views,
            key=lambda v: (
                min((rank[a.severity] for a in v["alerts"]), default=2),
                v["station_id"],
            ),
        )

    def view(self, row: StationRow, now: datetime) -> dict[str, Any]:
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
            "alerts": alerts_of(row, self.limits, now),
        }
