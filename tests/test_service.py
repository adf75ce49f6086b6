"""The station's parts together, without a browser: a hot-folder trigger, a
restart in the middle of reading, and `scanstation run`."""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from station.appliance.station import Station
from station.config import Config
from station.config.remote import Settings
from station.demo.samples import LABEL_YEAR, sample_label
from station.errors import InputError, NotFound
from station.store import Store
from tests.helpers.broker import free_port
from tests.helpers.cli import ROOT
from tests.helpers.wait import until

pytestmark = pytest.mark.slow


def _until(check: Callable[[], Any], timeout: float = 120.0, step: float = 0.1) -> Any:
    return until(check, timeout, step)


def _config(data: Path, device: str, auto_confirm: int = 0) -> Config:
    return Config.model_validate(
        {
            "station": {"id": "st-svc", "data_dir": str(data)},
            "scanner": {"device": device},
            "pipeline": {"auto_confirm_seconds": auto_confirm},
            "ocr": {"jobs": 1},
        }
    )


def _started(config: Config) -> tuple[Station, Store]:
    """A station on ``config``'s data, started (again after a restart)."""
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store, connect=False)
    station.start()
    return station, store


def test_hot_folder_starts_a_batch_and_a_restart_finishes_reading_it(
    sample_scans: Path, tmp_path: Path
) -> None:
    hot = tmp_path / "hot"
    hot.mkdir()
    config = _config(tmp_path / "data", f"folder:{hot}?mode=hot&settle=0.2")
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store, connect=False)
    station.start()
    for scan in sorted(sample_scans.glob("scan_*.jpg")):
        shutil.copy(scan, hot / scan.name)
    batch = _until(lambda: station.last_batch)
    # stopped while the pages are being read: the next start goes on with them
    _until(lambda: store.batch(batch).state == "processing")
    station.stop()
    store.close()
    assert sorted(p.name for p in (hot / ".done").iterdir()) == sorted(
        p.name for p in sample_scans.glob("scan_*.jpg")
    )
    store = Store(config.station.data_dir, owner=True)
    again = Station(Settings(config), store, connect=False)
    again.start()
    try:
        _until(lambda: store.batch(batch).state == "review")
        docs = again.review.documents(batch)
        assert [d.registration for d in docs] == [
            sample_label(123),
            sample_label(124),
            sample_label(125),
        ]
        assert all(d.pdf and not d.stale for d in docs)
        assert docs[0].metadata["CodeNumber"] == "45"
        assert again.last_batch == batch
    finally:
        again.stop()
        store.close()


def test_run_serves_the_counter_and_stops_on_sigterm(sample_scans: Path, tmp_path: Path) -> None:
    port = free_port()
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\nid = "st-run"\ndata_dir = "{tmp_path / "data"}"\n'
        f'[scanner]\ndevice = "folder:{sample_scans}"\n'
        f'[ui]\nlisten = "127.0.0.1:{port}"\n',
        encoding="utf-8",
    )
    notify = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    notify.bind(str(tmp_path / "notify.sock"))
    notify.settimeout(10)
    env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock"), "WATCHDOG_USEC": "600000"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "run", "--config", str(config), "--offline"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        assert f"http://127.0.0.1:{port}/" in proc.stdout.readline()
        # systemd: ready, then watchdog pings at half of WatchdogSec while the loops live
        assert "READY=1" in notify.recv(4096).decode()
        pings = [notify.recv(4096).decode() for _ in range(3)]
        assert pings == ["WATCHDOG=1"] * 3
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status") as reply:
            status = json.loads(reply.read())
        assert status["busy"] is False and status["profile"] == "standard"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/stats") as reply:
            stats = json.loads(reply.read())
        assert stats["station_id"] == "st-run" and "queue" in stats
        # a form without its CSRF token is refused, as JSON under /api
        request = urllib.request.Request(f"http://127.0.0.1:{port}/scan", data=b"", method="POST")
        with pytest.raises(urllib.error.HTTPError) as refused:
            urllib.request.urlopen(request)  # noqa: S310
        assert refused.value.code == 400
        refused.value.close()
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()
    assert code == 0
    said = []
    notify.settimeout(0.5)
    with contextlib.suppress(TimeoutError):
        while True:
            said.append(notify.recv(4096).decode())
    notify.close()
    assert any(m.startswith("STOPPING=1") for m in said)


def test_the_watchdog_pings_only_while_the_loops_live(tmp_path: Path) -> None:
    from station.appliance.systemd import Watchdog

    alive = [True]
    dog = Watchdog(lambda: alive[0], threading.Event(), 1.0)
    assert dog.ping_once() and dog.pings == 1
    alive[0] = False
    assert not dog.ping_once() and dog.pings == 1


def test_scanning_more_into_a_batch_under_review(sample_scans: Path, tmp_path: Path) -> None:
    """ "Quét thêm vào lô này": the new pages become documents of their own at the
    end of the batch; a label already used in the batch is flagged."""
    config = _config(tmp_path / "data", f"folder:{sample_scans}")
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store, connect=False)
    station.start()
    try:
        assert station.scan()
        batch = _until(lambda: station.last_batch)
        _until(lambda: store.batch(batch).state == "review")
        with pytest.raises(NotFound):
            station.scan(into="no-such-batch")
        _until(lambda: not station.capture.busy.is_set())
        assert station.scan(into=batch)
        _until(lambda: len(station.review.documents(batch)) == 6)
        _until(lambda: all(d.pdf for d in station.review.documents(batch)))
        docs = station.review.documents(batch)
        assert [d.seq for d in docs] == [1, 2, 3, 4, 5, 6]
        assert len({d.doc_id for d in docs}) == 6
        again = docs[3:]
        assert all("registration_repeated" in {w["code"] for w in d.warnings} for d in again)
        assert station.last_batch == batch
        assert len(station.review.capture_batches(batch)) == 2
        with pytest.raises(InputError, match="already used"):
            station.review.set_registration(
                again[0].doc_id, sample_label(123), config.pipeline.registration_pattern
            )
    finally:
        station.stop()
        store.close()


def test_a_station_killed_while_scanning_finishes_the_batch_after_restart(
    sample_scans: Path, tmp_path: Path
) -> None:
    """SIGKILL in the middle of a batch (a power cut): at the next start the pages
    already stored are cleaned, grouped and read; nothing captured is lost."""
    port = free_port()
    data = tmp_path / "data"
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\nid = "st-kill"\ndata_dir = "{data}"\n'
        f'[scanner]\ndevice = "folder:{sample_scans}?pace=0.4"\n'
        "[pipeline]\nauto_confirm_seconds = 0\n"
        f'[ui]\nlisten = "127.0.0.1:{port}"\n',
        encoding="utf-8",
    )
    command = [sys.executable, "-m", "station", "run", "--config", str(config), "--offline"]

    def start() -> subprocess.Popen[str]:
        proc = subprocess.Popen(
            command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
        )
        assert proc.stdout is not None and "http://" in proc.stdout.readline()
        return proc

    def api(path: str, body: bytes | None = None) -> Any:
        request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body)
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            return json.loads(reply.read())

    first = start()
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as reply:
            page = reply.read().decode()
            cookie = reply.headers["Set-Cookie"].split(";")[0]
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/scan",
            data=f"csrf_token={token.group(1)}".encode(),
            headers={"Cookie": cookie, "Accept": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
            assert json.loads(reply.read())["ok"] is True
        with Store(data) as store:
            _until(lambda: store.batches() and len(store.pages(store.batches()[0].id)) >= 5, 30)
        helpers = _descendants(first.pid)  # the cleaning worker and its forkserver
        assert helpers
    finally:
        first.kill()
        first.wait(10)
        assert first.stdout is not None
        first.stdout.close()
    # the worker processes end with the station instead of waiting forever
    _until(lambda: not [pid for pid in helpers if _alive(pid)], 15)
    with Store(data) as store:
        (batch,) = store.batches()
        kept = [p.id for p in store.pages(batch.id)]
        assert 5 <= len(kept) < 14 and batch.state == "capturing"
    second = start()
    try:
        _until(lambda: batch.id in {b["id"] for b in api("/api/status")["review"]}, 120)
        documents = api(f"/api/batch/{batch.id}")["documents"]
        assert documents[0]["registration"] == sample_label(123)
        with Store(data) as store:
            assert [p.id for p in store.pages(batch.id)] == kept
            assert store.batch(batch.id).state == "review"
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(30) == 0
        assert second.stdout is not None
        second.stdout.close()


def test_a_restart_counts_down_again_unless_the_clerk_stopped_it(
    one_document_scans: Path, tmp_path: Path
) -> None:
    """A clean batch waiting for its auto-confirmation when the power went keeps
    counting down after the restart; one whose countdown the clerk stopped does not."""
    config = _config(tmp_path / "data", f"folder:{one_document_scans}", auto_confirm=600)

    station, store = _started(config)
    try:
        assert station.scan()
        batch = _until(lambda: station.last_batch)
        _until(lambda: batch in station.processor.countdown.deadlines)
    finally:
        station.stop()
        store.close()
    station, store = _started(config)
    try:
        _until(lambda: batch in station.processor.countdown.deadlines)
        assert station.stop_countdown(batch)
    finally:
        station.stop()
        store.close()
    station, store = _started(config)
    try:
        assert station.last_batch == batch and store.batch(batch).state == "review"
        _until(lambda: station.processor.inbox.empty())
        time.sleep(0.5)  # the processor has taken the resume request
        assert batch not in station.processor.countdown.deadlines
    finally:
        station.stop()
        store.close()


def test_a_disk_floor_set_remotely_stops_the_hot_folder_until_lowered(
    sample_scans: Path, tmp_path: Path
) -> None:
    """The free-space floor applies at once; a lasting fault is retried after a
    pause, not twice a second, and the waiting file is taken once it clears."""
    hot = tmp_path / "hot"
    hot.mkdir()
    config = _config(tmp_path / "data", f"folder:{hot}?mode=hot&settle=0.2")
    store = Store(config.station.data_dir, owner=True)
    settings = Settings(config)
    station = Station(settings, store, connect=False)
    station.start()
    try:
        settings.change({"station.min_free_mb": 1_000_000})
        assert store.min_free_bytes == 1_000_000 * 2**20
        scan = sorted(sample_scans.glob("scan_*.jpg"))[0]
        shutil.copy(scan, hot / scan.name)
        _until(lambda: store.events.last_of(["disk.low"]))
        time.sleep(3)  # within the first pause: no second attempt
        assert len([e for e in _events(store) if e == "disk.low"]) == 1
        assert (hot / scan.name).exists() and station.hot_watcher is not None
        assert station.hot_watcher.backoff_s == 5
        settings.change({"station.min_free_mb": 50})
        _until(lambda: (hot / ".done" / scan.name).exists())
        assert [p.input for b in store.batches() for p in store.pages(b.id)] == [scan.name]
    finally:
        station.stop()
        store.close()


def _events(store: Store) -> list[str]:
    return [row["type"] for row in store.query("SELECT type FROM events ORDER BY id")]


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (from /proc)."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [pid]
    while frontier:
        parent = frontier.pop()
        children = [child for child, ppid in parents.items() if ppid == parent]
        found += children
        frontier += children
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie waiting for its parent's wait() counts as ended)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_confirmed_documents_enter_the_register_and_a_reused_label_is_caught(
    sample_scans: Path, tmp_path: Path
) -> None:
    """Confirmation enters each document in the register with its Số đến and Ngày
    đến, which go into the delivered metadata and the PDF's XMP; the same labels
    scanned again are flagged and the batch waits for the clerk."""
    import pikepdf

    from station.common.clock import VIETNAM
    from station.records.register import Register

    config = _config(tmp_path / "data", f"folder:{sample_scans}", auto_confirm=1)
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store, connect=False)
    station.start()
    try:
        assert station.scan()
        first = _until(lambda: station.last_batch)
        _until(lambda: store.batch(first).state == "done", 180)
        today = datetime.now(VIETNAM).date()
        entries = Register(store).entries(today, today)
        assert [(e.registration, e.number, e.year) for e in entries] == [
            (sample_label(123), 123, LABEL_YEAR),
            (sample_label(124), 124, LABEL_YEAR),
            (sample_label(125), 125, LABEL_YEAR),
        ]
        assert all(e.arrival_date == today and e.author for e in entries)
        queued = {item.doc_id: item for item in store.outbox.items(("queued",))}
        meta = queued[entries[0].doc_id].metadata
        assert meta["ArrivalNumber"] == 123 and meta["ArrivalDate"] == today.isoformat()
        with pikepdf.open(queued[entries[0].doc_id].path) as pdf:
            xmp = str(pdf.open_metadata())
        assert "<vbd:ArrivalNumber>123</vbd:ArrivalNumber>" in xmp
        assert f"<vbd:ArrivalDate>{today.isoformat()}</vbd:ArrivalDate>" in xmp
        # the same stack again: every label is already in the register
        _until(lambda: not station.capture.busy.is_set())
        assert station.scan()
        second = _until(lambda: station.last_batch != first and station.last_batch)
        _until(lambda: store.batch(second).state == "review", 180)
        docs = station.review.documents(second)
        assert all("registration_on_file" in {w["code"] for w in d.warnings} for d in docs)
        assert second not in station.processor.countdown.deadlines
        station.set_registration(docs[0].doc_id, "DEN-2026-000001")
        assert "registration_on_file" not in {
            w["code"] for w in station.review.document(docs[0].doc_id).warnings
        }
        # 123 is free in this batch now, but the register has it
        with pytest.raises(InputError, match="already in the register"):
            station.set_registration(docs[1].doc_id, sample_label(123))
    finally:
        station.stop()
        store.close()


def test_a_confirmation_cut_off_after_queueing_never_rewrites_a_queued_file(
    sample_scans: Path, tmp_path: Path
) -> None:
    """Power lost after the documents were queued but before the batch was marked
    done: after the restart the confirmation goes on, and a queued file (perhaps
    already sent) keeps the bytes and the checksum the outbox recorded."""
    import hashlib
    import sqlite3

    config = _config(tmp_path / "data", f"folder:{sample_scans}", auto_confirm=1)

    station, store = _started(config)
    try:
        assert station.scan()
        batch = _until(lambda: station.last_batch)
        _until(lambda: store.batch(batch).state == "done", 180)
        before = {i.doc_id: i.path.read_bytes() for i in store.outbox.items(("queued",))}
    finally:
        station.stop()
        store.close()
    assert len(before) == 3
    db = sqlite3.connect(config.station.data_dir / "store.sqlite3")
    with db:
        db.execute("UPDATE batches SET state = 'confirmed' WHERE id = ?", (batch,))
    db.close()
    station, store = _started(config)
    try:
        _until(lambda: store.batch(batch).state == "done", 180)
        items = store.outbox.items(("queued",))
        assert {i.doc_id for i in items} == set(before)
        for item in items:
            data = item.path.read_bytes()
            assert data == before[item.doc_id]
            assert hashlib.sha256(data).hexdigest() == item.sha256
    finally:
        station.stop()
        store.close()
