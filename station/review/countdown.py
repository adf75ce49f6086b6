"""The countdown to a batch's confirmation (``[pipeline] auto_confirm_seconds``).

A batch whose documents are all clean (no warning; labelled, when received) and whose fields
were all read surely (none for the clerk to check: the header's, the signer's,
"Kính gửi" and "Nơi nhận") counts down once it has been read, for
``auto_confirm_seconds`` a document (at most :data:`LONGEST` seconds); when the
time is up the station confirms it. The clerk may stop it, and any touch, key
or focus on the batch's screen does; it then stays stopped, across restarts,
until the batch is read again (the hold is kept in the store, table
``review_holds``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from station.review.drafts import Review
from station.store import now_iso

#: the longest countdown, whatever the number of documents (seconds)
LONGEST = 900


class Countdown:
    def __init__(
        self,
        review: Review,
        seconds: Callable[[], int],
        publish: Callable[..., Any],
        ready: Callable[[str], bool] = lambda batch: True,
    ) -> None:
        self.review = review
        self._seconds = seconds
        self._publish = publish
        #: whether a batch could be confirmed without a question (station.review.checks)
        self._ready = ready
        #: review batch -> time.monotonic() when it confirms itself
        self.deadlines: dict[str, float] = {}
        self._lock = threading.Lock()

    def arm(self, batch: str) -> None:
        """A batch that has just been read counts down if it is clean."""
        self.hold(batch, False)
        self.start(batch)

    def start(self, batch: str) -> None:
        docs = self.review.documents(batch)
        seconds = min(LONGEST, self._seconds() * len(docs))
        sure = all(self.review.clean(d) and not d.to_check() for d in docs)
        if seconds and docs and sure and self._ready(batch):
            with self._lock:
                self.deadlines[batch] = time.monotonic() + seconds
            self._publish("countdown", batch=batch, seconds=seconds)

    def resume(self, batch: str) -> None:
        """After a restart: count down again unless the clerk had stopped it."""
        if not self.held(batch) and batch not in self.deadlines:
            self.start(batch)

    def stop(self, batch: str) -> bool:
        """The clerk stopped the countdown (or changed the batch)."""
        self.hold(batch)
        with self._lock:
            stopped = self.deadlines.pop(batch, None) is not None
        if stopped:
            self._publish("countdown", batch=batch, seconds=None)
        return stopped

    def cancel(self, batch: str) -> None:
        """The batch is being confirmed: no countdown for it any more."""
        with self._lock:
            self.deadlines.pop(batch, None)

    def left(self, batch: str) -> float | None:
        deadline = self.deadlines.get(batch)
        return None if deadline is None else max(0.0, deadline - time.monotonic())

    def due(self) -> list[str]:
        """The batches whose time is up, taken off the countdown."""
        now = time.monotonic()
        with self._lock:
            done = [batch for batch, deadline in self.deadlines.items() if now >= deadline]
            for batch in done:
                del self.deadlines[batch]
        return done

    def hold(self, batch: str, held: bool = True) -> None:
        """Record that the clerk stopped the batch's countdown (or lift that)."""
        with self.review.store.transaction() as db:
            if held:
                db.execute(
                    "INSERT OR IGNORE INTO review_holds (batch_id, at) VALUES (?, ?)",
                    (batch, now_iso()),
                )
            else:
                db.execute("DELETE FROM review_holds WHERE batch_id = ?", (batch,))

    def held(self, batch: str) -> bool:
        rows = self.review.store.query("SELECT 1 FROM review_holds WHERE batch_id = ?", (batch,))
        return bool(rows)
