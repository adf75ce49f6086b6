"""The one rule for the station's threads: a loop that fails is started again.

Every thread of the station runs under :class:`Supervised` (made with
:func:`supervised`, or subclassed by the long-lived loops). When its loop
raises, the supervisor logs the traceback, reports the failure (an event
``thread.failed`` through the store's event log, so the fleet sees it, and a
note to the open screens), waits and runs the loop again: 1 s after the first
failure, doubling up to :data:`MAX_BACKOFF_S` while it keeps failing, and back
to 1 s once the loop has run :data:`HEALTHY_S` without failing. The wait is on
the station's stop event, so a stop is never held up and a loop that fails at
once never spins. A loop that returns has finished (its stop event was set, or
it was a one-off task such as probing the scanner).
"""

from __future__ import annotations

import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from station.common.hub import Hub
    from station.store import Store

log = logging.getLogger("scanstation.supervisor")

#: the first pause after a failure, in seconds; it doubles while the loop keeps failing
FIRST_BACKOFF_S = 1.0
MAX_BACKOFF_S = 60.0
#: a loop that ran this long without failing starts again from the first pause
HEALTHY_S = 60.0
#: the event raised for a failed loop (docs/mqtt.md lists it)
EVENT = "thread.failed"

#: called with (thread name, the exception, how many times it failed, the pause in s)
CrashReport = Callable[[str, BaseException, int, float], None]


class Supervised(threading.Thread):
    """A named daemon thread whose loop is restarted after an exception."""

    def __init__(
        self,
        name: str,
        loop: Callable[[], object],
        stop: threading.Event,
        *,
        on_crash: CrashReport | None = None,
        first_backoff_s: float = FIRST_BACKOFF_S,
        max_backoff_s: float = MAX_BACKOFF_S,
        healthy_s: float = HEALTHY_S,
    ) -> None:
        super().__init__(name=name, daemon=True)
        self._loop = loop
        self._supervisor_stop = stop
        self.on_crash = on_crash
        self.first_backoff_s = first_backoff_s
        self.max_backoff_s = max_backoff_s
        self.healthy_s = healthy_s
        #: how many times the loop failed
        self.failures = 0
        #: the pause before the loop runs again after its latest failure
        self.backoff_s = 0.0
        self.last_error: str | None = None

    def run(self) -> None:
        while True:
            started = time.monotonic()
            try:
                self._loop()
                return
            except Exception as exc:  # noqa: BLE001 - the rule itself: logged, reported, run again
                if self._supervisor_stop.is_set():
                    log.warning("thread %s failed while stopping: %r", self.name, exc)
                    return
                self._failed(exc, time.monotonic() - started)
            if self._supervisor_stop.wait(self.backoff_s):
                return

    def _failed(self, exc: Exception, ran_s: float) -> None:
        healthy = ran_s >= self.healthy_s or not self.backoff_s
        self.backoff_s = (
            self.first_backoff_s if healthy else min(self.max_backoff_s, self.backoff_s * 2)
        )
        self.failures += 1
        self.last_error = f"{type(exc).__name__}: {exc}"
        log.error(
            "thread %s failed (%d so far); it runs again in %.0f s\n%s",
            self.name,
            self.failures,
            self.backoff_s,
            "".join(traceback.format_exception(exc)).rstrip(),
        )
        if self.on_crash is None:
            return
        try:
            self.on_crash(self.name, exc, self.failures, self.backoff_s)
        except Exception as report_failed:  # noqa: BLE001 - the store may be what fails
            log.warning("thread %s: the failure was not recorded: %r", self.name, report_failed)


def supervised(
    name: str,
    loop: Callable[[], object],
    stop: threading.Event,
    *,
    on_crash: CrashReport | None = None,
) -> Supervised:
    """``loop`` in a supervised thread (not yet started)."""
    return Supervised(name, loop, stop, on_crash=on_crash)


def reporter(store: Store, hub: Hub | None = None) -> CrashReport:
    """Report a failed loop as the event ``thread.failed`` and to the open screens."""

    def report(name: str, exc: BaseException, failures: int, backoff_s: float) -> None:
        error = f"{type(exc).__name__}: {exc}"[:500]
        if hub is not None:
            hub.publish("thread", thread=name, error=error, failures=failures)
        store.events.add(
            EVENT,
            "error",
            f"Luồng {name} bị lỗi và được chạy lại sau {backoff_s:.0f} giây",
            f"Thread {name} failed and runs again in {backoff_s:.0f} s",
            {"thread": name, "error": error, "failures": failures, "backoff_s": backoff_s},
        )

    return report
