"""The station's reports to the fleet: ``state``, ``health`` and ``event``.

- ``state`` (QoS 1, retained): ``online`` after every connect, ``offline`` on a
  clean stop; the broker publishes the last will ``lost`` when the station
  vanishes (crash, power cut, network gone for 1.5 × keep-alive).
- ``health`` (QoS 0, retained): the stats snapshot every ``interval_s`` and at
  once after a connect or a ``reannounce``.
- ``event`` (QoS 1): every event of the store, in order, each marked published
  only after the broker acknowledged it, so events raised while the broker was
  away are delivered when it returns. Conditions (disk low, upload failing,
  backlog too old) become events when they start and when they clear.

A round that cannot write to the store (the disk is full:
:class:`~station.errors.DiskFull`) is handed to ``on_disk_full``, as capture
and the pipeline hand theirs, and done again at the next round.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from station import __version__
from station.appliance.stats import Stats, conditions
from station.errors import DiskFull
from station.store import Event, Store, now_iso
from station.wire import topics
from station.wire.mqtt import Connection, Will

log = logging.getLogger("scanstation.telemetry")

#: how long a clean stop waits for the broker to take ``offline``
OFFLINE_TIMEOUT_S = 5.0


def state_payload(state: str, boot: int, since: str | None = None) -> bytes:
    body = {"state": state, "boot": boot, "version": __version__, "since": since or now_iso()}
    return json.dumps(body).encode()


def last_will(station_id: str, boot: int) -> Will:
    """``lost``, published by the broker when the station vanishes."""
    return Will(topics.state(station_id), state_payload("lost", boot), qos=1, retain=True)


def event_payload(event: Event) -> bytes:
    body = {
        "id": event.id,
        "type": event.type,
        "severity": event.severity,
        "ts": event.ts,
        "message": {"vi": event.message_vi, "en": event.message_en},
        "detail": event.detail,
    }
    return json.dumps(body, ensure_ascii=False, default=str).encode()


class Telemetry:
    def __init__(self, connection: Connection, store: Store, stats: Stats) -> None:
        self.conn = connection
        self.store = store
        self.stats = stats
        self.station_id = stats.settings.config.station.id
        self.wake = threading.Event()
        #: condition types active now (restored from the store's events at start)
        self.active: set[str] = self._active_from_events()
        self.online_since: str | None = None
        self.on_disk_full: Callable[[DiskFull], None] = lambda error: None
        connection.on_connected.append(self._connected)

    def _connected(self) -> None:
        self.online_since = now_iso()
        self.reannounce()

    def reannounce(self) -> None:
        """Publish ``online`` now and ``health`` on the loop's next round (safe
        on paho's thread: nothing here waits)."""
        self.conn.publish(
            topics.state(self.station_id),
            state_payload("online", self.stats.boot, self.online_since),
            qos=1,
            retain=True,
        )
        self.wake.set()

    def run(self, stop: threading.Event) -> None:
        """Report until ``stop`` is set; then publish ``offline`` (not when the
        loop fails: its supervisor runs it again and the station is still up)."""
        try:
            while not stop.is_set():
                try:
                    self.tick()
                except DiskFull as exc:
                    log.warning("telemetry round not finished: %s", exc.message_en)
                    self.on_disk_full(exc)
                interval = self.stats.settings.config.telemetry.interval_s
                self.wake.wait(timeout=interval)
                self.wake.clear()
        finally:
            if stop.is_set():
                self.offline()

    def tick(self) -> dict[str, Any]:
        """One round: check conditions, publish health and pending events."""
        snapshot = self.stats.snapshot()
        self.check(snapshot)
        if self.conn.connected.is_set():
            self.publish_health(snapshot)
            self.flush_events()
        return snapshot

    def publish_health(self, snapshot: dict[str, Any] | None = None) -> None:
        body = snapshot if snapshot is not None else self.stats.snapshot()
        self.conn.publish(
            topics.health(self.station_id),
            json.dumps(body, ensure_ascii=False).encode(),
            qos=0,
            retain=True,
        )

    def flush_events(self, timeout_s: float = 10.0) -> int:
        """Publish the store's unpublished events in order; stop at the first
        the broker does not acknowledge in time (it is sent again later)."""
        sent = 0
        for event in self.store.events.unpublished():
            info = self.conn.publish(topics.event(self.station_id), event_payload(event), qos=1)
            try:
                info.wait_for_publish(timeout=timeout_s)
            except (RuntimeError, ValueError):
                return sent
            if not info.is_published():
                return sent
            self.store.events.mark_published(event.id)
            sent += 1
        return sent

    def check(self, snapshot: dict[str, Any]) -> None:
        """Record an event for each condition that started or cleared."""
        now = {c.type: c for c in conditions(snapshot, self.stats.settings)}
        for kind in sorted(now.keys() - self.active):
            c = now[kind]
            self.store.events.add(
                kind, "warning", c.message_vi, c.message_en, {**c.detail, "active": True}
            )
        for kind in sorted(self.active - now.keys()):
            vi, en = _CLEARED.get(kind, ("Đã hết cảnh báo", "Cleared"))
            self.store.events.add(kind, "info", vi, en, {"active": False})
        self.active = set(now)

    def offline(self) -> None:
        """Publish ``offline`` (retained) and wait for the broker to take it."""
        if not self.conn.connected.is_set():
            return
        info = self.conn.publish(
            topics.state(self.station_id),
            state_payload("offline", self.stats.boot),
            qos=1,
            retain=True,
        )
        try:
            info.wait_for_publish(timeout=OFFLINE_TIMEOUT_S)
        except (RuntimeError, ValueError):
            log.warning("the broker did not take the offline state")

    def _active_from_events(self) -> set[str]:
        latest = self.store.events.last_of(_CLEARED)
        return {kind for kind, event in latest.items() if event.detail.get("active")}


_CLEARED = {
    "disk.low": ("Đĩa đã đủ chỗ trống", "Disk space is back"),
    "upload.failing": ("Đã gửi được văn bản trở lại", "Uploads work again"),
    "backlog.old": ("Không còn văn bản chờ quá lâu", "No document waits too long any more"),
}
