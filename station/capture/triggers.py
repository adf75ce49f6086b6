"""Triggers: what starts a batch.

- the scanner's own buttons: :class:`ButtonPoller` reads the scanner's sensor
  options every 500 ms (as scanbd does) and fires on a press;
- a GPIO push button on a Raspberry Pi: :class:`GpioButton` (gpiozero, imported
  only when a pin is configured, so the station runs off a Pi without it);
- files arriving in a hot folder: :class:`HotFolderWatcher`;
- the touchscreen or any other code: :meth:`TriggerHub.fire`.

All of them feed one :class:`TriggerHub`; :class:`CaptureService` takes one
request at a time and captures one batch with the default profile. Presses that
arrive while a batch is running are ignored (the scanner is busy).
"""

from __future__ import annotations

import fnmatch
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from station.capture import Source
from station.capture.session import CaptureResult, NoticeCallback, capture_batch
from station.common.logsafe import printable
from station.common.supervisor import Supervised
from station.config import Config
from station.errors import ConfigError, DependencyError, DiskFull, StationError
from station.store import Page, Store

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TriggerRequest:
    origin: str  # "scanner-button", "gpio", "ui", "hotfolder", …
    profile: str | None = None
    detail: str = ""


class TriggerHub:
    """Where every trigger lands. Thread-safe; a full queue drops extra presses."""

    def __init__(self, maxsize: int = 4) -> None:
        self._queue: queue.Queue[TriggerRequest] = queue.Queue(maxsize=maxsize)

    def fire(self, origin: str, profile: str | None = None, detail: str = "") -> bool:
        try:
            self._queue.put_nowait(TriggerRequest(origin, profile, detail))
        except queue.Full:
            log.info("trigger from %s ignored: requests already waiting", origin)
            return False
        return True

    def wait(self, timeout: float | None = None) -> TriggerRequest | None:
        try:
            return self._queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def drain(self) -> int:
        """Drop requests that arrived while a batch ran; returns how many."""
        dropped = 0
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                return dropped
            dropped += 1


def is_press(previous: object, current: object) -> bool:
    """Whether a sensor going from ``previous`` to ``current`` is a button press.

    Booleans (SANE reports them as 0/1) press on false -> true. Integer sensors
    such as "button" numbers press when they change to a non-zero value; string
    sensors when they change to a non-empty value.
    """
    if previous is None:
        return False
    if isinstance(current, bool) or isinstance(previous, bool) or {previous, current} <= {0, 1}:
        return bool(current) and not bool(previous)
    if isinstance(current, int):
        return current != previous and current != 0
    if isinstance(current, str):
        return current != previous and current.strip() != ""
    return False


class ButtonPoller(Supervised):
    """Polls a scanner's sensor options and fires the hub on each press."""

    def __init__(
        self,
        read: Callable[[], Mapping[str, object] | None],
        hub: TriggerHub,
        stop: threading.Event,
        *,
        buttons: Sequence[str] = ("scan", "button*"),
        interval_s: float = 0.5,
        debounce_s: float = 1.0,
    ) -> None:
        super().__init__("button-poller", self.loop, stop)
        self._read = read
        self.buttons = tuple(buttons)
        self._hub = hub
        self._stop_event = stop
        self.interval_s = interval_s
        self.debounce_s = debounce_s
        self._last: dict[str, object] = {}
        self._last_fire = float("-inf")
        self.presses = 0

    def poll_once(self, now: float | None = None) -> list[str]:
        """One poll: returns the names of the sensors that were pressed."""
        values = self._read()
        if values is None:  # scanning, or the scanner is away: keep the old state
            return []
        now = time.monotonic() if now is None else now
        values = {
            name: value
            for name, value in values.items()
            if any(fnmatch.fnmatchcase(name, pattern) for pattern in self.buttons)
        }
        pressed = [name for name, value in values.items() if is_press(self._last.get(name), value)]
        self._last = dict(values)
        if pressed and now - self._last_fire >= self.debounce_s:
            self._last_fire = now
            self.presses += 1
            self._hub.fire("scanner-button", detail=",".join(pressed))
        return pressed

    def loop(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.poll_once()
            except StationError as exc:
                log.warning("reading the scanner buttons failed: %s", exc.message_en)
            self._stop_event.wait(self.interval_s)


class HotFolderWatcher(Supervised):
    """Fires the hub when a hot folder holds complete, stable files.

    After a batch that failed (a full disk, a jam) the watcher waits before it
    fires again, 5 s and doubling up to ``max_backoff_s``, so a fault that lasts
    does not start a batch (and raise an event) twice a second.
    """

    def __init__(
        self,
        pending: Callable[[], bool],
        hub: TriggerHub,
        stop: threading.Event,
        *,
        busy: threading.Event | None = None,
        paused: Callable[[], bool] = lambda: False,
        interval_s: float = 0.5,
        max_backoff_s: float = 60.0,
    ) -> None:
        super().__init__("hotfolder-watcher", self.loop, stop)
        self._pending = pending
        self._hub = hub
        self._stop_event = stop
        self._busy = busy or threading.Event()
        self._paused = paused
        self.interval_s = interval_s
        self.max_backoff_s = max_backoff_s
        self.backoff_s = 0.0
        self._quiet_until = 0.0

    def batch_ended(self, failed: bool) -> None:
        """Called after each batch: a failure lengthens the pause, a success ends it."""
        if failed:
            self.backoff_s = min(self.max_backoff_s, max(5.0, self.backoff_s * 2))
            self._quiet_until = time.monotonic() + self.backoff_s
        else:
            self.backoff_s = 0.0
            self._quiet_until = 0.0

    def poll_once(self) -> bool:
        if time.monotonic() < self._quiet_until or self._paused():
            return False
        if self._busy.is_set() or not self._pending():
            return False
        return self._hub.fire("hotfolder")

    def loop(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.poll_once()
            except StationError as exc:
                log.warning("hot folder: %s", printable(exc.message_en))
            self._stop_event.wait(self.interval_s)


class GpioButton:
    """A push button on a GPIO pin (BCM numbering), wired to ground."""

    def __init__(self, pin: int, hub: TriggerHub, *, pin_factory: Any = None) -> None:
        try:
            from gpiozero import Button
        except ImportError as exc:
            raise DependencyError(
                "gpio_pin is set but gpiozero is not installed: pip install 'scanstation[pi]'",
                "Đã đặt gpio_pin nhưng chưa cài gpiozero: pip install 'scanstation[pi]'",
            ) from exc
        try:
            self._button = Button(pin, pull_up=True, bounce_time=0.05, pin_factory=pin_factory)
        except Exception as exc:
            raise ConfigError(
                f"GPIO pin {pin} cannot be used: {exc}",
                f"Không dùng được chân GPIO {pin}: {exc}",
            ) from exc
        self._button.when_pressed = lambda: hub.fire("gpio", detail=f"pin {pin}")

    def close(self) -> None:
        self._button.close()


class CaptureService(Supervised):
    """Turns trigger requests into batches, one at a time, with the default profile.

    While ``paused`` returns an error (the store is full), a request is answered
    with that error and nothing is captured."""

    def __init__(
        self,
        config: Config,
        store: Store,
        source: Source,
        hub: TriggerHub,
        stop: threading.Event,
        *,
        on_result: Callable[[CaptureResult | StationError], None] | None = None,
        on_page: Callable[[TriggerRequest, Page], None] | None = None,
        on_start: Callable[[TriggerRequest], None] | None = None,
        paused: Callable[[], DiskFull | None] = lambda: None,
        on_notice: NoticeCallback | None = None,
        direction: Callable[[], str] = lambda: "incoming",
    ) -> None:
        super().__init__("capture", self.loop, stop)
        #: the direction of a new batch: the clerk's choice on the scan screen
        self._direction = direction
        self.config = config
        self.store = store
        self.source = source
        self.hub = hub
        self._stop_event = stop
        self._on_result = on_result
        self._on_page = on_page
        self._on_start = on_start
        self._paused = paused
        #: what the clerk is told of during a batch (a file refused or already scanned)
        self._on_notice = on_notice
        self.busy = threading.Event()

    def loop(self) -> None:
        while not self._stop_event.is_set():
            request = self.hub.wait(timeout=0.2)
            if request is None:
                continue
            self.run_request(request)

    def run_request(self, request: TriggerRequest) -> CaptureResult | StationError:
        name = request.profile or self.config.scanner.default_profile
        self.busy.set()
        outcome: CaptureResult | StationError
        on_page = self._on_page
        try:
            full = self._paused()
            if full is not None:
                raise full
            if self._on_start is not None:
                self._on_start(request)
            outcome = capture_batch(
                self.store,
                self.source,
                name,
                self.config.profile(name),
                trigger=request.origin,
                direction=self._direction(),
                stop=self._stop_event,
                on_page=(lambda page: on_page(request, page)) if on_page else None,
                on_notice=self._on_notice,
            )
            log.info("batch %s: %d pages", outcome.batch.id, len(outcome.pages))
        except StationError as exc:
            log.warning("capture failed: %s", printable(exc.message_en))
            outcome = exc
        finally:
            self.busy.clear()
            dropped = self.hub.drain()
            if dropped:
                log.info("%d trigger(s) during the batch ignored", dropped)
        if self._on_result is not None:
            self._on_result(outcome)
        return outcome
