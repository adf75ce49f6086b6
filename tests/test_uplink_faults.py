"""Delivery through faults, with a real mosquitto: a broker restart, a corrupted
segment, a receiver restarted or that lost the transfer, a station killed mid-file,
the broker down while documents wait."""

from __future__ import annotations

import hashlib
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from station.central.receiver import Receiver
from station.store import Store
from station.wire import topics
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto
from tests.helpers.cli import ROOT
from tests.helpers.uplink import SEGMENT, Station, delivered, queue, receiver, wait_for


class _CountingReceiver:
    """A receiver that counts segment arrivals; the first arrival of each offset in
    ``corrupt`` has a byte flipped on the way."""

    def __init__(
        self,
        url: str,
        out: Path,
        arrivals: list[int],
        corrupt: set[int] | None = None,
        miss_announcements: int = 0,
    ) -> None:
        self.conn = Connection(url, "central-1", clean_start=True)
        self.receiver = Receiver(self.conn, out)
        self.arrivals = arrivals
        self.corrupt = corrupt or set()
        self.spoiled: set[int] = set()
        #: document announcements lost on the way (the receiver was away)
        self.miss_announcements = miss_announcements
        self.announcements = 0
        self.conn.on_message = self._counting
        self.conn.start()
        assert self.conn.ready.wait(10)

    def _counting(self, topic: str, payload: bytes) -> None:
        command = topics.parse_file_topic(topic)
        if command is not None and command.kind == "segment":
            self.arrivals.append(command.offset)
            if command.offset in self.corrupt and command.offset not in self.spoiled:
                self.spoiled.add(command.offset)
                payload = bytes([payload[0] ^ 0xFF]) + payload[1:]
        elif command is None and "/doc/" in topic and not topic.endswith("/receipt"):
            self.announcements += 1
            if self.announcements <= self.miss_announcements:
                return
        self.receiver._on_message(topic, payload)

    def stop(self) -> None:
        """The connection, then the receiver's workers (they finish what is queued)."""
        self.conn.stop()
        self.receiver.stop()


def test_corrupted_segment_is_sent_again(broker: Mosquitto, tmp_path: Path) -> None:
    out = tmp_path / "central"
    arrivals: list[int] = []
    central = _CountingReceiver(broker.url, out, arrivals, corrupt={2 * SEGMENT, 5 * SEGMENT})
    station = Station(tmp_path / "data", broker.url)
    digest = queue(station.store, tmp_path, "doc-c", 8 * SEGMENT)
    station.start()
    try:
        wait_for(lambda: station.store.outbox.item("doc-c").state == "received")
        assert hashlib.sha256(delivered(out, "doc-c").read_bytes()).hexdigest() == digest
        assert sorted(arrivals) == sorted(
            [*range(0, 8 * SEGMENT, SEGMENT), 2 * SEGMENT, 5 * SEGMENT]
        )
    finally:
        station.close()
        central.stop()


def test_receiver_restarted_mid_file(broker: Mosquitto, tmp_path: Path) -> None:
    out = tmp_path / "central"
    arrivals: list[int] = []
    central = _CountingReceiver(broker.url, out, arrivals)
    station = Station(tmp_path / "data", broker.url, window=4, announce_again_s=3.0)
    digest = queue(station.store, tmp_path, "doc-r", 40 * SEGMENT)
    file_id = station.store.outbox.item("doc-r").file_id
    station.start()
    try:
        wait_for(lambda: len(station.store.outbox.acked_offsets(file_id)) >= 10)
        central.stop()  # the receiver goes away mid-file
        time.sleep(2.0)
        central = _CountingReceiver(broker.url, out, arrivals)
        wait_for(lambda: station.store.outbox.item("doc-r").state == "received", timeout=90)
        assert hashlib.sha256(delivered(out, "doc-r").read_bytes()).hexdigest() == digest
        assert sorted(set(arrivals)) == list(range(0, 40 * SEGMENT, SEGMENT))
        assert len(list(out.rglob("*.pdf"))) == 1
    finally:
        station.close()
        central.stop()


def test_station_killed_mid_file_resumes_without_duplicate(
    broker: Mosquitto, tmp_path: Path
) -> None:
    SEGMENTS = 400
    out = tmp_path / "central"
    arrivals: list[int] = []
    central = _CountingReceiver(broker.url, out, arrivals)
    data = tmp_path / "data"
    with Store(data) as store:
        # large enough that the kill lands mid-file however fast the receiver is
        digest = queue(store, tmp_path, "doc-k", SEGMENTS * SEGMENT)
        file_id = store.outbox.item("doc-k").file_id
    watcher = Store(data)

    def child() -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.helpers.uplink_child", str(data), broker.url],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )

    first = child()
    try:
        wait_for(lambda: len(watcher.outbox.acked_offsets(file_id)) >= 20)
        first.send_signal(signal.SIGKILL)
        first.wait(10)
        acked = len(watcher.outbox.acked_offsets(file_id))
        assert acked < SEGMENTS
        second = child()
        try:
            wait_for(lambda: watcher.outbox.item("doc-k").state == "received", timeout=90)
        finally:
            second.send_signal(signal.SIGKILL)
            second.wait(10)
        assert hashlib.sha256(delivered(out, "doc-k").read_bytes()).hexdigest() == digest
        assert len(list(out.rglob("*.pdf"))) == 1
        assert watcher.outbox.item("doc-k").file_id == file_id  # resumed, not restarted
        # what travelled twice is at most what was in flight when the kill came
        assert len(arrivals) - SEGMENTS <= 4, f"{len(arrivals) - SEGMENTS} segments arrived twice"
    finally:
        if first.poll() is None:
            first.kill()
        watcher.close()
        central.stop()


@pytest.mark.slow
def test_outbox_waits_while_the_broker_is_down_and_drains(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """No broker when the station starts and documents are queued: they wait in
    the outbox, the connection keeps retrying with back-off, and everything is
    delivered once the broker is back, without anyone acting. The back-off's
    ceiling is 4 s here instead of the station's 60 s, so that the test waits
    past it in seconds rather than minutes."""
    broker.stop()
    station = Station(tmp_path / "data", broker.url)
    station.conn.client.reconnect_delay_set(min_delay=1, max_delay=4)
    station.start()
    sums = {f"doc-{k}": queue(station.store, tmp_path, f"doc-{k}", k * SEGMENT) for k in (1, 2, 3)}
    try:
        time.sleep(12.0)  # tries after 1, 2, 4, 4 s: the back-off has reached its ceiling
        assert {i.state for i in station.store.outbox.items(("queued", "sent", "received"))} == {
            "queued"
        }
        broker.start()
        central = receiver(broker.url, tmp_path / "central")
        try:
            wait_for(lambda: len(station.store.outbox.items(("received",))) == 3, timeout=120)
        finally:
            central.stop()
        for doc_id, digest in sums.items():
            data = delivered(tmp_path / "central", doc_id).read_bytes()
            assert hashlib.sha256(data).hexdigest() == digest
    finally:
        station.close()


def test_a_receiver_that_lost_the_transfer_gets_init_again(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """A receiver restarted on an empty transfer folder answers every segment of
    the file "send it again" (it has no init): the station starts the file over
    with init instead of sending the same segment in a loop."""
    out = tmp_path / "central"
    arrivals: list[int] = []
    central = _CountingReceiver(broker.url, out, arrivals)
    station = Station(tmp_path / "data", broker.url, window=2, announce_again_s=3.0)
    digest = queue(station.store, tmp_path, "doc-l", 30 * SEGMENT)
    file_id = station.store.outbox.item("doc-l").file_id
    station.start()
    try:
        wait_for(lambda: len(station.store.outbox.acked_offsets(file_id)) >= 6)
        central.stop()
        shutil.rmtree(out / ".transfer")  # the receiver's transfer state is gone
        central = _CountingReceiver(broker.url, out, arrivals)
        wait_for(lambda: station.store.outbox.item("doc-l").state == "received", timeout=60)
        assert hashlib.sha256(delivered(out, "doc-l").read_bytes()).hexdigest() == digest
        # a few rounds of the whole file at most, never a loop on one segment
        assert len(arrivals) < 4 * 30
    finally:
        station.close()
        central.stop()


def test_a_document_whose_announcement_was_missed_is_announced_again(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """The file arrived, but the receiver missed the document's announcement
    (it was away a moment; its session went with it): without a receipt the
    station announces it again, and the document is received."""
    out = tmp_path / "central"
    central = _CountingReceiver(broker.url, out, [], miss_announcements=1)
    station = Station(tmp_path / "data", broker.url, announce_again_s=2.0)
    digest = queue(station.store, tmp_path, "doc-m", 3 * SEGMENT)
    station.start()
    try:
        wait_for(lambda: station.store.outbox.item("doc-m").state == "received", timeout=20)
        assert central.announcements == 2
        assert hashlib.sha256(delivered(out, "doc-m").read_bytes()).hexdigest() == digest
    finally:
        station.close()
        central.stop()


def test_broker_restart_mid_file(broker: Mosquitto, tmp_path: Path) -> None:
    """The broker goes away mid-file and comes back on the same port: the file
    completes, and at most one segment travels twice."""
    out = tmp_path / "central"
    offsets: list[int] = []
    conn = _CountingReceiver(broker.url, out, offsets)
    station = Station(tmp_path / "data", broker.url, window=4)
    digest = queue(station.store, tmp_path, "big", 60 * SEGMENT)
    file_id = station.store.outbox.item("big").file_id
    station.start()
    try:
        wait_for(lambda: len(station.store.outbox.acked_offsets(file_id)) >= 15)
        broker.stop()
        time.sleep(1.0)
        broker.start()
        wait_for(lambda: station.store.outbox.item("big").state == "received", timeout=60)
        assert hashlib.sha256(delivered(out, "big").read_bytes()).hexdigest() == digest
        assert sorted(set(offsets)) == list(range(0, 60 * SEGMENT, SEGMENT))
        assert len(offsets) - 60 <= 1, f"{len(offsets) - 60} segments arrived twice"
    finally:
        station.close()
        conn.stop()
