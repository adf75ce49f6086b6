"""The fleet dashboard at scale: 1,000 stations on a real mosquitto.

A real mosquitto on a free loopback port and ``scanstation fleet`` (the
collector and its dashboard) in its own process; in this process, 1,000
simulated stations, each its own MQTT session (client id, last will ``lost``),
publishing what a station publishes: its retained ``state``, a ``health``
report every interval (a :class:`station.wire.payloads.Health`, figures
wandering as a working station's do) and now and then an ``event`` (a jam, a
delivery status, a stopped secret document). Then, while they go on:

- the collector's CPU (utime + stime of its process over a window, as a
  share of one core) and memory (VmRSS, VmHWM), and the messages it dropped
  (must be none);
- the dashboard's pages as a browser asks for them (median and worst of
  several): the stations page with all 1,000, filtered, grouped and sorted;
  its live update (``POST /api/board``) when the page has every row and when
  it has none; a station page with its trends; the statistics; /metrics;
- the trends' size (docs/benchmarks.md): one station's year of reports
  through :class:`station.central.history.History` with a clock the benchmark
  turns (a report every 15 minutes for the year, every minute for the last two
  days: what the tiers hold after a year of a report a minute), its bytes on
  disk, and the same rows copied for 500 stations with the time to read a
  station's year and 48 hours.

    .venv/bin/python -m bench.fleet [--stations 1000] [--interval 60]
        [--window 120] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import selectors
import signal
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import percentile, write  # noqa: E402
from station.central.fleetdb import FleetDB  # noqa: E402
from station.central.history import SPANS, History  # noqa: E402
from station.wire import payloads  # noqa: E402
from tests.helpers.broker import Mosquitto, free_port  # noqa: E402

UNITS = ["Viện kiểm sát nhân dân tỉnh Thanh Hóa"] + [
    f"Viện kiểm sát nhân dân khu vực {n}" for n in range(1, 40)
]
TICK = os.sysconf("SC_CLK_TCK")


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class Station:
    """One simulated station: its figures, and what it publishes."""

    def __init__(self, number: int, rng: random.Random) -> None:
        self.id = f"vks-{number:04d}"
        self.unit = UNITS[number % len(UNITS)]
        self.rng = rng
        self.boot = 1 + number % 5
        self.started = time.time()
        self.queue = rng.randrange(0, 6)
        self.pages = rng.randrange(10_000, 400_000)
        self.sheets = rng.randrange(0, 190_000)
        self.free = rng.randrange(20, 60) * 10**9
        self.temp = rng.uniform(42, 60)
        self.events = 0
        self.month = {"documents": rng.randrange(50, 900)}
        self.month["pages"] = self.month["documents"] * rng.randrange(2, 6)

    def state(self, state: str = "online") -> bytes:
        body = {"state": state, "boot": self.boot, "version": "0.1.0",
                "since": _iso(datetime.fromtimestamp(self.started, UTC))}  # fmt: skip
        return json.dumps(body).encode()

    def health(self) -> bytes:
        rng = self.rng
        scanned = rng.choice((0, 0, 0, 2, 6, 14))
        self.pages += scanned
        self.sheets += scanned // 2
        self.queue = max(0, self.queue + rng.choice((-1, 0, 0, 1)))
        # the store fills the disk; retention frees it again
        self.free = self.free - scanned * 400_000 if self.free > 8 * 10**9 else 40 * 10**9
        self.temp = min(80.0, max(35.0, self.temp + rng.uniform(-0.8, 0.8)))
        self.month["documents"] += scanned // 3
        self.month["pages"] += scanned
        now = datetime.now(UTC)
        body = payloads.Health.model_validate({
            "station_id": self.id, "unit": self.unit, "version": "0.1.0", "boot": self.boot,
            "ts": _iso(now), "uptime_s": int(time.time() - self.started), "interval_s": 60,
            "broker_connected": True,
            "queue": {"depth": self.queue, "to_send": self.queue // 2, "held": 0,
                      "awaiting_receipt": self.queue - self.queue // 2,
                      "oldest_pending_s": 40.0 * self.queue if self.queue else None,
                      "oldest_unsent_s": None, "rejected": 0},
            "disk": {"free_bytes": self.free, "total_bytes": 64 * 10**9,
                     "free_percent": round(100 * self.free / (64 * 10**9), 1),
                     "floor_bytes": 500 * 2**20},
            "cpu_temp_c": round(self.temp, 1),
            "memory": {"rss_bytes": 120 * 2**20, "available_bytes": 3 * 2**30,
                       "total_bytes": 4 * 2**30},
            "scanner": {"model": "fi-7160", "device": "fujitsu:fi-7160:1", "status": "ready",
                        "status_text": {"vi": "sẵn sàng", "en": "ready"}},
            "counters": {"pages_total": self.pages, "pages_since_roller": self.sheets * 2,
                         "sheets_total": self.pages // 2, "sheets_since_roller": self.sheets,
                         "roller_limit": 200_000},
            "digitized": {now.strftime("%Y-%m"): dict(self.month)},
            "signing": {"enabled": True, "held": 0, "ok": True},
            "last_error": None,
        }, strict=True)  # fmt: skip
        return body.model_dump_json().encode()

    def event(self) -> bytes:
        self.events += 1
        kind, severity, vi, en, detail = self.rng.choice([
            ("scanner.jam", "error", "Kẹt giấy", "Paper jam", {"pages": 3}),
            ("delivery.status", "info", "Đã nhận", "Received", {"status": "01"}),
            ("delivery.status", "info", "Đã vào sổ", "Registered", {"status": "03"}),
            ("secret.detected", "warning", "Văn bản mật (Mật) đã dừng và xoá khỏi trạm",
             "A secret document (Mật) was stopped and erased", {"level": "Mật"}),
        ])  # fmt: skip
        body = {"id": self.events, "type": kind, "severity": severity,
                "ts": _iso(datetime.now(UTC)), "message": {"vi": vi, "en": en},
                "detail": detail}  # fmt: skip
        return json.dumps(body, ensure_ascii=False).encode()


class Simulation:
    """Every station's MQTT session, driven from one thread with a selector."""

    def __init__(self, port: int, count: int, interval: float, seed: int = 7) -> None:
        rng = random.Random(seed)
        self.interval = interval
        self.selector = selectors.DefaultSelector()
        self.clients: list[tuple[Station, paho.Client]] = []
        self.published = {"state": 0, "health": 0, "event": 0}
        for number in range(count):
            station = Station(number, random.Random(rng.random()))
            client = paho.Client(
                CallbackAPIVersion.VERSION2, client_id=station.id, protocol=paho.MQTTv5
            )
            client.will_set(
                f"scanstation/v1/{station.id}/state", station.state("lost"), qos=1, retain=True
            )
            client.connect("127.0.0.1", port, keepalive=60)
            sock = client.socket()
            assert sock is not None
            self.selector.register(sock, selectors.EVENT_READ, client)
            self.clients.append((station, client))
        # each station's first report at its own moment within an interval
        self.due = [time.monotonic() + interval * i / count for i in range(count)]
        self.next_misc = time.monotonic()

    def publish(self, station: Station, client: paho.Client, kind: str, body: bytes) -> None:
        client.publish(
            f"scanstation/v1/{station.id}/{kind}", body, qos=0 if kind == "health" else 1,
            retain=kind == "state",
        )  # fmt: skip
        self.published[kind] += 1

    def start(self) -> None:
        self.pump(2.0)
        for station, client in self.clients:
            self.publish(station, client, "state", station.state())
        self.pump(1.0)

    def pump(self, seconds: float) -> None:
        """Run the sessions for ``seconds``: reports when due, keep-alives, acks."""
        end = time.monotonic() + seconds
        while (now := time.monotonic()) < end:
            for key, _ in self.selector.select(timeout=0.05):
                key.data.loop_read()
            for i, (station, client) in enumerate(self.clients):
                if self.due[i] <= now:
                    self.due[i] += self.interval
                    self.publish(station, client, "health", station.health())
                    if station.rng.random() < 0.02:
                        self.publish(station, client, "event", station.event())
                if client.want_write():
                    client.loop_write()
            if now >= self.next_misc:
                self.next_misc = now + 1.0
                for _, client in self.clients:
                    client.loop_misc()

    def stop(self) -> None:
        for _, client in self.clients:
            client.disconnect()
            client.loop_write()


def _cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def _memory_mb(pid: int) -> dict[str, float]:
    found = {}
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            found[key] = round(int(value.split()[0]) / 1024, 1)
    return found


def _get(url: str, body: bytes | None = None, headers: dict[str, str] | None = None) -> bytes:
    assert url.startswith("http://127.0.0.1:")
    request = urllib.request.Request(url, data=body, headers=headers or {})  # noqa: S310
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
        data: bytes = response.read()
    return data


def _timed(call: Any, times: int = 5) -> dict[str, Any]:
    seconds, size = [], 0
    for _ in range(times):
        start = time.perf_counter()
        size = len(call())
        seconds.append(time.perf_counter() - start)
    return {"median_s": round(statistics.median(seconds), 3), "max_s": round(max(seconds), 3),
            "kib": round(size / 1024, 1)}  # fmt: skip


def pages(base: str, station: str) -> dict[str, Any]:
    """Each page as the browser asks for it, while the stations go on reporting."""
    with urllib.request.urlopen(f"{base}/", timeout=60) as response:  # noqa: S310
        cookie = response.headers.get("Set-Cookie", "").split(";", 1)[0]
        home = response.read().decode()
    token = re.search(r'data-csrf="([^"]+)"', home)
    assert token is not None
    rows = len(re.findall(r'<tr data-sig="', home))
    signed = re.findall(r'<tr data-sig="([0-9a-f]+)" data-station="([^"]+)"', home)
    have = {station: sig for sig, station in signed}
    headers = {"Content-Type": "application/json", "X-CSRF-Token": token.group(1),
               "Cookie": cookie}  # fmt: skip

    def board(known: dict[str, str]) -> Any:
        return lambda: _get(f"{base}/api/board", json.dumps({"have": known}).encode(), headers)

    found = {
        "stations_page_rows": rows,
        "stations_page": _timed(lambda: _get(f"{base}/")),
        "stations_need_action": _timed(lambda: _get(f"{base}/?show=attention")),
        "stations_by_unit_by_queue": _timed(
            lambda: _get(f"{base}/?group=unit&sort=queue&dir=desc")
        ),
        "stations_search": _timed(lambda: _get(f"{base}/?q=khu+v%E1%BB%B1c+7")),
        "live_update_page_has_all": _timed(board(have)),
        "live_update_page_has_none": _timed(board({}), 3),
        "station_page_48h": _timed(lambda: _get(f"{base}/station/{station}")),
        "station_page_1y": _timed(lambda: _get(f"{base}/station/{station}?range=1y")),
        "statistics": _timed(lambda: _get(f"{base}/stats")),
        "metrics": _timed(lambda: _get(f"{base}/metrics"), 3),
    }
    answer = json.loads(board(have)())
    found["live_update_rows_changed"] = len(answer["html"])
    return found


def live(count: int, interval: float, window: float) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-fleet-") as tmp:
        folder = Path(tmp)
        broker = Mosquitto(folder, extra="max_queued_messages 100000\n")
        broker.start()
        web_port = free_port()
        collector = subprocess.Popen(
            [sys.executable, "-m", "station", "fleet", "--broker", broker.url,
             "--client-id", "bench-fleet", "--data-dir", str(folder / "fleet"),
             "--listen", f"127.0.0.1:{web_port}"],
            cwd=ROOT, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        base = f"http://127.0.0.1:{web_port}"
        simulation: Simulation | None = None
        try:
            deadline = time.monotonic() + 30
            while True:
                try:
                    _get(f"{base}/metrics")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
            start = time.perf_counter()
            simulation = Simulation(broker.port, count, interval)
            connect_s = time.perf_counter() - start
            simulation.start()
            # every station heard with a report
            reported_at = None
            while reported_at is None:
                simulation.pump(1.0)
                stations = json.loads(_get(f"{base}/api/stations"))
                if sum(1 for s in stations if s["health"]) >= count:
                    reported_at = time.perf_counter() - start
                if time.perf_counter() - start > 10 * interval + 120:
                    raise TimeoutError("not every station reported")
            # steady state: the collector's CPU over a window
            cpu0, wall0 = _cpu_s(collector.pid), time.perf_counter()
            sent0 = dict(simulation.published)
            simulation.pump(window)
            cpu1, wall1 = _cpu_s(collector.pid), time.perf_counter()
            handled = {k: simulation.published[k] - sent0[k] for k in sent0}
            steady = {
                "window_s": round(wall1 - wall0, 1),
                "messages_per_s": round(sum(handled.values()) / (wall1 - wall0), 1),
                "cpu_share_of_one_core": round((cpu1 - cpu0) / (wall1 - wall0), 3),
                **_memory_mb(collector.pid),
            }
            # the pages, while the stations go on (pumped between requests by a timer)
            measured = _pages_while_pumping(simulation, base)
            metrics = _get(f"{base}/metrics").decode()
            dropped = sum(
                float(line.rsplit(" ", 1)[1])
                for line in metrics.splitlines()
                if line.startswith("scanstation_fleet_payloads_rejected_total{")
            )
            history = _history_rows(folder / "fleet" / "fleet.sqlite3")
            return {
                "stations": count,
                "interval_s": interval,
                "connect_s": round(connect_s, 1),
                "all_reported_s": round(reported_at, 1),
                "published": simulation.published,
                "dropped_by_the_collector": dropped,
                "collector": steady,
                "collector_after_pages": _memory_mb(collector.pid),
                "pages": measured,
                "history_rows": history,
            }
        finally:
            if simulation is not None:
                simulation.stop()
            collector.send_signal(signal.SIGTERM)
            collector.wait(timeout=60)
            broker.stop()


def _pages_while_pumping(simulation: Simulation, base: str) -> dict[str, Any]:
    """The pages measured in a thread while this one keeps the stations reporting."""
    import threading

    result: dict[str, Any] = {}
    station = simulation.clients[len(simulation.clients) // 2][0].id

    def run() -> None:
        result.update(pages(base, station))

    worker = threading.Thread(target=run, name="bench-pages")
    worker.start()
    while worker.is_alive():
        simulation.pump(0.5)
    return result


def _history_rows(path: Path) -> dict[str, int]:
    db = sqlite3.connect(path)
    try:
        rows = db.execute("SELECT tier, count(*) FROM series GROUP BY tier").fetchall()
    finally:
        db.close()
    return {f"tier{tier}": n for tier, n in rows}


def history_size(folder: Path, copies: int = 500) -> dict[str, Any]:
    """One station's year, its bytes on disk; the same for ``copies`` stations."""
    db = FleetDB(folder)
    history = History(db)
    start = datetime(2025, 12, 1, tzinfo=UTC)
    rng = random.Random(3)
    station = Station(1, rng)
    reports = 0
    began = time.perf_counter()
    for k in range(365 * 96):
        history.add("vks-0001", start + timedelta(minutes=15 * k), json.loads(station.health()))
        reports += 1
    tail = start + timedelta(days=365)
    for k in range(2 * 1440):
        history.add("vks-0001", tail + timedelta(minutes=k), json.loads(station.health()))
        reports += 1
    now = tail + timedelta(days=2)
    history.compact(now)
    add_ms = (time.perf_counter() - began) / reports * 1000
    one = history.size()
    # the same rows for many stations: the file a province's year makes
    with db._tx() as conn:
        for n in range(2, copies + 1):
            conn.execute("INSERT INTO series_stations (station_id) VALUES (?)", (f"vks-{n:04d}",))
        conn.execute(
            "INSERT INTO series SELECT k.key, x.tier, x.t, x.n, x.queue_sum, x.pending_sum,"
            " x.disk_sum, x.disk_n, x.temp_sum, x.temp_n, x.pages_max"
            " FROM series_stations k JOIN series x ON x.station = 1 WHERE k.key > 1"
        )
    with db._lock:
        db._db.execute("VACUUM")
    many = history.size()
    reads = {}
    for key in ("2d", "7d", "30d", "1y"):
        seconds = []
        for n in (7, 123, 250, 499):
            began = time.perf_counter()
            points = history.series(f"vks-{n:04d}", SPANS[key], now)
            seconds.append(time.perf_counter() - began)
        reads[key] = {"points": len(points), "p95_ms": round(percentile(seconds, 95) * 1000, 2)}
    compact_began = time.perf_counter()
    history.compact(now + timedelta(minutes=1))
    compact_ms = (time.perf_counter() - compact_began) * 1000
    db.close()
    return {
        "one_station_year": one,
        "bytes_per_station_year": one["series_bytes"],
        "report_add_ms": round(add_ms, 3),
        f"stations_{copies}": {
            **many,
            "file_mb": round((folder / "fleet.sqlite3").stat().st_size / 2**20, 1),
        },
        "series_read": reads,
        f"compact_{copies}_stations_ms": round(compact_ms, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stations", type=int, default=1000)
    parser.add_argument("--interval", type=float, default=60.0, help="s between health reports")
    parser.add_argument("--window", type=float, default=120.0, help="s of steady state measured")
    parser.add_argument("--skip-history", action="store_true")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "fleet.json"))
    args = parser.parse_args()
    figures: dict[str, Any] = {"live": live(args.stations, args.interval, args.window)}
    write("fleet", args.out, figures)  # kept if what follows fails
    if not args.skip_history:
        with tempfile.TemporaryDirectory(prefix="bench-fleet-history-") as tmp:
            figures["history"] = history_size(Path(tmp))
    figures["load_average"] = os.getloadavg()
    write("fleet", args.out, figures)


if __name__ == "__main__":
    main()
