"""The receiver under a flooding station, and the broker's limits, with a real
mosquitto, the real receiver and real stations (docs/mqtt.md, "Receiver limits")."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as paho
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from station.central.receiver import Receiver, ReceiverLimits
from station.store import Store
from station.uplink.sender import Uplink
from station.wire import topics
from station.wire.mqtt import Connection
from tests.helpers.broker import LIMIT_OPTIONS, Mosquitto, shipped_broker, shipped_limits
from tests.helpers.cli import ROOT
from tests.helpers.pki import Pki
from tests.helpers.wait import until

MIB = 2**20
#: how long station B's documents may take to arrive while station A floods
#: (docs/mqtt.md, "Receiver limits"); the flood itself must outlast them. Loose
#: enough for a suite sharing two cores, where the flooder takes most of one.
FLOOD_DELIVERY_S = 20.0
#: the flood: 40 file ids (as in the finding), at the line rate of a Raspberry
#: Pi 4's Gigabit Ethernet (125 MB/s), the most a station can send
FLOOD_FILES = 40
FLOOD_RATE = 125e6


class Station:
    """A station's store and outbox sender, as the daemon runs them."""

    def __init__(self, data: Path, url: str, station_id: str) -> None:
        self.store = Store(data)
        self.store_file_id = ""
        self.conn = Connection(url, station_id)
        self.uplink = Uplink(self.store, self.conn, station_id, window=4, response_timeout_s=5)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.uplink.run, args=(self.stop,), daemon=True)

    def queue(self, folder: Path, doc_id: str, size: int, **meta: object) -> str:
        path = folder / f"{doc_id}.pdf"
        path.write_bytes(os.urandom(size))
        metadata = {"registration": f"DEN-{doc_id}", "created_at": "2026-11-24T10:00:00Z", **meta}
        return self.store.outbox.enqueue(doc_id, path, metadata, 256 * 1024).sha256

    def start(self) -> Station:
        self.conn.start()
        self.thread.start()
        return self

    def received(self) -> int:
        return len(self.store.outbox.items(("received",)))

    def close(self) -> None:
        self.stop.set()
        self.uplink.halt()
        self.thread.join(timeout=15)
        self.conn.stop()
        self.store.close()


def _limited_broker(folder: Path) -> Mosquitto:
    """A plain-MQTT mosquitto with the shipped config's limits."""
    lines = "".join(f"{name} {value}\n" for name, value in shipped_limits().items())
    return Mosquitto(folder, extra=lines)


@pytest.fixture
def limited_broker(tmp_path: Path) -> Iterator[Mosquitto]:
    server = _limited_broker(tmp_path)
    server.start()
    yield server
    server.stop()


def _raw(broker: Mosquitto, client_id: str) -> paho.Client:
    client = paho.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.max_inflight_messages_set(8)
    client.connect("127.0.0.1", broker.port)
    client.loop_start()
    return client


def _rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def _on_disk(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*.seg")) if folder.exists() else 0


# ---------------------------------------------------------------------- broker


def test_shipped_broker_config_sets_its_limits_and_loads(tmp_path: Path) -> None:
    """Every limit is in the shipped config; the config loads in the real
    mosquitto (TLS and all); this mosquitto tracks its heap, so memory_limit
    holds; and a packet over max_packet_size is refused."""
    limits = shipped_limits()
    assert set(limits) == set(LIMIT_OPTIONS)
    assert 16 * MIB < limits["max_packet_size"] < 32 * MIB  # a 16 MiB segment fits
    assert limits["max_queued_bytes"] <= 128 * MIB and limits["max_queued_messages"] <= 1000
    assert limits["memory_limit"] <= 2048 * MIB
    pki = Pki(tmp_path / "pki")
    pki.issue("broker", server=True)
    (tmp_path / "tls").mkdir()
    tls = shipped_broker(tmp_path / "tls", pki.folder, pki.ca)
    tls.start()  # raises when mosquitto refuses an option
    try:
        assert tls.proc is not None and tls.proc.poll() is None
    finally:
        tls.stop()
    (tmp_path / "plain").mkdir()
    plain = _limited_broker(tmp_path / "plain")
    plain.start()
    try:
        heap: list[bytes] = []
        client = _raw(plain, "probe")
        client.on_message = lambda c, u, m: heap.append(bytes(m.payload))
        client.subscribe("$SYS/broker/heap/current")
        until(lambda: heap, timeout=15)
        assert int(heap[0]) > 0  # memory tracking compiled in
        gone = threading.Event()
        client.on_disconnect = lambda *args: gone.set()
        client.publish("scanstation/v1/st-a/x", os.urandom(limits["max_packet_size"] + 1), qos=1)
        assert gone.wait(15)  # the broker closed the connection
        client.loop_stop()
    finally:
        plain.stop()


# ---------------------------------------------------------------------- limits


def _probe(url: str, station_id: str) -> tuple[Connection, list[dict[str, object]]]:
    conn = Connection(url, f"probe-{station_id}", clean_start=True)
    got: list[dict[str, object]] = []
    conn.subscribe(topics.file_response(station_id), lambda t, p: got.append(json.loads(p)))
    conn.start()
    assert conn.ready.wait(10)
    return conn, got


def _init(size: int, doc_id: str) -> bytes:
    return json.dumps(
        {"name": "x.pdf", "size": size, "checksum": "0" * 64, "user_data": {"doc_id": doc_id}}
    ).encode()


def test_limits_per_station_answer_with_the_protocols_reason_codes(
    broker: Mosquitto, tmp_path: Path
) -> None:
    """Over the limits an init is answered 0x97 (retry later) or 0x83 (a file too
    large, a segment outside its file); another station is not concerned; a
    well-behaved station that met the limit sends again later and loses nothing
    once the idle transfers are removed."""
    out = tmp_path / "central"
    limits = ReceiverLimits(max_files=2, max_bytes=MIB, idle_s=3.0)
    central = Connection(broker.url, "central-1", clean_start=True)
    receiver = Receiver(central, out, limits=limits)
    central.start()
    assert central.ready.wait(10)
    probe, got = _probe(broker.url, "st-a")
    other, other_got = _probe(broker.url, "st-b")
    files = topics.FileTopics("st-a")
    try:
        seg = os.urandom(1000)
        sha = hashlib.sha256(seg).hexdigest()
        sent = [
            (files.init("f1"), _init(400_000, "d1")),  # 0
            (files.init("f2"), _init(400_000, "d2")),  # 0
            (files.init("f3"), _init(100, "d3")),  # 0x97: two files in flight
            (files.init("f4"), _init(2 * MIB, "d4")),  # 0x83: larger than 1 MiB alone
            (files.abort("f2"), b""),  # 0
            (files.init("f5"), _init(700_000, "d5")),  # 0x97: 400 000 + 700 000 > 1 MiB
            (files.segment("f1", 399_500, sha), seg),  # 0x83: ends past 400 000
            (files.segment("f1", 0, sha), seg),  # 0
            (files.segment("f7", 0, sha), seg),  # 0x80: no init
        ]
        for topic, payload in sent:
            probe.publish(topic, payload)
        other.publish(topics.FileTopics("st-b").init("g1"), _init(900_000, "e1"))
        until(lambda: len(got) == len(sent) and other_got)
        assert [r["reason_code"] for r in got] == [
            0, 0, topics.RETRY_LATER, topics.CANCEL, 0, topics.RETRY_LATER, topics.CANCEL,
            0, topics.RESEND,
        ]  # fmt: skip
        assert other_got[0]["reason_code"] == 0  # st-b has limits of its own
        assert not (out / ".transfer" / "st-a" / "f4").exists()
        assert _on_disk(out / ".transfer" / "st-a") == 1000
        # a real station meets the limit: f1 and f3's room is taken until they idle out
        probe.publish(files.init("f6"), _init(100, "d6"))
        until(lambda: len(got) == len(sent) + 1)
        station = Station(tmp_path / "data", broker.url, "st-a")
        digest = station.queue(tmp_path, "real-1", 300_000)
        station.store_file_id = station.store.outbox.item("real-1").file_id
        station.start()
        try:
            until(lambda: station.received() == 1, timeout=60)
        finally:
            station.close()
        final = out / "st-a" / "2026" / "11" / "real-1.pdf"
        assert hashlib.sha256(final.read_bytes()).hexdigest() == digest
        # it was told to wait at least once, and the idle transfers are gone
        file_id = station.store_file_id
        assert any(
            r["reason_code"] == topics.RETRY_LATER and r["topic"] == files.init(file_id)
            for r in got
        )
        assert not (out / ".transfer" / "st-a" / "f1").exists()
        assert not (out / ".transfer" / "st-a" / "f6").exists()
    finally:
        probe.stop()
        other.stop()
        central.stop()
        receiver.stop()


def _label(topic: str) -> str:
    command = topics.parse_file_topic(topic)
    assert command is not None
    return f"{command.station_id}:{command.kind}"


def test_one_stations_slow_work_does_not_hold_up_another(broker: Mosquitto, tmp_path: Path) -> None:
    """Station A's fin makes the receiver assemble a 96 MiB file (read, hash,
    write, fsync); station B's init, sent just after it, is answered before A's
    fin is: each station has its own worker. (Handled one at a time, B's answer
    would come after A's.)"""
    out = tmp_path / "central"
    central = Connection(broker.url, "central-1", clean_start=True)
    receiver = Receiver(central, out)
    central.start()
    assert central.ready.wait(10)
    order: list[str] = []
    watcher = Connection(broker.url, "watcher", clean_start=True)
    for station_id in ("st-a", "st-b"):
        watcher.subscribe(
            topics.file_response(station_id),
            lambda t, p: order.append(_label(json.loads(p)["topic"])),
        )
    watcher.start()
    assert watcher.ready.wait(10)
    a, b = _raw(broker, "st-a"), _raw(broker, "st-b")
    files_a, files_b = topics.FileTopics("st-a"), topics.FileTopics("st-b")
    block = os.urandom(16 * MIB)
    whole = hashlib.sha256(block * 6).hexdigest()
    try:
        init = _init(6 * len(block), "big")
        a.publish(files_a.init("big"), init, qos=1).wait_for_publish(10)
        for k in range(6):
            topic = files_a.segment("big", k * len(block), hashlib.sha256(block).hexdigest())
            a.publish(topic, block, qos=1).wait_for_publish(30)
        until(lambda: len(order) == 7, timeout=60)
        a.publish(files_a.fin("big", 6 * len(block), whole), b"", qos=1).wait_for_publish(10)
        b.publish(files_b.init("small"), _init(10, "small"), qos=1).wait_for_publish(10)
        until(lambda: len(order) == 9, timeout=60)
        assert order[7:] == ["st-b:init", "st-a:fin"], order
        assert any(out.glob("st-a/*/*/big.pdf"))
    finally:
        for client in (a, b):
            client.loop_stop()
            client.disconnect()
        watcher.stop()
        central.stop()
        receiver.stop()


# ---------------------------------------------------------------------- flood


def _receiver_process(url: str, out: Path, *limits: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "station", "receiver", "--broker", url, "--out", str(out),
         "--client-id", "central-flood", *limits],
        cwd=ROOT,
        env=dict(os.environ),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )  # fmt: skip


def _flood(broker: Mosquitto, rounds: int, stop: threading.Event, sent: list[int]) -> None:
    """Station A at its worst: ``init`` and two 16 MiB segments for each of 40
    file ids, never a ``fin``, ``rounds`` times, as fast as a station's link
    carries it (FLOOD_RATE); bounded by ``stop`` and 120 s. ``sent[0]`` counts
    the bytes sent."""
    client = _raw(broker, "st-a-flood")
    block = os.urandom(16 * MIB)
    sha = hashlib.sha256(block).hexdigest()
    topics_a = topics.FileTopics("st-a")
    start = time.monotonic()
    try:
        for _ in range(rounds):
            for n in range(FLOOD_FILES):
                if stop.is_set() or time.monotonic() - start > 120:
                    return
                client.publish(topics_a.init(f"flood{n}"), _init(2 * len(block), f"x-{n}"), qos=1)
                for k in range(2):
                    offset = k * len(block)
                    info = client.publish(topics_a.segment(f"flood{n}", offset, sha), block, 1)
                    info.wait_for_publish(30)
                    sent[0] += len(block)
                    # no faster than the link: sleep off what the line would take
                    time.sleep(max(0.0, start + sent[0] / FLOOD_RATE - time.monotonic()))
    finally:
        client.loop_stop()
        client.disconnect()


@pytest.mark.slow
def test_a_flooding_station_does_not_delay_another(
    limited_broker: Mosquitto, tmp_path: Path
) -> None:
    """Station A sends init and 16 MiB segments for 40 file ids and never fin
    (1.3 GB). Meanwhile station B's documents arrive within FLOOD_DELIVERY_S;
    A's bytes on disk never pass its limit; A's idle transfers are removed;
    the broker's memory stays bounded."""
    out = tmp_path / "central"
    idle_s = 15.0
    receiver = _receiver_process(
        limited_broker.url, out, "--max-files", "4", "--max-mib", "64",
        "--idle-minutes", str(idle_s / 60),
    )  # fmt: skip
    station_b = Station(tmp_path / "b", limited_broker.url, "st-b")
    sums = {f"b-{k}": station_b.queue(tmp_path, f"b-{k}", 2 * MIB) for k in range(3)}
    stop = threading.Event()
    sent = [0]
    flooder = threading.Thread(target=_flood, args=(limited_broker, 2, stop, sent))
    peak = {"disk": 0, "rss": 0}
    try:
        until(lambda: (out / ".transfer").is_dir(), timeout=15)
        time.sleep(1.0)  # subscribed
        flooder.start()
        # B starts once A sent its 40 file ids (1.3 GB): A's share is full
        until(lambda: sent[0] >= FLOOD_FILES * 2 * 16 * MIB, timeout=60)
        started = time.monotonic()
        station_b.start()
        while station_b.received() < len(sums) and time.monotonic() - started < 120:
            assert limited_broker.proc is not None
            peak["disk"] = max(peak["disk"], _on_disk(out / ".transfer" / "st-a"))
            peak["rss"] = max(peak["rss"], _rss(limited_broker.proc.pid))
            time.sleep(0.05)
        took = time.monotonic() - started
        flooding = flooder.is_alive()
        stop.set()
        print(f"B delivered in {took:.1f} s during the flood; mosquitto peak {peak['rss']} B")
        states = [i.state for i in station_b.store.outbox.items(("queued", "sent", "announced"))]
        assert station_b.received() == len(sums), states
        assert took < FLOOD_DELIVERY_S, f"station B took {took:.1f} s"
        assert flooding, "the flood ended before B was done: it proves nothing"
        for doc_id, digest in sums.items():
            final = out / "st-b" / "2026" / "11" / f"{doc_id}.pdf"
            assert hashlib.sha256(final.read_bytes()).hexdigest() == digest
        flooder.join(60)
        assert peak["disk"] <= 64 * MIB, f"A held {peak['disk']} bytes"
        assert peak["rss"] < 512 * MIB, f"mosquitto grew to {peak['rss']} bytes"
        # no fin ever came: A's transfers are removed once idle
        until(lambda: not any((out / ".transfer" / "st-a").iterdir()), timeout=idle_s + 30)
    finally:
        stop.set()
        flooder.join(60)
        station_b.close()
        receiver.terminate()
        _, stderr = receiver.communicate(timeout=30)
    assert receiver.returncode == 0, stderr
