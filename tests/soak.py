"""Soak: many documents through the whole stack while faults strike at random.

    python -m tests.soak --documents 500 --out bench/results/soak.json

What runs, each as on a real desk:

- mosquitto (:class:`station.demo.localbroker.LocalBroker`), restarted on its port;
- ``scanstation receiver`` in its own process, killed and started again;
- ``scanstation run`` in its own process, fed through a hot folder, SIGKILLed
  (a power cut) and started again;
- the fleet side in this process, which sends ``config`` commands;
- a clerk who confirms any batch left under review without a countdown.

Each document is one generated Decree 30 page with its own registration label
(``DEN-2026-NNNNNN``) and number, so every one is clean and different. The
faults: SIGKILL of the station, a broker restart, a receiver SIGKILL, a paper
jam (the virtual scanner's ``.jam`` marker inside a feed) and the disk floor
(``station.min_free_mb`` raised above the free space by a fleet command, then
lowered again).

At the end every document must be in the receiver's folder exactly once, its
SHA-256 equal to what the station recorded and to its local copy, every outbox
entry received, every batch finished, every page stored once, the hot folder
empty. The figures go to a JSON file; ``docs/reliability.md`` keeps them.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import logging
import random
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.demo.localbroker import LocalBroker, free_port
from station.errors import StationError
from station.wire.mqtt import Connection
from tests.soak_parts import confirm, get_json, machine, spread, write_pages

ROOT = Path(__file__).resolve().parents[1]
STATION_ID = "soak-01"
FAULTS = ("station-kill", "broker-restart", "receiver-kill", "jam", "disk-floor")

log = logging.getLogger("soak")


@dataclass
class Figures:
    documents: int = 0
    faults: collections.Counter[str] = field(default_factory=collections.Counter)
    station_starts: int = 0
    clerk_confirmations: int = 0
    fed_at: dict[str, float] = field(default_factory=dict)
    started: float = 0.0


class Soak:
    def __init__(
        self,
        root: Path,
        documents: int,
        *,
        seed: int = 1,
        fault_gap_s: tuple[float, float] = (8.0, 25.0),
        batch_size: tuple[int, int] = (1, 12),
        ahead: int = 30,
        timeout_s: float | None = None,
    ) -> None:
        self.root = root
        self.documents = documents
        self.rng = random.Random(seed)
        self.fault_gap_s = fault_gap_s
        self.batch_size = batch_size
        self.timeout_s = timeout_s or max(900.0, documents * 8.0)
        self.hot = root / "hot"
        self.data = root / "data"
        self.central = root / "central"
        self.logs = root / "logs"
        self.ui_port = free_port()
        self.broker = LocalBroker(self._dir("broker"))
        self.station: subprocess.Popen[bytes] | None = None
        self.receiver: subprocess.Popen[bytes] | None = None
        self.fleet: Fleet | None = None
        self.fleet_conn: Connection | None = None
        self.figures = Figures(documents=documents)
        self.fed_all = threading.Event()
        self.stop = threading.Event()
        self.ahead = ahead
        self.jam_next = threading.Event()
        #: set once everything has arrived: the faults stop
        self.quiet = threading.Event()
        #: every kind of fault has struck once (the last feed waits for it)
        self.each_struck = threading.Event()
        self.lock = threading.Lock()  # one fault at a time against the processes
        self.errors: list[str] = []

    def _dir(self, name: str) -> Path:
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ------------------------------------------------------------------ processes

    def _config(self) -> Path:
        config = self.root / "station.toml"
        config.write_text(
            f'[station]\nid = "{STATION_ID}"\ndata_dir = "{self.data}"\nmin_free_mb = 50\n'
            f'[scanner]\ndevice = "folder:{self.hot}?mode=hot&settle=0.3"\n'
            "[pipeline]\nauto_confirm_seconds = 2\n"
            "[ocr]\njobs = 2\n"
            f'[uplink]\nbroker = "{self.broker.url}"\nretention_hours = 8760\n'
            "[telemetry]\ninterval_s = 15\n"
            f'[ui]\nlisten = "127.0.0.1:{self.ui_port}"\n',
            encoding="utf-8",
        )
        return config

    def _spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        with (self.logs / f"{name}.log").open("ab") as sink:
            return subprocess.Popen(
                [sys.executable, "-m", "station", *args],
                cwd=ROOT, stdout=sink, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def start_station(self) -> None:
        self.station = self._spawn("station", "run", "--config", str(self.root / "station.toml"))
        self.figures.station_starts += 1

    def start_receiver(self) -> None:
        self.receiver = self._spawn(
            "receiver", "receiver", "--broker", self.broker.url, "--out", str(self.central),
            "--client-id", "soak-central",
        )  # fmt: skip

    @staticmethod
    def _kill(proc: subprocess.Popen[bytes] | None) -> None:
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait(30)

    @staticmethod
    def _terminate(proc: subprocess.Popen[bytes] | None) -> int | None:
        if proc is None or proc.poll() is not None:
            return None if proc is None else proc.returncode
        proc.send_signal(signal.SIGTERM)
        return proc.wait(60)

    def start(self) -> None:
        for name in ("hot", "data", "central", "logs"):
            self._dir(name)
        self._config()
        self.broker.start()
        self.fleet_conn = Connection(self.broker.url, "soak-fleet", clean_start=False)
        self.fleet = Fleet(self.fleet_conn, FleetDB(self.root / "fleet.db"))
        self.fleet_conn.start()
        self.start_receiver()
        self.start_station()

    def close(self) -> dict[str, int | None]:
        codes = {"station": self._terminate(self.station)}
        codes["receiver"] = self._terminate(self.receiver)
        if self.fleet_conn is not None:
            self.fleet_conn.stop()
        self.broker.stop()
        return codes

    # ------------------------------------------------------------------ the desk

    def feed(self, pages: list[Path]) -> None:
        """Put the pages into the hot folder a feed at a time, as a scanner would."""
        seq = 0
        queue = list(pages)
        while queue and not self.stop.is_set():
            # a desk scans as it goes: at most `ahead` documents not yet delivered,
            # so capture, reading and delivery all run while the faults strike
            while not self.stop.is_set() and (
                len(self._visible(self.hot)) >= 6
                or len(self.figures.fed_at) - len(self.received()) >= self.ahead
            ):
                time.sleep(0.5)
            count = min(len(queue), self.rng.randint(*self.batch_size))
            if count == len(queue):
                while not self.each_struck.wait(0.5) and not self.stop.is_set():
                    pass
            feed, queue = queue[:count], queue[count:]
            jam_at = self.rng.randint(0, count) if self.jam_next.is_set() else None
            for index, page in enumerate(feed):
                if jam_at == index:
                    self._drop(f"{seq:06d}-jam.jam", b"jam\n")
                    self.jam_next.clear()
                    seq += 1
                self._drop(f"{seq:06d}-{page.name}", page.read_bytes())
                self.figures.fed_at[page.stem] = time.monotonic()
                seq += 1
            if jam_at == count:
                self._drop(f"{seq:06d}-jam.jam", b"jam\n")
                self.jam_next.clear()
                seq += 1
            time.sleep(self.rng.uniform(0.0, 3.0))
        self.fed_all.set()

    def _drop(self, name: str, data: bytes) -> None:
        part = self.hot / f"{name}.part"
        part.write_bytes(data)
        part.replace(self.hot / name)

    @staticmethod
    def _visible(folder: Path) -> list[Path]:
        return [p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")]

    def inject(self) -> None:
        """Faults at random gaps: first each kind once, in a random order, then any."""
        order = list(FAULTS)
        self.rng.shuffle(order)
        while not self.stop.is_set():
            if self.quiet.wait(self.rng.uniform(*self.fault_gap_s)) and not order:
                return
            kind = order.pop(0) if order else self.rng.choice(FAULTS)
            with self.lock:
                log.info("fault: %s", kind)
                self.figures.faults[kind] += 1
                getattr(self, "_" + kind.replace("-", "_"))()
            if not order:
                self.each_struck.set()

    def _station_kill(self) -> None:
        self._kill(self.station)
        time.sleep(self.rng.uniform(0.5, 3.0))
        self.start_station()

    def _broker_restart(self) -> None:
        self.broker.stop()
        time.sleep(self.rng.uniform(1.0, 5.0))
        self.broker.start()

    def _receiver_kill(self) -> None:
        self._kill(self.receiver)
        time.sleep(self.rng.uniform(0.5, 3.0))
        self.start_receiver()

    def _jam(self) -> None:
        self.jam_next.set()

    def _disk_floor(self) -> None:
        self._set_floor(1_000_000)  # MiB: more than any disk here has free
        time.sleep(self.rng.uniform(5.0, 15.0))
        self._set_floor(50)

    def _set_floor(self, mib: int) -> None:
        """A fleet ``config`` command, sent again until the station answers it."""
        assert self.fleet is not None
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            try:
                command = self.fleet.send(STATION_ID, "config", {"station.min_free_mb": mib})
            except StationError as exc:  # the station not yet seen by the fleet
                log.info("config command not sent: %s", exc)
                time.sleep(1)
                continue
            reply = self.fleet.wait_reply(command, 15)
            if reply and reply.get("ok"):
                return
        self.errors.append(f"the station never took min_free_mb = {mib}")

    def clerk(self) -> None:
        """Confirms a batch left under review without a countdown for 20 s."""
        seen: dict[str, float] = {}
        while not self.stop.wait(3.0):
            try:
                waiting = self._review_batches()
            except sqlite3.Error:
                continue
            now = time.monotonic()
            for batch in waiting:
                view = get_json(self._url(f"/api/batch/{batch}"))
                if view is None or view["state"] != "review" or view["countdown"] is not None:
                    seen.pop(batch, None)
                    continue
                if now - seen.setdefault(batch, now) >= 20 and confirm(self._url(""), batch):
                    log.info("clerk confirmed %s", batch)
                    self.figures.clerk_confirmations += 1
                    seen.pop(batch, None)

    def _review_batches(self) -> list[str]:
        rows = self._db("SELECT DISTINCT batch_id FROM review_docs")
        states = {r["id"]: r["state"] for r in self._db("SELECT id, state FROM batches")}
        return [r["batch_id"] for r in rows if states.get(r["batch_id"]) == "review"]

    def _url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.ui_port}{path}"

    # ------------------------------------------------------------------ checking

    def _db(self, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
        path = self.data / "store.sqlite3"
        if not path.exists():
            return []
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=10)
        try:
            db.row_factory = sqlite3.Row
            return db.execute(sql, params).fetchall()
        finally:
            db.close()

    def received(self) -> list[Path]:
        return sorted((self.central / STATION_ID).glob("*/*/*.pdf"))

    def finished(self) -> bool:
        if not self.fed_all.is_set() or self._visible(self.hot):
            return False
        try:
            open_items = self._db("SELECT count(*) AS n FROM outbox WHERE state != 'received'")
            busy = self._db(
                "SELECT count(*) AS n FROM batches WHERE state NOT IN ('done', 'cancelled')"
            )
        except sqlite3.Error:
            return False
        return (
            len(self.received()) >= self.documents
            and bool(open_items) and open_items[0]["n"] == 0
            and bool(busy) and busy[0]["n"] == 0
        )  # fmt: skip

    def run(self, pages: list[Path]) -> dict[str, Any]:
        self.figures.started = time.monotonic()
        self.start()
        threads = [
            threading.Thread(target=self.feed, args=(pages,), name="feed", daemon=True),
            threading.Thread(target=self.inject, name="faults", daemon=True),
            threading.Thread(target=self.clerk, name="clerk", daemon=True),
        ]
        for thread in threads:
            thread.start()
        deadline = self.figures.started + self.timeout_s
        done = False
        try:
            while time.monotonic() < deadline:
                with self.lock:
                    settled = self.finished()
                if settled and not self.quiet.is_set():
                    # everything arrived: no more faults; the last one may have
                    # left work to pick up, so look again once they have stopped
                    self.quiet.set()
                    threads[1].join(300)
                    continue
                if settled and not threads[1].is_alive():
                    done = True
                    break
                time.sleep(1.0)
        finally:
            elapsed = time.monotonic() - self.figures.started
            self.stop.set()
            for thread in threads:
                thread.join(120)
            codes = self.close()
        report = self.check(pages)
        report.update(
            finished=done,
            elapsed_s=round(elapsed, 1),
            exit_codes=codes,
            documents_per_min=round(self.documents / elapsed * 60, 1),
        )
        if not done:
            report["problems"].insert(0, f"not finished within {self.timeout_s:.0f} s")
        if codes["station"] not in (0, None) or codes["receiver"] not in (0, None):
            report["problems"].append(f"a process did not stop cleanly: {codes}")
        return report

    def check(self, pages: list[Path]) -> dict[str, Any]:
        problems = list(self.errors)
        expected = {p.stem for p in pages}
        outbox = {r["doc_id"]: r for r in self._db("SELECT * FROM outbox")}
        by_reg: dict[str, list[str]] = collections.defaultdict(list)
        latencies = []
        for pdf in self.received():
            info = json.loads(pdf.with_suffix(".json").read_text(encoding="utf-8"))
            reg, doc_id = info.get("Registration"), pdf.stem
            by_reg[str(reg)].append(doc_id)
            digest = hashlib.sha256(pdf.read_bytes()).hexdigest()
            item = outbox.get(doc_id)
            if item is None:
                problems.append(f"{doc_id} ({reg}) received but not in the station's outbox")
                continue
            if not digest == info.get("sha256") == item["sha256"]:
                problems.append(f"{doc_id} ({reg}): SHA-256 differs from the station's")
            local = self.data / item["path"] if not Path(item["path"]).is_absolute() else None
            local = local or Path(item["path"])
            if local.exists() and hashlib.sha256(local.read_bytes()).hexdigest() != digest:
                problems.append(f"{doc_id} ({reg}): differs from the station's local copy")
            if item["received_at"] and str(reg) in self.figures.fed_at:
                received = datetime.fromisoformat(item["received_at"]).timestamp()
                fed_wall = time.time() - (time.monotonic() - self.figures.fed_at[str(reg)])
                latencies.append(received - fed_wall)
        missing = sorted(expected - set(by_reg))
        twice = {reg: ids for reg, ids in by_reg.items() if len(ids) > 1}
        extra = sorted(set(by_reg) - expected)
        if missing:
            problems.append(f"{len(missing)} documents never arrived: {missing[:10]}")
        if twice:
            problems.append(f"{len(twice)} documents arrived more than once: {list(twice)[:10]}")
        if extra:
            problems.append(f"unexpected documents arrived: {extra[:10]}")
        states = collections.Counter(r["state"] for r in outbox.values())
        if set(states) - {"received"}:
            problems.append(f"outbox not all received: {dict(states)}")
        batches = collections.Counter(r["state"] for r in self._db("SELECT state FROM batches"))
        if set(batches) - {"done", "cancelled"}:
            problems.append(f"batches not finished: {dict(batches)}")
        sources = self._db(
            "SELECT source, frame, count(*) AS n FROM pages GROUP BY source, frame HAVING n > 1"
        )
        if sources:
            problems.append(f"{len(sources)} frames stored more than once")
        stored = self._db("SELECT count(*) AS n FROM pages")[0]["n"]
        if stored != self.documents:
            problems.append(f"{stored} pages stored for {self.documents} fed")
        left = [p.name for p in self._visible(self.hot)]
        rejected = self.hot / ".rejected"
        if left or (rejected.exists() and any(rejected.iterdir())):
            problems.append(f"left in the hot folder: {left}, rejected: {rejected.exists()}")
        events = collections.Counter(r["type"] for r in self._db("SELECT type FROM events"))
        attempts = sum(r["attempts"] for r in outbox.values())
        unpublished = self._db("SELECT count(*) AS n FROM events WHERE published = 0")[0]["n"]
        return {
            "ok": not problems,
            "problems": problems,
            "documents": self.documents,
            "received": sum(len(v) for v in by_reg.values()),
            "faults": dict(self.figures.faults),
            "station_starts": self.figures.station_starts,
            "clerk_confirmations": self.figures.clerk_confirmations,
            "batches": dict(batches),
            "outbox": dict(states),
            # transfers started over with a new file id (the receiver lost the segments)
            "transfers_restarted": attempts,
            "events": dict(events),
            "events_unpublished": unpublished,
            "latency_s": spread(latencies),
        }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m tests.soak", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--documents", type=int, default=500)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=Path("/tmp/scanstation-soak"))
    parser.add_argument(
        "--fault-gap",
        type=float,
        nargs=2,
        default=(8.0, 25.0),
        metavar=("MIN", "MAX"),
        help="seconds between faults, drawn between MIN and MAX",
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    run_dir = args.work / datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    pages = write_pages(args.work / "pages", args.documents)
    soak = Soak(run_dir, args.documents, seed=args.seed, fault_gap_s=tuple(args.fault_gap))
    report = soak.run(pages)
    report.update(
        date=datetime.now(UTC).date().isoformat(),
        machine=machine(),
        work=str(run_dir),
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    print(json.dumps(report, ensure_ascii=False, indent=2))
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
