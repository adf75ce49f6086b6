"""A full disk: capture stops cleanly and goes on by itself when there is room.

Every part of the station that writes (capture, the pipeline, telemetry) gets a
:class:`~station.errors.DiskFull` from the store's boundary when the disk has
no room: below ``[station] min_free_mb`` (the floor capture checks), or really
full (ENOSPC, SQLite's "database or disk is full":
:class:`~station.errors.StorageFull`). Each hands it to :meth:`StorageGuard.full`:

- capture refuses new batches with the guard's error, so the clerk reads
  "Hết dung lượng lưu trữ…" (Vietnamese, then English) on the screen
  (:meth:`StorageGuard.as_dict`, in ``/api/status`` and on the scan page);
- the event ``storage.full`` is raised once (``detail.active`` true), recorded
  as soon as the store can take it;
- the ``storage`` thread looks at the free space every
  :data:`CHECK_INTERVAL_S` seconds (a ``statvfs``, nothing written). Once
  there are :data:`ROOM_BYTES` above the floor it calls ``on_room`` (the
  station closes the batches the disk stopped and takes up the work it
  parked, as a restart would); if that fails for want of space again it looks
  again later, the wait doubling up to :data:`MAX_INTERVAL_S`. When it
  succeeds, ``storage.full`` clears (``detail.active`` false) and capture
  goes on.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from station.common.fsutil import free_bytes
from station.common.hub import Hub
from station.common.supervisor import CrashReport, Supervised
from station.errors import DiskFull, StorageError
from station.store import Store, now_iso

log = logging.getLogger("scanstation.storage")

#: how often a full store looks for room, and the longest wait after a failed resume
CHECK_INTERVAL_S = 2.0
MAX_INTERVAL_S = 30.0
#: room above the free-space floor before capture goes on (a few pages and their work files)
ROOM_BYTES = 16 * 2**20
EVENT = "storage.full"

#: what the clerk reads while the store is full
CLERK_VI = (
    "Hết dung lượng lưu trữ: đã dừng quét. Các trang đã quét vẫn được giữ; "
    "trạm tự quét tiếp khi có chỗ trống."
)
CLERK_EN = (
    "Storage is full: scanning has stopped. The pages already scanned are kept; "
    "the station goes on by itself once there is room."
)


class StorageGuard:
    """Whether the store is full, and the loop that notices room again."""

    def __init__(
        self,
        store: Store,
        hub: Hub,
        stop: threading.Event,
        on_room: Callable[[], bool],
        *,
        on_crash: CrashReport | None = None,
        interval_s: float = CHECK_INTERVAL_S,
    ) -> None:
        self.store = store
        self.hub = hub
        self.stop = stop
        self.on_room = on_room
        self.interval_s = interval_s
        self.wake = threading.Event()
        self._lock = threading.Lock()
        self.error: DiskFull | None = None
        self.since: str | None = None
        #: the start event is still to be recorded (the store could not take it)
        self._unrecorded = False
        self.thread = Supervised("storage", self.loop, stop, on_crash=on_crash)

    # ------------------------------------------------------------------ state

    def full(self, error: DiskFull) -> None:
        """A write failed for want of room: stop capture and say so (idempotent)."""
        with self._lock:
            if self.error is not None:
                return
            self.error = error
            self.since = now_iso()
            self._unrecorded = True
        log.warning("storage full, capture stopped: %s", error.message_en)
        self.hub.publish("storage", **self.as_dict())
        self._record_start()
        self.wake.set()

    def paused(self) -> DiskFull | None:
        """The error that stopped capture, while the store is full."""
        return self.error

    def has_room(self) -> bool:
        """Room enough above the floor for capture to go on."""
        return free_bytes(self.store.data_dir) >= self.store.min_free_bytes + ROOM_BYTES

    def nearly_full(self) -> bool:
        """Stopped for want of room, or the disk itself almost full (a step that
        fails now is counted as failing for want of room)."""
        return self.error is not None or free_bytes(self.store.data_dir) < ROOM_BYTES

    def as_dict(self) -> dict[str, Any]:
        error = self.error
        if error is None:
            return {"full": False}
        vi, en = f"{CLERK_VI} ({error.message_vi})", f"{CLERK_EN} ({error.message_en})"
        return {
            "full": True,
            "since": self.since,
            "code": error.code,
            "message": {"vi": vi, "en": en},
            "error": f"{vi} / {en}",
        }

    # ------------------------------------------------------------------ events

    def _record_start(self) -> None:
        error = self.error
        if error is None or not self._unrecorded:
            return
        try:
            self.store.events.add(
                EVENT,
                "error",
                CLERK_VI,
                CLERK_EN,
                {"active": True, "since": self.since, "code": error.code, **error.detail},
            )
        except StorageError as exc:
            log.info("storage.full not recorded yet: %s", exc.message_en)
            return
        self._unrecorded = False

    # ------------------------------------------------------------------ the loop

    def loop(self) -> None:
        wait = self.interval_s
        while not self.stop.is_set():
            self.wake.wait(wait)
            self.wake.clear()
            if self.stop.is_set() or self.error is None or not self.has_room():
                continue
            try:
                self._resume()
            except DiskFull as exc:
                wait = min(MAX_INTERVAL_S, wait * 2)
                log.warning("still no room (%s); looking again in %.0f s", exc.message_en, wait)
                continue
            wait = self.interval_s

    def _resume(self) -> None:
        self._record_start()
        if self._unrecorded:
            raise self.error or DiskFull("storage full")
        if not self.on_room():
            return
        self.store.events.add(
            EVENT,
            "info",
            "Đã có chỗ trống, trạm quét tiếp",
            "There is room again: the station goes on",
            {"active": False, "since": self.since},
        )
        with self._lock:
            self.error = None
            self.since = None
        log.info("storage has room again: capture goes on")
        self.hub.publish("storage", **self.as_dict())
