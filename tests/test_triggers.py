"""Triggers: scanner buttons (polled sensors), GPIO, programmatic; one batch per press."""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from pathlib import Path

from gpiozero.pins.mock import MockFactory

from station.capture.folder import FolderSource
from station.capture.sane import SaneScanner
from station.capture.session import CaptureResult, capture_batch
from station.capture.triggers import (
    ButtonPoller,
    CaptureService,
    GpioButton,
    HotFolderWatcher,
    TriggerHub,
    is_press,
)
from station.config import Config, Profile
from station.errors import StationError
from station.store import Page, Store


def test_is_press() -> None:
    assert is_press(False, True) and is_press(0, 1)
    assert not is_press(True, True) and not is_press(True, False) and not is_press(None, True)
    assert is_press(0, 3) and is_press(2, 3) and not is_press(3, 0)
    assert is_press("", "scan") and not is_press("scan", "")


def _replay(sequence: list[Mapping[str, object] | None]):
    values: Iterator[Mapping[str, object] | None] = iter(sequence)
    return lambda: next(values)


# Sensor values as read every 500 ms from a Fujitsu fi-7160 (SANE fujitsu backend)
# while the clerk pressed Scan twice, opened the cover once and turned the
# function dial; None is a poll skipped because a batch was running.
FI7160 = [
    {"scan": 0, "email": 0, "cover-open": 0, "function": 1, "page-loaded": 1},
    {"scan": 0, "email": 0, "cover-open": 0, "function": 1, "page-loaded": 1},
    {"scan": 1, "email": 0, "cover-open": 0, "function": 1, "page-loaded": 1},  # press
    {"scan": 1, "email": 0, "cover-open": 0, "function": 1, "page-loaded": 1},  # held
    None,
    {"scan": 0, "email": 0, "cover-open": 1, "function": 1, "page-loaded": 0},  # cover
    {"scan": 0, "email": 0, "cover-open": 0, "function": 2, "page-loaded": 1},  # dial
    {"scan": 1, "email": 0, "cover-open": 0, "function": 2, "page-loaded": 1},  # press
    {"scan": 0, "email": 0, "cover-open": 0, "function": 2, "page-loaded": 1},
]


def test_recorded_press_sequence_fires_twice() -> None:
    hub = TriggerHub()
    poller = ButtonPoller(
        _replay(list(FI7160)), hub, threading.Event(), buttons=["scan", "email"], debounce_s=1.0
    )
    fired = [poller.poll_once(now=0.5 * i) for i in range(len(FI7160))]
    assert fired[2] == ["scan"] and fired[7] == ["scan"]
    assert sum(1 for f in fired if f) == 2  # cover, page sensor and dial never press
    first, second = hub.wait(0), hub.wait(0)
    assert first is not None and first.origin == "scanner-button" and first.detail == "scan"
    assert second is not None
    assert hub.wait(0) is None


def test_bounce_within_debounce_is_one_press() -> None:
    hub = TriggerHub()
    seq: list[Mapping[str, object] | None] = [{"scan": 0}, {"scan": 1}, {"scan": 0}, {"scan": 1}]
    poller = ButtonPoller(_replay(seq), hub, threading.Event(), debounce_s=1.0)
    for i in range(4):
        poller.poll_once(now=0.1 * i)
    assert poller.presses == 1


def test_poller_thread_reads_test_backend_sensors() -> None:
    scanner = SaneScanner("test:0")
    reads: list[Mapping[str, object] | None] = []

    def read() -> Mapping[str, object] | None:
        values = scanner.read_sensors()
        reads.append(values)
        return values

    hub, stop = TriggerHub(), threading.Event()
    poller = ButtonPoller(read, hub, stop, buttons=["bool-*"], interval_s=0.05)
    poller.start()
    try:
        while len(reads) < 4:
            stop.wait(0.05)
    finally:
        stop.set()
        poller.join(5)
        scanner.close()
    assert not poller.is_alive()
    assert all(r is not None and "bool-soft-detect" in r for r in reads)
    assert poller.presses == 0 and hub.wait(0) is None  # nobody pressed


def test_sensors_not_read_while_scanning(data_dir: Path) -> None:
    scanner = SaneScanner("test:0")
    seen: list[object] = []

    def during(page: Page) -> None:
        seen.append(scanner.read_sensors())

    try:
        with Store(data_dir) as store:
            capture_batch(
                store, scanner, "p", Profile(source="adf-front", resolution=75), on_page=during
            )
        assert seen and all(v is None for v in seen)
        assert scanner.read_sensors() is not None
    finally:
        scanner.close()


def test_gpio_button_with_gpiozero_mock_pins() -> None:
    factory = MockFactory()
    hub = TriggerHub()
    button = GpioButton(17, hub, pin_factory=factory)
    try:
        pin = factory.pin(17)
        pin.drive_low()  # pressed: the button connects the pin to ground
        request = hub.wait(2)
        assert request is not None and request.origin == "gpio" and request.detail == "pin 17"
        pin.drive_high()
    finally:
        button.close()
        factory.close()


def test_programmatic_trigger_captures_one_batch_with_default_profile(
    data_dir: Path, sample_scans: Path
) -> None:
    cfg = Config.model_validate(
        {
            "station": {"data_dir": str(data_dir)},
            "scanner": {"device": f"folder:{sample_scans}", "default_profile": "simplex"},
        }
    )
    results: list[CaptureResult | StationError] = []
    done = threading.Event()

    def on_result(outcome: CaptureResult | StationError) -> None:
        results.append(outcome)
        done.set()

    hub, stop = TriggerHub(), threading.Event()
    with Store(data_dir) as store:
        service = CaptureService(
            cfg, store, FolderSource(sample_scans), hub, stop, on_result=on_result
        )
        service.start()
        try:
            assert hub.fire("ui")
            assert done.wait(60)
        finally:
            stop.set()
            service.join(10)
        assert not service.is_alive()
        (outcome,) = results
        assert isinstance(outcome, CaptureResult)
        assert outcome.batch.profile == "simplex" and outcome.batch.trigger == "ui"
        assert outcome.batch.state == "captured"
        assert len(outcome.pages) == len(list(sample_scans.glob("*.jpg")))


def test_press_while_busy_is_dropped(data_dir: Path, sample_scans: Path) -> None:
    cfg = Config.model_validate({"station": {"data_dir": str(data_dir)}})
    hub, stop = TriggerHub(), threading.Event()
    with Store(data_dir) as store:
        service = CaptureService(cfg, store, FolderSource(sample_scans), hub, stop)
        hub.fire("ui")
        hub.fire("scanner-button")  # pressed again while the first batch runs
        request = hub.wait(0)
        assert request is not None and request.origin == "ui"
        outcome = service.run_request(request)
        assert isinstance(outcome, CaptureResult) and outcome.batch.state == "captured"
        assert hub.wait(0) is None  # the second press was dropped, not queued
        assert len(store.batches()) == 1


def test_hot_folder_fires_when_files_are_stable(
    tmp_path: Path, data_dir: Path, sample_scans: Path
) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    source = FolderSource(inbox, hot=True, settle_s=0.2)
    hub, stop = TriggerHub(), threading.Event()
    watcher = HotFolderWatcher(source.pending, hub, stop, interval_s=0.05)
    assert not watcher.poll_once()  # empty folder
    first = sorted(sample_scans.glob("*.jpg"))[:2]
    for path in first:
        (inbox / path.name).write_bytes(path.read_bytes())
    watcher.start()
    try:
        request = hub.wait(10)
    finally:
        stop.set()
        watcher.join(5)
    assert request is not None and request.origin == "hotfolder"
    cfg = Config.model_validate({"station": {"data_dir": str(data_dir)}})
    with Store(data_dir) as store:
        service = CaptureService(cfg, store, source, hub, threading.Event())
        outcome = service.run_request(request)
        assert isinstance(outcome, CaptureResult)
        assert [p.input for p in outcome.pages] == [p.name for p in first]
    assert sorted(p.name for p in (inbox / ".done").iterdir()) == [p.name for p in first]
    assert not source.pending()


def test_hot_folder_watcher_waits_longer_after_each_failed_batch(tmp_path: Path) -> None:
    """A fault that lasts (a full disk) must not start a batch twice a second."""
    hub, stop = TriggerHub(), threading.Event()
    watcher = HotFolderWatcher(lambda: True, hub, stop, max_backoff_s=20)
    assert watcher.poll_once() and hub.drain() == 1
    pauses = []
    for _ in range(4):
        watcher.batch_ended(failed=True)
        pauses.append(watcher.backoff_s)
        assert not watcher.poll_once() and hub.drain() == 0
    assert pauses == [5.0, 10.0, 20.0, 20.0]
    watcher.batch_ended(failed=False)
    assert watcher.backoff_s == 0 and watcher.poll_once()
