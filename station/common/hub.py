"""Live news for the station UI: what changed, for every open screen (SSE).

Each subscriber gets its own bounded queue; a screen that stops reading loses
old news rather than holding the station up (it reloads what it shows anyway).
"""

from __future__ import annotations

import queue
import threading
import time
from typing import Any

Message = tuple[str, dict[str, Any]]

#: every kind of news the screens are sent (``/api/events``, docs/station-ui.md
#: "Live updates"); the JavaScript listens only for these
KINDS: dict[str, str] = {
    "page": "a page was captured or cleaned",
    "batch": "a batch changed stage",
    "countdown": "a batch's countdown started or stopped",
    "scanner": "the scanner's status changed",
    "outbox": "a delivery changed",
    "error": "a pipeline step failed",
    "notice": "a hot-folder file was refused or already scanned",
    "storage": "the disk filled up, or has room again",
    "thread": "a loop of the station failed and runs again",
    "register": "the incoming or outgoing register changed",
    "secret": "a secret document was stopped and erased, or the clerk saw its notice",
}


class Hub:
    def __init__(self, backlog: int = 256) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[queue.Queue[Message]] = []
        self.backlog = backlog

    def subscribe(self) -> queue.Queue[Message]:
        box: queue.Queue[Message] = queue.Queue(maxsize=self.backlog)
        with self._lock:
            self._subscribers.append(box)
        return box

    def unsubscribe(self, box: queue.Queue[Message]) -> None:
        with self._lock:
            if box in self._subscribers:
                self._subscribers.remove(box)

    def publish(self, kind: str, **data: Any) -> None:
        if kind not in KINDS:
            raise ValueError(f"unknown kind of news {kind!r}: add it to station.common.hub.KINDS")
        message = (kind, {**data, "at": time.time()})
        with self._lock:
            boxes = list(self._subscribers)
        for box in boxes:
            try:
                box.put_nowait(message)
            except queue.Full:
                try:  # drop the oldest: the newest news matters
                    box.get_nowait()
                    box.put_nowait(message)
                except (queue.Empty, queue.Full):
                    pass

    @property
    def listeners(self) -> int:
        with self._lock:
            return len(self._subscribers)
