"""One worker thread per station, each with a bounded queue of its own.

The MQTT network thread only sorts messages by station and hands them over;
each station's messages are then handled in the order they came, on that
station's worker. A station sending slowly or a lot therefore delays only
itself. A worker ends after ``idle_s`` without messages and is started again
by the station's next one.

A queue holds at most ``max_bytes`` of payload (one message is always taken
when the queue is empty, whatever its size); :meth:`StationWorkers.submit`
answers False beyond that, and the caller tells the station to retry later.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from station.common.supervisor import supervised

log = logging.getLogger("scanstation.receiver")

Handler = Callable[[str, bytes], None]


@dataclass
class _Worker:
    station_id: str
    queue: deque[tuple[str, bytes]] = field(default_factory=deque)
    queued_bytes: int = 0
    thread: threading.Thread | None = None


class StationWorkers:
    def __init__(self, handle: Handler, max_bytes: int, idle_s: float = 30.0) -> None:
        self.handle = handle
        self.max_bytes = max_bytes
        self.idle_s = idle_s
        self._workers: dict[str, _Worker] = {}
        self._cond = threading.Condition()
        self._stopped = False
        #: set with ``_stopped``: a supervised worker is not run again once stopping
        self._stop_event = threading.Event()

    def submit(self, station_id: str, topic: str, payload: bytes, *, force: bool = False) -> bool:
        """Queue a message for its station's worker; False when the station
        already has ``max_bytes`` waiting (``force`` queues it all the same)."""
        with self._cond:
            if self._stopped:
                return False
            worker = self._workers.get(station_id)
            if worker is None:
                worker = self._workers[station_id] = _Worker(station_id)
            full = worker.queue and worker.queued_bytes + len(payload) > self.max_bytes
            if full and not force:
                return False
            worker.queue.append((topic, payload))
            worker.queued_bytes += len(payload)
            if worker.thread is None:
                worker.thread = supervised(
                    f"receiver-{station_id}", lambda: self._run(worker), self._stop_event
                )
                worker.thread.start()
            self._cond.notify_all()
            return True

    def queued(self, station_id: str) -> int:
        """Payload bytes waiting for the station's worker."""
        with self._cond:
            worker = self._workers.get(station_id)
            return worker.queued_bytes if worker else 0

    def active(self) -> list[str]:
        with self._cond:
            return sorted(self._workers)

    def _run(self, worker: _Worker) -> None:
        while True:
            with self._cond:
                if not worker.queue and not self._stopped:
                    self._cond.wait_for(lambda: bool(worker.queue) or self._stopped, self.idle_s)
                if not worker.queue:
                    # idle (or stopped): this worker ends; the next message starts another
                    worker.thread = None
                    del self._workers[worker.station_id]
                    return
                topic, payload = worker.queue.popleft()
            try:
                self.handle(topic, payload)
            except Exception:  # a bad message must not end the station's worker
                log.exception("could not handle a message on %r", topic[:200])
            with self._cond:
                worker.queued_bytes -= len(payload)

    def stop(self, timeout: float = 10.0) -> None:
        """Handle what is queued, then end every worker."""
        with self._cond:
            self._stopped = True
            self._stop_event.set()
            threads = [w.thread for w in self._workers.values() if w.thread is not None]
            self._cond.notify_all()
        for thread in threads:
            thread.join(timeout)
