"""A really full disk and loops that fail, with the real parts: the station's
data folder on a small tmpfs of its own, a real mosquitto, the receiver, the
hot folder and the station's web app.

- the disk fills up while documents arrive: capture stops cleanly (its thread
  lives), the clerk reads "Hết dung lượng lưu trữ…" on the screen and in
  ``/api/status``, and when space is freed capture goes on by itself: every
  document arrives exactly once, no batch is left half way;
- the store's writes on a full disk raise the typed ``StorageFull``, and leave
  no transaction open;
- telemetry lives through a full disk;
- a loop that raises is logged, reported as ``thread.failed`` and run again
  after a pause, while the station's other threads go on.
"""

from __future__ import annotations

import contextlib
import errno
import itertools
import json
import logging
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from station.appliance.station import Station
from station.central.receiver import Receiver
from station.common.supervisor import EVENT, Supervised, reporter
from station.config import Config
from station.config.remote import Settings
from station.errors import DiskFull, StationError, StorageFull
from station.store import Store
from station.ui import Services, WebSettings, create_app
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto
from tests.helpers.tmpfs import tmpfs
from tests.helpers.wait import until
from tests.soak_parts import registration, write_pages

STATION_ID = "st-full"


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A tmpfs of its own, 48 MB."""
    with tmpfs(tmp_path / "disk", "48m") as where:
        yield where


def fill(disk: Path) -> Path:
    """Fill the file system to the last byte, as another program could."""
    filler = disk / "filler.bin"
    with filler.open("wb", buffering=0) as out:
        for block in (1 << 20, 1 << 12, 1):
            chunk = b"\0" * block
            with contextlib.suppress(OSError):
                while True:
                    out.write(chunk)
    return filler


def _sent(station: Station, out: Path, count: int) -> Callable[[], bool]:
    """Whether ``count`` documents arrived; meanwhile the clerk answers "Vẫn gửi?"
    for a batch that asks (a field the reader left empty) instead of waiting
    for a countdown that will not come."""

    def check() -> bool:
        for row in station.store.query("SELECT DISTINCT batch_id FROM review_docs"):
            # a batch not under review (being read, confirmed, or the disk full): later
            if station.findings(row["batch_id"]):
                with contextlib.suppress(StationError):
                    station.confirm(row["batch_id"], despite=True)
        return len(_received(out)) >= count

    return check


def _until(check: Callable[[], Any], timeout: float = 180.0) -> Any:
    return until(check, timeout, 0.2)


def _received(out: Path) -> list[str]:
    """The registration labels of the documents the receiver filed."""
    labels = []
    for sidecar in sorted((out / STATION_ID).glob("*/*/*.json")):
        labels.append(json.loads(sidecar.read_text(encoding="utf-8"))["Registration"])
    return labels


def _drop(hot: Path, pages: list[Path]) -> None:
    for page in pages:
        part = hot / f".{page.name}.part"
        shutil.copy(page, part)
        part.replace(hot / page.name)


@pytest.mark.slow
def test_a_full_disk_stops_capture_cleanly_and_it_goes_on_when_space_returns(
    small_disk: Path, tmp_path: Path, broker: Mosquitto
) -> None:
    # ten one-page documents: three before the disk fills, seven while it is full
    pages = write_pages(tmp_path / "pages", 10)
    hot = tmp_path / "hot"
    hot.mkdir()
    out = tmp_path / "central"
    config = Config.model_validate(
        {
            "station": {"id": STATION_ID, "data_dir": str(small_disk / "data")},
            "scanner": {"device": f"folder:{hot}?mode=hot&settle=0.2"},
            "pipeline": {"auto_confirm_seconds": 1},
            "uplink": {"broker": broker.url, "segment_size": 65536},
            "ocr": {"jobs": 1},
            "telemetry": {"interval_s": 5},
        }
    )
    central = Connection(broker.url, "central-full", clean_start=True)
    Receiver(central, out)
    central.start()
    # no free-space floor: the disk itself fills up (the floor is another test)
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store)
    web = WebSettings(data_dir=tmp_path / "web")
    client = create_app(web, Services(station=station)).test_client()
    station.start()
    filler: Path | None = None
    try:
        _drop(hot, pages[:3])
        _until(_sent(station, out, 3))
        # every later write needs new room: the write-ahead log starts empty
        store.query("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = fill(small_disk)
        _drop(hot, pages[3:])

        # capture stops cleanly and the clerk is told, Vietnamese first
        status = _until(
            lambda: (s := client.get("/api/status").get_json())["storage"]["full"] and s
        )
        assert status["storage"]["code"] == "storage.full"
        assert status["storage"]["message"]["vi"].startswith("Hết dung lượng lưu trữ")
        assert status["storage"]["message"]["en"].startswith("Storage is full")
        assert status["storage"]["error"].index("Hết dung lượng") < status["storage"][
            "error"
        ].index("Storage is full")
        html = client.get("/").get_data(as_text=True)
        assert 'id="storage-full"' in html
        assert html.index("Hết dung lượng lưu trữ") < html.index("Storage is full")
        assert station.capture.is_alive() and station.alive()
        with pytest.raises(DiskFull):
            station.scan()
        time.sleep(3)  # still full: the loops wait, nothing dies
        assert station.alive() and client.get("/api/status").get_json()["storage"]["full"]
        assert all(t.failures == 0 for t in [station.capture, station.processor])

        # space comes back: capture goes on by itself, nothing lost, nothing twice
        filler.unlink()
        filler = None
        _until(_sent(station, out, 10))
        _until(lambda: not client.get("/api/status").get_json()["storage"]["full"])
        _until(lambda: not [p for p in hot.iterdir() if p.is_file()])
        received = Counter(_received(out))
        assert received == Counter(registration(n) for n in range(1, 11))
        _until(lambda: {b.state for b in store.batches()} <= {"done", "cancelled"})
        sources = store.query(
            "SELECT source, frame, count(*) AS n FROM pages GROUP BY source, frame HAVING n > 1"
        )
        assert not sources
        assert store.query("SELECT count(*) AS n FROM pages")[0]["n"] == 10
        full = [
            e.detail["active"] for e in store.events.since(limit=1000) if e.type == "storage.full"
        ]
        assert full == [True, False]
        assert station.alive()
        assert not [e for e in store.events.since(limit=1000) if e.type == EVENT]
    finally:
        if filler is not None:
            filler.unlink()
        station.stop()
        store.close()
        central.stop()


def test_the_store_says_storage_full_and_stays_usable(small_disk: Path) -> None:
    """SQLite's "database or disk is full" and the spool's ENOSPC are one typed
    error; a failed write leaves no transaction open and no half page."""
    with Store(small_disk / "data") as store:
        batch = store.create_batch("folder:x", "standard", "test")
        store.query("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = fill(small_disk)
        try:
            with pytest.raises(StorageFull) as info:
                store.events.add("x.test", "info", "thử", "test", {"pad": "x" * 200_000})
            assert info.value.code == "storage.full"
            assert "Hết dung lượng lưu trữ" in info.value.message_vi
            with pytest.raises(StorageFull):
                store.add_page(
                    batch.id, b"\xff" * 300_000, ext="jpg", input_name="a.jpg", frame=0,
                    side="front", width=10, height=10, dpi=200,
                )  # fmt: skip
            with pytest.raises(StorageFull):
                store.create_batch("folder:x", "standard", "test")
            assert not list((store.spool / batch.id).iterdir())
        finally:
            filler.unlink()
        # room again: the same store writes at once (no transaction was left open)
        store.events.add("x.test", "info", "thử", "test")
        page = store.add_page(
            batch.id, b"\xff" * 1000, ext="jpg", input_name="a.jpg", frame=0,
            side="front", width=10, height=10, dpi=200,
        )  # fmt: skip
        assert [p.id for p in store.pages(batch.id)] == [page.id]
        assert [b.id for b in store.batches()] == [batch.id]


def test_telemetry_lives_through_a_full_disk(small_disk: Path, broker: Mosquitto) -> None:
    """A condition event that cannot be written does not end telemetry: it is
    written at a later round, once there is room."""
    from station.appliance.stats import Stats
    from station.uplink.telemetry import Telemetry

    config = Config.model_validate(
        {
            "station": {"id": "st-tele", "data_dir": str(small_disk / "data")},
            "uplink": {"broker": broker.url},
            "telemetry": {"interval_s": 5},
        }
    )
    settings = Settings(config)
    seen: list[DiskFull] = []
    with Store(config.station.data_dir) as store:
        conn = Connection(broker.url, "st-tele")
        telemetry = Telemetry(conn, store, Stats(store, settings))
        telemetry.on_disk_full = seen.append
        stop = threading.Event()
        thread = Supervised("telemetry", lambda: telemetry.run(stop), stop)
        store.query("PRAGMA wal_checkpoint(TRUNCATE)")
        filler = fill(small_disk)  # 0 % free: disk.low starts, and cannot be written
        try:
            thread.start()
            _until(lambda: seen, 30)
            assert thread.is_alive() and thread.failures == 0
            assert isinstance(seen[0], StorageFull)
            assert not store.events.last_of(["disk.low"])
        finally:
            filler.unlink()
        telemetry.wake.set()
        _until(lambda: store.events.last_of(["disk.low"]), 30)
        stop.set()
        telemetry.wake.set()
        thread.join(10)
        assert not thread.is_alive() and thread.failures == 0


def test_a_loop_that_fails_is_logged_reported_and_run_again(
    tmp_path: Path, one_document_scans: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The supervisor: logged with its traceback, the event thread.failed, run
    again after a pause that doubles (no spinning); the station's other loops
    go on and a batch is still captured and read."""
    config = Config.model_validate(
        {
            "station": {"id": "st-sup", "data_dir": str(tmp_path / "data")},
            "scanner": {"device": f"folder:{one_document_scans}"},
            "pipeline": {"auto_confirm_seconds": 0},
            "ocr": {"jobs": 1},
        }
    )
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store, connect=False)
    station.start()
    runs: list[float] = []
    stop = station.stop_event

    def flaky() -> None:
        runs.append(time.monotonic())
        if len(runs) <= 3:
            raise RuntimeError(f"failure {len(runs)}")
        stop.wait()

    thread = Supervised("flaky", flaky, stop, on_crash=reporter(store, station.hub))
    thread.first_backoff_s = 0.2
    try:
        with caplog.at_level(logging.ERROR, logger="scanstation.supervisor"):
            thread.start()
            _until(lambda: len(runs) == 4, 30)
        assert thread.is_alive() and thread.failures == 3
        pauses = [b - a for a, b in itertools.pairwise(runs)]
        # 0.2 s, then doubling while it keeps failing (a little slack for the clock)
        assert pauses[0] >= 0.19 and pauses[1] >= 0.39 and pauses[2] >= 0.79
        failed = [e for e in store.events.since() if e.type == EVENT]
        assert [e.detail["failures"] for e in failed] == [1, 2, 3]
        assert failed[0].detail["thread"] == "flaky" and "failure 1" in failed[0].detail["error"]
        assert failed[0].message_vi.startswith("Luồng flaky bị lỗi")
        assert "RuntimeError: failure 1" in caplog.text and "Traceback" in caplog.text
        # the station's own loops went on
        assert station.alive()
        assert station.scan()
        batch = _until(lambda: station.last_batch, 60)
        _until(lambda: store.batch(batch).state == "review", 120)
    finally:
        station.stop()
        thread.join(5)
        store.close()
    assert not thread.is_alive()


def test_the_capture_loop_is_run_again_after_a_bug(
    tmp_path: Path, one_document_scans: Path
) -> None:
    """A bug in the capture thread (here: a page callback that raises something
    no one expects) no longer ends capture: the next press still scans."""
    config = Config.model_validate(
        {
            "station": {"id": "st-bug", "data_dir": str(tmp_path / "data")},
            "scanner": {"device": f"folder:{one_document_scans}"},
            "pipeline": {"auto_confirm_seconds": 0},
            "ocr": {"jobs": 1},
        }
    )
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store, connect=False)
    real = station.capture._on_result
    calls = []

    def on_result(outcome: Any) -> None:
        calls.append(outcome)
        if len(calls) == 1:
            raise KeyError("a bug")
        assert real is not None
        real(outcome)

    station.capture._on_result = on_result
    station.capture.first_backoff_s = 0.2
    station.start()
    try:
        assert station.scan()
        failed = _until(lambda: [e for e in store.events.since() if e.type == EVENT], 60)
        assert [e.detail["thread"] for e in failed] == ["capture"]
        assert station.capture.failures == 1
        assert station.capture.is_alive() and station.alive()
        _until(lambda: not station.capture.busy.is_set(), 10)
        assert station.scan()
        _until(lambda: len(calls) == 2, 60)
        assert station.capture.is_alive()
    finally:
        station.stop()
        store.close()


def test_fill_reaches_enospc(small_disk: Path) -> None:
    """The helper above really leaves no byte free."""
    filler = fill(small_disk)
    try:
        with pytest.raises(OSError) as info, (small_disk / "more").open("wb") as extra:
            extra.write(b"\0" * 8192)
            extra.flush()
            os.fsync(extra.fileno())
        assert info.value.errno == errno.ENOSPC
    finally:
        filler.unlink()


def test_every_thread_of_the_station_is_supervised() -> None:
    """No ``threading.Thread`` is made or subclassed outside the supervisor, so
    a thread added later runs under the same rule."""
    import ast

    root = Path(__file__).resolve().parents[1]
    found = []
    for path in sorted((root / "station").rglob("*.py")):
        if path.name == "supervisor.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            named = [node.func] if isinstance(node, ast.Call) else []
            named += node.bases if isinstance(node, ast.ClassDef) else []
            found += [
                f"{path.relative_to(root)}:{name.lineno}"
                for name in named
                if ast.unparse(name) in ("threading.Thread", "Thread")
            ]
    assert found == []
