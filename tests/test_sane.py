"""SANE capture through python-sane and SANE's own `test` backend (tests/sane.d)."""

from __future__ import annotations

import io
import threading
from pathlib import Path

import pytest
from PIL import Image

from station.capture import sane as sane_wrapper
from station.capture.sane import SaneScanner
from station.capture.sane_options import NO_DUPLEX, OptionInfo, map_profile
from station.capture.session import capture_batch
from station.config import Profile
from station.errors import (
    CoverOpen,
    DeviceBusy,
    DeviceNotFound,
    DeviceUnplugged,
    NoDocuments,
    PaperJam,
    ScannerIOError,
    ScannerOptionError,
)
from station.store import Page, Store

ADF = Profile(source="adf-front", mode="color", resolution=75, page_size="A4")


@pytest.fixture
def scanner():
    s = SaneScanner("test:0")
    # the test backend keeps option values per device for the whole process
    s.set_option("read-return-value", "Default")
    yield s
    s.set_option("read-return-value", "Default")
    s.close()


def test_discovery_through_project_config_dir() -> None:
    names = [d.name for d in sane_wrapper.list_devices()]
    assert names == ["test:0", "test:1"]
    devices = sane_wrapper.list_devices()
    assert sane_wrapper.resolve("auto", devices).name == "test:0"
    assert sane_wrapper.resolve("test:*", devices).name == "test:0"
    assert sane_wrapper.resolve("test:1", devices).name == "test:1"
    with pytest.raises(DeviceNotFound, match="fujitsu"):
        sane_wrapper.resolve("fujitsu:*", devices)


def test_profile_mapped_onto_test_backend(scanner: SaneScanner) -> None:
    options = scanner.options()
    settings = map_profile(options, Profile(source="adf-duplex", mode="gray", resolution=200))
    values = dict(settings.values)
    assert values["source"] == "Automatic Document Feeder"
    assert values["mode"] == "Gray"
    assert values["resolution"] == 200.0  # a fixed-point option gets a float
    assert values["depth"] == 8
    assert values["br-x"] == 300.0 and values["br-y"] == 300.0  # "max": the whole area
    assert not settings.duplex and settings.feeder
    assert settings.notes == [NO_DUPLEX]
    flat = dict(map_profile(options, Profile(source="flatbed", page_size="A4")).values)
    assert flat["source"] == "Flatbed"
    assert (flat["br-x"], flat["br-y"]) == (210.0, 297.0)
    with pytest.raises(ScannerOptionError, match="no lineart mode"):
        map_profile(options, Profile(mode="lineart"))


def _opt(name: str, constraint: object, type_: int = 3) -> OptionInfo:
    return OptionInfo(name, type_, 5, constraint)


# Source and mode lists as real backends report them (scanimage --help of each).
BACKENDS = {
    "fujitsu": {
        "source": ["ADF Front", "ADF Back", "ADF Duplex"],
        "mode": ["Lineart", "Halftone", "Gray", "Color"],
    },
    "brother": {
        "source": [
            "FlatBed",
            "Automatic Document Feeder(left aligned)",
            "Automatic Document Feeder(left aligned,Duplex)",
        ],
        "mode": ["Black & White", "Gray[Error Diffusion]", "True Gray", "24bit Color"],
    },
    "hpaio": {"source": ["Flatbed", "ADF", "Duplex"], "mode": ["Lineart", "Gray", "Color"]},
    "airscan": {"source": ["Flatbed", "ADF", "ADF Duplex"], "mode": ["Color", "Gray"]},
    "canon_dr": {
        "source": ["Flatbed", "ADF Front", "ADF Back", "ADF Duplex"],
        "mode": ["Lineart", "Halftone", "Gray", "Color"],
    },
}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_profile_mapped_onto_other_backends(backend: str) -> None:
    spec = BACKENDS[backend]
    options = {
        "source": _opt("source", spec["source"]),
        "mode": _opt("mode", spec["mode"]),
        "resolution": _opt("resolution", [100, 150, 200, 300, 600], 1),
    }
    duplex = map_profile(options, Profile(source="adf-duplex", resolution=250))
    values = dict(duplex.values)
    assert "duplex" in values["source"].lower() and duplex.duplex
    assert "color" in values["mode"].lower()
    assert values["resolution"] == 300  # nearest supported at or above the request
    front = dict(map_profile(options, Profile(source="adf-front", mode="gray")).values)
    assert "duplex" not in front["source"].lower() and "back" not in front["source"].lower()
    assert "gray" in front["mode"].lower()


def test_separate_duplex_option_epson() -> None:
    options = {
        "source": _opt("source", ["Flatbed", "Automatic Document Feeder"]),
        "adf-mode": _opt("adf-mode", ["Simplex", "Duplex"]),
    }
    settings = map_profile(options, Profile(source="adf-duplex"))
    assert ("adf-mode", "Duplex") in settings.values and settings.duplex


def _store_pages(store: Store):
    pages: list[Page] = []
    return pages, pages.append


def test_adf_batch_streams_every_page(scanner: SaneScanner, data_dir: Path) -> None:
    with Store(data_dir) as store:
        pages, on_page = _store_pages(store)
        result = capture_batch(store, scanner, "adf", ADF, on_page=on_page)
        assert result.batch.state == "captured"
        assert len(result.pages) == 10  # the test backend's feeder holds 10 sheets
        assert [p.seq for p in pages] == list(range(1, 11))
        image = Image.open(io.BytesIO(store.page_path(pages[0]).read_bytes()))
        assert image.size[0] == 620 and abs(image.size[1] - 877) <= 1  # A4 at 75 dpi
        assert image.mode == "RGB" and pages[0].dpi == 75
        assert store.verify_pages(result.batch.id) == []


def test_jam_mid_batch_keeps_pages_records_event_and_resumes(
    scanner: SaneScanner, data_dir: Path
) -> None:
    with Store(data_dir) as store:

        def jam_after_third(page: Page) -> None:
            if page.seq == 3:
                scanner.set_option("read-return-value", "SANE_STATUS_JAMMED")

        with pytest.raises(PaperJam) as info:
            capture_batch(store, scanner, "adf", ADF, on_page=jam_after_third)
        assert info.value.exit_code == 5
        assert "Kẹt giấy" in info.value.user_message()
        batch = store.batches()[0]
        assert batch.state == "interrupted" and batch.error_code == "scanner.jam"
        assert len(store.pages(batch.id)) == 3
        assert store.verify_pages(batch.id) == []
        events = store.events.since()
        assert [e.type for e in events] == ["scanner.jam"]
        assert events[0].detail["pages"] == 3 and events[0].message_vi.startswith("Kẹt giấy")

        scanner.set_option("read-return-value", "Default")  # the clerk cleared the jam
        result = capture_batch(store, scanner, "adf", ADF, resume=batch.id)
        assert result.batch.state == "captured"
        assert [p.seq for p in result.pages][:4] == [1, 2, 3, 4]
        assert len(result.pages) > 3


@pytest.mark.parametrize(
    "status,error",
    [
        ("SANE_STATUS_COVER_OPEN", CoverOpen),
        ("SANE_STATUS_DEVICE_BUSY", DeviceBusy),
        ("SANE_STATUS_IO_ERROR", ScannerIOError),
        ("SANE_STATUS_NO_MEM", ScannerIOError),
    ],
)
def test_status_becomes_typed_error_after_pages(
    scanner: SaneScanner, data_dir: Path, status: str, error: type[Exception]
) -> None:
    with Store(data_dir) as store:

        def fault(page: Page) -> None:
            if page.seq == 2:
                scanner.set_option("read-return-value", status)

        with pytest.raises(error):
            capture_batch(store, scanner, "adf", ADF, on_page=fault)
        batch = store.batches()[0]
        assert batch.state == "interrupted"
        assert len(store.pages(batch.id)) == 2
        assert len(store.events.since()) == 1


def test_empty_feeder_before_first_page(scanner: SaneScanner, data_dir: Path) -> None:
    scanner.set_option("read-return-value", "SANE_STATUS_NO_DOCS")
    with Store(data_dir) as store:
        with pytest.raises(NoDocuments) as info:
            capture_batch(store, scanner, "adf", ADF)
        assert info.value.exit_code == 6
        assert store.batches()[0].state == "cancelled"
        assert store.events.since()[0].type == "scanner.no_paper"


def test_io_error_from_vanished_device_is_unplugged(scanner: SaneScanner, data_dir: Path) -> None:
    def unplug(page: Page) -> None:
        scanner.set_option("read-return-value", "SANE_STATUS_IO_ERROR")
        # the handle stays open but the name leaves the device list, as after a
        # USB disconnect
        scanner.name = "test:9"

    with Store(data_dir) as store:
        with pytest.raises(DeviceUnplugged, match="disconnected"):
            capture_batch(store, scanner, "adf", ADF, on_page=unplug)
        batch = store.batches()[0]
        assert batch.state == "interrupted" and len(store.pages(batch.id)) == 1
        assert [e.type for e in store.events.since()] == ["scanner.unplugged"]


def test_flatbed_takes_one_page(scanner: SaneScanner, data_dir: Path) -> None:
    with Store(data_dir) as store:
        result = capture_batch(store, scanner, "flat", Profile(source="flatbed", resolution=75))
        assert len(result.pages) == 1


def test_stop_event_ends_batch_after_current_page(scanner: SaneScanner, data_dir: Path) -> None:
    stop = threading.Event()
    with Store(data_dir) as store:
        result = capture_batch(
            store,
            scanner,
            "adf",
            ADF,
            stop=stop,
            on_page=lambda page: stop.set() if page.seq == 2 else None,
        )
        assert result.batch.state == "interrupted"
        assert len(result.pages) == 2


def test_sensor_options_read_like_buttons(scanner: SaneScanner) -> None:
    names = scanner.sensor_names()
    # the test backend's readable, not software-settable options
    assert "bool-hard-select-soft-detect" in names and "bool-soft-detect" in names
    assert "bool-soft-select-soft-detect" not in names and "mode" not in names
    values = scanner.read_sensors()
    assert values is not None
    assert set(values) == set(names)
    assert all(v in (0, 1) for v in values.values())  # SANE booleans


SIGPIPE_CHILD = """
import socket, threading
from station.capture.sane import SaneScanner
from station.config import Profile
scanner = SaneScanner("test:0")
for n, _ in enumerate(scanner.frames(Profile(source="adf-front", resolution=75), threading.Event())):
    if n == 1:
        break
scanner.close()
a, b = socket.socketpair()
b.close()
try:
    for _ in range(3):
        a.send(b"x" * 65536)
except BrokenPipeError:
    print("EPIPE")
"""


def test_a_write_to_a_closed_socket_after_scanning_is_an_error_not_death() -> None:
    """SANE's test backend sets SIGPIPE back to "default" in sane_start; the
    wrapper puts "ignore" back, so a broker that went away cannot kill the
    station (the MQTT thread would write to a closed socket)."""
    import subprocess
    import sys

    from tests.helpers.cli import ROOT

    child = subprocess.run(
        [sys.executable, "-c", SIGPIPE_CHILD], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert child.returncode == 0, f"died with {child.returncode}: {child.stderr[-400:]}"
    assert child.stdout.strip() == "EPIPE"
