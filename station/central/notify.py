"""Telling people: alert changes become messages on the channels of ``fleet.toml``.

Every raise, re-raise and clear the alert engine records waits in the
``transitions`` table until the notifier has dealt with it:

- a change ``[notify] send_on`` leaves out, or of a rule with ``notify = false``,
  is marked done without a message;
- changes are gathered for ``[notify] group_seconds`` and sent as one message
  (the loss of many stations at once is one message); an alert that was raised
  and cleared within one such window is in the history but not sent;
- in ``[notify] quiet_hours`` (Vietnam time) only ``critical`` alerts go out;
  the rest are held and go as one digest when the quiet hours end;
- each message is written once per channel to the ``notifications`` table, in
  the same transaction that marks its changes done, and sent from there: a
  failed attempt is tried again after ``backoff_s``, doubled each time (at most
  an hour), up to ``retries`` times, across restarts too.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from datetime import timedelta

from station.central.alertdb import AlertStore, Change
from station.central.alerting import Clock, utc_clock
from station.central.channels import Channel, SendFailed
from station.central.fleetconfig import FleetSettings
from station.central.messages import compose
from station.common.supervisor import supervised

log = logging.getLogger("scanstation.fleet.notify")

#: the longest wait between two attempts at one message
MAX_BACKOFF_S = 3600.0


class Notifier:
    def __init__(
        self,
        store: AlertStore,
        settings: FleetSettings,
        channels: Sequence[Channel],
        clock: Clock = utc_clock,
        tick_s: float = 1.0,
    ) -> None:
        self.store = store
        self.settings = settings
        self.channels = {c.name: c for c in channels}
        self.clock = clock
        self.tick_s = tick_s
        self.wake = threading.Event()
        self._window: float | None = None
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ one step

    def step(self) -> None:
        """Turn what is ready into messages, then send what is due."""
        self.compose()
        self.deliver()

    def _wanted(self, change: Change) -> bool:
        rules = self.settings.rules
        kind = change.alert.kind
        rule = rules.of(kind) if hasattr(rules, kind) else None
        return (
            bool(self.channels)
            and change.what in self.settings.notify.send_on
            and (rule is None or rule.notify)
        )

    def compose(self) -> None:
        now = self.clock()
        changes = self.store.open_changes()
        if not changes:
            self._window = None
            return
        skipped = [c.id for c in changes if not self._wanted(c)]
        wanted = [c for c in changes if self._wanted(c)]
        quiet = self.settings.is_quiet(now)
        urgent = [c for c in wanted if c.alert.severity == "critical"]
        normal = [c for c in wanted if c.alert.severity != "critical"]
        if quiet:
            fresh = [c.id for c in normal if not c.held]
            if fresh:
                self.store.hold(fresh)
                log.info("quiet hours: %d alert changes held for the digest", len(fresh))
        ready = urgent if quiet else wanted
        if not ready:
            if skipped:
                self.store.settle([], skipped, [], now)
            return
        if self._window is None:
            self._window = time.monotonic()
        if time.monotonic() - self._window < self.settings.notify.group_seconds:
            return
        self._window = None
        digest = not quiet and any(c.held for c in ready)
        if not digest:
            flapped = _flaps(ready)
            skipped += [c.id for c in ready if c.alert.id in flapped]
            ready = [c for c in ready if c.alert.id not in flapped]
        if not ready:
            self.store.settle([], skipped, [], now)
            return
        message = compose(
            ready,
            now,
            digest_of=self.settings.notify.quiet_hours if digest else "",
            dashboard_url=self.settings.notify.dashboard_url,
        )
        self.store.settle(
            [c.id for c in ready],
            skipped,
            [(name, message, digest) for name in self.channels],
            now,
        )
        log.info("%s: %s", "digest" if digest else "message", message["json"]["summary"]["en"])

    def deliver(self) -> None:
        now = self.clock()
        for row in self.store.due(now):
            channel = self.channels.get(row["channel"])
            if channel is None:
                self.store.failed(row["id"], "the channel is no longer set up", None, now)
                continue
            try:
                channel.send(row["message"])
            except Exception as exc:  # noqa: BLE001 - one bad message must not stop the others
                if not isinstance(exc, SendFailed):
                    exc = SendFailed(f"unexpected {exc.__class__.__name__}")
                attempts = row["attempts"] + 1
                again = exc.retry and attempts <= channel.retries
                wait = min(MAX_BACKOFF_S, channel.backoff_s * 2 ** (attempts - 1))
                failed_at = self.clock()  # the wait counts from the failure, not the start
                retry_at = failed_at + timedelta(seconds=wait) if again else None
                log.warning(
                    "notification %d by %s failed (attempt %d): %s; %s",
                    row["id"],
                    channel.name,
                    attempts,
                    exc,
                    f"next try in {wait:.0f} s" if again else "given up",
                )
                self.store.failed(row["id"], str(exc), retry_at, failed_at)
            else:
                self.store.delivered(row["id"], self.clock())
                log.info("notification %d sent by %s", row["id"], channel.name)

    # ------------------------------------------------------------------ the loop

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.is_set():
                self.wake.clear()
                self.step()
                self.wake.wait(self.tick_s)

        self._thread = supervised("fleet-notify", loop, self._stop)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        if self._thread is not None:
            self._thread.join(30)


def _flaps(changes: Sequence[Change]) -> set[int]:
    """Alerts raised and cleared within the same message that are not critical."""
    raised = {c.alert.id for c in changes if c.what in ("raise", "reraise")}
    cleared = {c.alert.id for c in changes if c.what == "clear"}
    return {
        c.alert.id
        for c in changes
        if c.alert.id in raised & cleared and c.alert.severity != "critical"
    }
