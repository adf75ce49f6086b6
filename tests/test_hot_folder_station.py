"""Hostile and repeated files in the hot folder of a running station: ``scanstation
run`` as a real process fed PostScript under image names, and a station telling
the clerk of a file scanned twice on every screen."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from station.appliance.station import Station
from station.config import Config
from station.config.remote import Settings
from station.store import Store
from station.ui import Services, WebSettings, create_app
from tests.helpers.broker import free_port
from tests.helpers.cli import ROOT
from tests.helpers.wait import until
from tests.test_hostile_files import EPS_FAILING, EPS_LOOP

pytestmark = pytest.mark.slow


def _until(check: Callable[[], Any], timeout: float = 60.0) -> Any:
    return until(check, timeout, 0.05)


def _descendants(pid: int) -> set[int]:
    """Every process below ``pid`` now (children of children too)."""
    found: set[int] = set()
    todo = [pid]
    while todo:
        parent = todo.pop()
        try:
            tasks = list(Path(f"/proc/{parent}/task").iterdir())
        except OSError:
            continue
        for task in tasks:
            try:
                children = (task / "children").read_text(encoding="utf-8").split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def _identity(pid: int) -> tuple[int, str] | None:
    """A process as (pid, start time), so a pid used again later is not taken for
    it; ``None`` once it has ended (or is a zombie)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text(encoding="utf-8").rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return None if fields[0] == "Z" else (pid, fields[19])


def test_postscript_in_the_hot_folder_of_a_running_station(
    sample_scans: Path, tmp_path: Path
) -> None:
    """An EPS that loops and one that fails, named .png and .jpg: both go to
    .rejected with the reason, Ghostscript is never started, the capture thread
    lives on and takes the next good files, and SIGTERM ends every process."""
    hot = tmp_path / "hot"
    hot.mkdir()
    # a `gs` first on the PATH that leaves a mark, then runs the real one
    tools = tmp_path / "bin"
    tools.mkdir()
    marks = tmp_path / "gs-started.txt"
    wrapper = tools / "gs"
    wrapper.write_text(f'#!/bin/sh\necho "$@" >> {marks}\nexec /usr/bin/gs "$@"\n', "utf-8")
    wrapper.chmod(0o755)
    port = free_port()
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\nid = "st-eps"\ndata_dir = "{tmp_path / "data"}"\n'
        f'[scanner]\ndevice = "folder:{hot}?mode=hot&settle=0.2"\n'
        f'[ui]\nlisten = "127.0.0.1:{port}"\n[ocr]\njobs = 1\n',
        encoding="utf-8",
    )
    env = {**os.environ, "PATH": f"{tools}{os.pathsep}{os.environ['PATH']}"}
    errors = tmp_path / "stderr.txt"
    with errors.open("w", encoding="utf-8") as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "station", "run", "--config", str(config), "--offline"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True, env=env,
        )  # fmt: skip
    family: set[tuple[int, str]] = set()
    ghostscripts: set[int] = set()

    def look() -> None:
        below = _descendants(proc.pid)
        family.update(i for i in map(_identity, below) if i is not None)
        ghostscripts.update(p for p in below if _comm(p) == "gs")

    def done(name: str) -> bool:
        look()
        return (hot / ".done" / name).exists()

    scans = sorted(sample_scans.glob("scan_*.jpg"))
    try:
        assert proc.stdout is not None
        assert f"http://127.0.0.1:{port}/" in proc.stdout.readline()
        (hot / "a1-loop.png").write_bytes(EPS_LOOP)
        (hot / "a2-failing.jpg").write_bytes(EPS_FAILING)
        shutil.copy(scans[0], hot / "a3-good.jpg")
        _until(lambda: done("a3-good.jpg"), timeout=60)
        # a later batch: the capture thread is still there
        shutil.copy(scans[1], hot / "b1-next.jpg")
        _until(lambda: done("b1-next.jpg"), timeout=60)
        look()
    finally:
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(60)
        stopped_in = time.monotonic() - started
        assert proc.stdout is not None
        proc.stdout.close()
    assert code == 0 and stopped_in < 20, (code, stopped_in)
    assert sorted(p.name for p in (hot / ".rejected").iterdir()) == [
        "a1-loop.png",
        "a1-loop.png.reason.txt",
        "a2-failing.jpg",
        "a2-failing.jpg.reason.txt",
    ]
    for name in ("a1-loop.png", "a2-failing.jpg"):
        reason = (hot / ".rejected" / f"{name}.reason.txt").read_text(encoding="utf-8")
        assert "nội dung là PostScript" in reason and "its content is PostScript" in reason
    assert not marks.exists(), marks.read_text(encoding="utf-8")
    assert not ghostscripts
    log = errors.read_text(encoding="utf-8")
    assert "Exception in thread" not in log and "Traceback" not in log, log[-3000:]
    assert "requests already waiting" not in log
    # nothing the station started outlives it (decoder child, workers, forkserver)
    assert family  # the decoder child and the workers were seen
    _until(lambda: not [i for i in family if _identity(i[0]) == i], timeout=15)
    with Store(tmp_path / "data") as store:
        inputs = [p.input for b in store.batches() for p in store.pages(b.id)]
    assert sorted(inputs) == ["a3-good.jpg", "b1-next.jpg"]


def test_a_file_scanned_twice_is_told_to_the_clerk(sample_scans: Path, tmp_path: Path) -> None:
    """The same bytes under another name: not stored again, and the notice (Vietnamese
    first) reaches the event log, the live stream the screens read, and the
    settings screen."""
    hot = tmp_path / "hot"
    hot.mkdir()
    config = Config.model_validate(
        {
            "station": {"id": "st-dup", "data_dir": str(tmp_path / "data")},
            "scanner": {"device": f"folder:{hot}?mode=hot&settle=0.2"},
            "ocr": {"jobs": 1},
        }
    )
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store, connect=False)
    client = create_app(
        WebSettings(data_dir=store.data_dir), Services(station=station)
    ).test_client()
    scan = sorted(sample_scans.glob("scan_*.jpg"))[0]
    station.start()
    stream = client.get("/api/events")  # what every open screen listens to
    chunks = (bytes(chunk) for chunk in stream.response)  # type: ignore[arg-type]
    try:
        assert next(chunks).startswith(b"retry:")
        shutil.copy(scan, hot / "first.jpg")
        _until(lambda: (hot / ".done" / "first.jpg").exists())
        first = _until(lambda: station.last_batch)
        shutil.copy(scan, hot / "again.jpg")
        _until(lambda: (hot / ".done" / "again.jpg").exists())
        expected_vi = (
            f"Tệp again.jpg trùng với một trang đã quét (lô {first}); không lưu lại lần nữa."
        )
        expected_en = (
            f"File again.jpg is the same as a page already scanned (batch {first}); "
            "not stored again."
        )
        # the event log (the settings screen, the fleet's event topic)
        events = [e for e in store.events.since() if e.type == "capture.duplicate"]
        assert [(e.message_vi, e.message_en, e.severity) for e in events] == [
            (expected_vi, expected_en, "warning")
        ]
        assert events[0].detail["file"] == "again.jpg"
        assert events[0].detail["earlier_batch"] == first
        # the live stream
        seen = b""
        deadline = time.monotonic() + 30
        while b"event: notice" not in seen and time.monotonic() < deadline:
            seen += next(chunks)
        assert b"event: notice" in seen
        assert expected_vi.encode() in seen and b"capture.duplicate" in seen
        # the settings screen, Vietnamese first, English on request
        assert expected_vi in client.get("/settings").get_data(as_text=True)
        client.set_cookie("lang", "en")
        assert expected_en in client.get("/settings").get_data(as_text=True)
        # stored once
        inputs = [p.input for b in store.batches() for p in store.pages(b.id)]
        assert inputs == ["first.jpg"]
    finally:
        stream.close()
        station.stop()
        store.close()
