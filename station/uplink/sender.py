"""Delivery of the outbox over MQTT: resumable file transfer, then the document.

For each document in the store's outbox (:meth:`station.store.outbox.Outbox`):

1. ``init`` with the file's name, size, checksum and the document's metadata;
2. the segments at their byte offsets, each with its SHA-256, ``window`` of
   them in flight; each segment acknowledged by the receiver (reason code 0
   on ``file-response``) is recorded in the store, so after a restart or a
   lost connection only the unacknowledged ones are sent again;
3. ``fin`` with the size and the checksum of the whole file; when it
   succeeds the document is ``sent``;
4. ``doc/{doc_id}`` with the metadata, file id, size and checksum; once the
   broker has it the document is ``announced``;
5. the receipt (``doc/{doc_id}/receipt``, status 01 with the same checksum)
   makes it ``received`` (a document announced :data:`ANNOUNCE_AGAIN_S`
   without one is announced again: the receiver may have missed it); later
   DMS statuses (02–06) are recorded as they come, each raised as the event
   ``delivery.status`` and a refusal (02) as ``delivery.rejected`` with its
   reason, and the local copy is deleted after the configured retention.

Reason codes (EIP-0021): 0 done, 0x80 send that command again, 0x83 give
the file id up (the document starts again under a new one; a file id is
never reused), 0x97 wait and send again. A response or receipt that does not
match anything the station sent is logged and ignored.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from station.common.fsutil import erase
from station.errors import NotFound
from station.store import OutboxItem, Store
from station.wire import topics
from station.wire.mqtt import Connection, json_object
from station.wire.payloads import RECEIPT_WORDS

log = logging.getLogger("scanstation.uplink")

RECEIPT_STATUSES = set(RECEIPT_WORDS)
#: a segment answered "send it again" this many times in a row ends the round
MAX_RESENDS = 3
#: a document announced this long ago without its receipt is announced again
ANNOUNCE_AGAIN_S = 120.0


@dataclass
class _Waiter:
    done: threading.Event = field(default_factory=threading.Event)
    code: int | None = None
    body: dict[str, Any] = field(default_factory=dict)


class Uplink:
    def __init__(
        self,
        store: Store,
        connection: Connection,
        station_id: str,
        *,
        mode: str = "station",
        window: int = 8,
        response_timeout_s: float = 30.0,
        retention: timedelta | None = None,
        announce_again_s: float = ANNOUNCE_AGAIN_S,
        base: str = topics.VERSION,
        route: str = "",
    ) -> None:
        self.store = store
        self.conn = connection
        self.station_id = station_id
        #: the outbox route this sender delivers, under its topic root: the
        #: stations' own, or an independent LAN's root of secret documents
        self.route = route
        self.base = base
        self.files = topics.FileTopics(station_id, mode, station_id, base)
        self.window = max(1, window)
        self.timeout = response_timeout_s
        #: local copies are deleted this long after their receipt (None: kept)
        self.retention = retention
        #: a document announced this long without its receipt is announced again
        self.announce_again_s = announce_again_s
        #: doc_id -> time.monotonic() of its last announcement (or of its first
        #: sight as announced, after a restart)
        self._announced: dict[str, float] = {}
        self._waiters: dict[str, _Waiter] = {}
        self._lock = threading.Lock()
        self.wake = threading.Event()
        self._halted = threading.Event()
        #: segments published, for the benchmark and the fault tests
        self.segments_sent = 0
        #: called with (doc_id, status) once a receipt is recorded (the screens)
        self.on_receipt: Callable[[str, str], None] | None = None
        connection.subscribe(self.files.response, self._on_message)
        connection.subscribe(topics.receipt(station_id, "+", base), self._on_message)
        connection.on_disconnected.append(self._abandon)
        file_root = self.files.init("x").rsplit("/", 2)[0] + "/"
        others = connection.not_replayed  # another sender's on the same connection
        connection.not_replayed = lambda topic: topic.startswith(file_root) or others(topic)

    # ------------------------------------------------------------------ loop

    def run(self, stop: threading.Event) -> None:
        """Deliver until ``stop`` is set: whatever is queued, whenever connected."""
        while not stop.is_set():
            if self.retention is not None:
                self.purge(self.retention)
            if not self.conn.connected.wait(timeout=1.0):
                continue
            items = self.store.outbox.items(("queued", "sent"), self.route) + self._unanswered()
            if not items:
                self.wake.wait(timeout=1.0)
                self.wake.clear()
                continue
            for item in items:
                if stop.is_set() or not self.conn.connected.is_set():
                    break
                self.deliver(item, stop)

    def _unanswered(self) -> list[OutboxItem]:
        """Documents announced ``announce_again_s`` ago without their receipt.
        The receiver may have missed the announcement (it was away, or its
        session was lost with the broker): announcing again is harmless, it
        answers the same receipt, and no document waits for ever."""
        now = time.monotonic()
        announced = self.store.outbox.items(("announced",), self.route)
        waiting = {item.doc_id for item in announced}
        for doc_id in list(self._announced):
            if doc_id not in waiting:
                del self._announced[doc_id]  # received (or deleted) meanwhile
        return [
            item
            for item in announced
            if now - self._announced.setdefault(item.doc_id, now) >= self.announce_again_s
        ]

    def deliver(self, item: OutboxItem, stop: threading.Event) -> None:
        if item.state == "queued" and not self._transfer(item, stop):
            return
        item = self.store.outbox.item(item.doc_id)
        if item.state in ("sent", "announced"):
            if item.state == "announced":
                log.info("announcing %s again: no receipt yet", item.doc_id)
            body = {
                **item.metadata,
                "doc_id": item.doc_id,
                "file_id": item.file_id,
                "size": item.size,
                "sha256": item.sha256,
            }
            info = self.conn.publish(
                topics.doc(self.station_id, item.doc_id, self.base),
                json.dumps(body, ensure_ascii=False).encode(),
                qos=1,
            )
            try:
                info.wait_for_publish(timeout=self.timeout)
            except RuntimeError:
                return  # not connected: next round
            if info.is_published():
                self.store.outbox.set_state(item.doc_id, "announced")
                self._announced[item.doc_id] = time.monotonic()

    # ------------------------------------------------------------------ transfer

    def _transfer(self, item: OutboxItem, stop: threading.Event) -> bool:
        """Send the file; True once ``fin`` succeeded."""
        init = {
            "name": item.path.name,
            "size": item.size,
            "checksum": item.sha256,
            "user_data": {**item.metadata, "doc_id": item.doc_id},
        }
        topic = self.files.init(item.file_id)
        waiter = self._send(topic, json.dumps(init).encode())
        code = self._wait(topic, waiter)
        if code != topics.OK:
            return self._setback(item, code)
        # the station's receiver names the segments it already holds (a transfer
        # cut off after the segments arrived but before their answers did)
        have = waiter.body.get("segments")
        if isinstance(have, list):
            for offset in have:
                if (
                    isinstance(offset, int)
                    and 0 <= offset < item.size
                    and not offset % item.segment_size
                ):
                    self.store.outbox.ack_segment(item.file_id, offset)
        acked = self.store.outbox.acked_offsets(item.file_id)
        offsets = [o for o in range(0, max(item.size, 1), item.segment_size) if o not in acked]
        in_flight: deque[tuple[int, str, _Waiter]] = deque()
        with item.path.open("rb") as stream:

            def send(offset: int) -> None:
                stream.seek(offset)
                data = stream.read(item.segment_size)
                topic = self.files.segment(item.file_id, offset, _sha(data))
                in_flight.append((offset, topic, self._send(topic, data)))
                self.segments_sent += 1

            pending = deque(offsets)
            #: answers "send it again" per offset in a row: a receiver that lost the
            #: transfer (restarted on an empty folder) answers every segment so, and
            #: only a new ``init`` mends that
            resends: dict[int, int] = {}
            while pending or in_flight:
                if stop.is_set():
                    return False
                while pending and len(in_flight) < self.window:
                    send(pending.popleft())
                offset, topic, waiter = in_flight.popleft()
                code = self._wait(topic, waiter)
                if code == topics.OK:
                    self.store.outbox.ack_segment(item.file_id, offset)
                elif code == topics.RESEND or (code is None and self.conn.connected.is_set()):
                    resends[offset] = resends.get(offset, 0) + 1
                    if resends[offset] > MAX_RESENDS:
                        log.warning(
                            "segment %d of %s asked again %d times: starting with init again",
                            offset, item.file_id, resends[offset],
                        )  # fmt: skip
                        return self._setback(item, topics.RESEND)
                    pending.appendleft(offset)
                elif code == topics.RETRY_LATER:
                    time.sleep(2.0)
                    pending.appendleft(offset)
                else:
                    return self._setback(item, code)
        fin = self.files.fin(item.file_id, item.size, item.sha256)
        code = self._command(fin, b"")
        if code == topics.OK:
            self.store.outbox.set_state(item.doc_id, "sent")
            return True
        if code == topics.RESEND:
            # the receiver lacks segments it had acknowledged: send them all again
            self.store.outbox.forget_segments(item.file_id)
        return self._setback(item, code)

    def _setback(self, item: OutboxItem, code: int | None) -> bool:
        if code == topics.CANCEL:
            new = self.store.outbox.renew_file_id(item.doc_id)
            log.warning(
                "receiver cancelled %s for %s; starting again as %s", item.file_id, item.doc_id, new
            )
        elif code == topics.RETRY_LATER:
            time.sleep(5.0)
        elif code == topics.RESEND:
            time.sleep(1.0)  # the next round starts with init; no tight loop meanwhile
        return False

    def _abandon(self) -> None:
        """The connection is gone: nothing in flight will be answered."""
        with self._lock:
            waiters = list(self._waiters.values())
            self._waiters.clear()
        for waiter in waiters:
            waiter.done.set()

    def _send(self, topic: str, payload: bytes) -> _Waiter:
        waiter = _Waiter()
        with self._lock:
            self._waiters[topic] = waiter
        self.conn.publish(topic, payload, qos=1)
        return waiter

    def halt(self) -> None:
        """Stop waiting for answers: the station is shutting down."""
        self._halted.set()
        self._abandon()

    def _wait(self, topic: str, waiter: _Waiter) -> int | None:
        deadline = time.monotonic() + self.timeout
        while not self._halted.is_set() and time.monotonic() < deadline:
            if waiter.done.wait(timeout=min(0.5, max(0.0, deadline - time.monotonic()))):
                break
        with self._lock:
            if self._waiters.get(topic) is waiter:
                del self._waiters[topic]
        return waiter.code

    def _command(self, topic: str, payload: bytes) -> int | None:
        return self._wait(topic, self._send(topic, payload))

    # ------------------------------------------------------------------ incoming

    def _on_message(self, topic: str, payload: bytes) -> None:
        try:
            if topic == self.files.response:
                self._response(payload)
            elif topic.startswith(topics.doc(self.station_id, "", self.base)) and topic.endswith(
                "/receipt"
            ):
                self._receipt(topic, payload)
            else:
                log.warning("ignored a message on %r", topic[:200])
        except Exception:  # a hostile message must not stop delivery
            log.exception("could not handle a message on %r", topic[:200])

    def _response(self, payload: bytes) -> None:
        body = json_object(payload, 64 * 1024)
        if body is None or not isinstance(body.get("topic"), str):
            log.warning("ignored a malformed file-response")
            return
        code = body.get("reason_code")
        if not isinstance(code, int) or isinstance(code, bool):
            log.warning("ignored a file-response without a reason code")
            return
        with self._lock:
            waiter = self._waiters.get(body["topic"])
        if waiter is None:
            log.info("ignored a file-response for nothing in flight: %r", body["topic"][:200])
            return
        waiter.body = body
        waiter.code = code
        waiter.done.set()

    def _receipt(self, topic: str, payload: bytes) -> None:
        doc_id = topic.split("/")[-2]
        body = json_object(payload, 64 * 1024)
        if body is None or body.get("status") not in RECEIPT_STATUSES:
            log.warning("ignored a malformed receipt for %r", doc_id[:80])
            return
        try:
            item = self.store.outbox.item(doc_id)
        except NotFound:
            log.info("ignored a receipt for a document not in the outbox: %r", doc_id[:80])
            return
        if item.route != self.route:  # acknowledged under another root: not where it went
            log.warning("ignored a receipt for %s under %s: it was not sent there", doc_id,
                        self.base)  # fmt: skip
            return
        status = body["status"]
        # the receiver's 01 names the file it stored; a DMS status names it too
        if (status == "01" or "sha256" in body) and body.get("sha256") != item.sha256:
            log.warning("ignored a receipt for %s with another checksum", doc_id)
            return
        if item.status == status:
            return  # the retained receipt again
        self.store.outbox.record_receipt(doc_id, status, body)
        if status != "01":
            self._status_event(item, status, body)
        if self.on_receipt is not None:
            self.on_receipt(doc_id, status)

    def _status_event(self, item: OutboxItem, status: str, body: dict[str, Any]) -> None:
        """A DMS status is an event for the fleet; a refusal (02) a warning with its reason."""
        vi, en = RECEIPT_WORDS[status]
        label = item.metadata.get("Registration") or item.doc_id
        who = _text(body.get("from"))
        detail = {"doc_id": item.doc_id, "registration": item.metadata.get("Registration"),
                  "status": status, "from": who, "at": _text(body.get("at"))}  # fmt: skip
        self.store.events.add("delivery.status", "info", f"{label}: {vi}", f"{label}: {en}", detail)
        if status == "02":
            reason = _text(body.get("description"))
            self.store.events.add(
                "delivery.rejected",
                "warning",
                f"Văn bản {label} bị {who or 'hệ thống quản lý văn bản'} từ chối: {reason or '–'}",
                f"Document {label} refused by {who or 'the document system'}: {reason or '–'}",
                {**detail, "reason": reason, "staff": _text(body.get("staff"))},
            )

    # ------------------------------------------------------------------ retention

    def purge(self, retention: timedelta) -> list[str]:
        """Erase local copies received longer ago than ``retention`` (the rest
        of their batch goes with the store's retention, station/store/retention.py)."""
        now = datetime.now(UTC)
        gone = []
        for item in self.store.outbox.items(("received",), self.route):
            if item.received_at is None:
                continue
            if datetime.fromisoformat(item.received_at) + retention <= now:
                erase(item.path)
                self.store.outbox.set_state(item.doc_id, "deleted")
                gone.append(item.doc_id)
        return gone


def _text(value: object, limit: int = 500) -> str:
    """A free-text field of a receipt, as text of a sane length."""
    return " ".join(str(value).split())[:limit] if isinstance(value, str) else ""


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
