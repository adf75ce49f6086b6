"""Shared fixtures. The tests use real components: SANE's test backend through
python-sane (with the project's own SANE config dir), real files, real processes."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# SANE reads its configuration once, at sane_init(): point it at the tests'
# own config dir (dll.conf lists only the virtual "test" backend) before any
# test imports the capture wrapper.
SANE_DIR = Path(__file__).parent / "sane.d"
os.environ["SANE_CONFIG_DIR"] = str(SANE_DIR)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In a parallel run (``make test``: pytest-xdist, a file to a worker), the
    files with a test marked ``slow`` are handed out first, so that the run does
    not end with one worker alone on a long file. A plain ``pytest`` keeps the
    order of the files."""
    if not (getattr(config.option, "numprocesses", None) or hasattr(config, "workerinput")):
        return
    slow = {item.path for item in items if item.get_closest_marker("slow")}
    items.sort(key=lambda item: item.path not in slow)  # stable: each file keeps its order


@pytest.fixture(scope="session")
def sample_scans(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's virtual-scanner batch (JPEG scans of Vietnamese documents)."""
    from station.demo.samples import write_sample_batch

    folder = tmp_path_factory.mktemp("samples")
    write_sample_batch(folder, dpi=200)
    return folder


def _first_scans(sample_scans: Path, folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for scan in sorted(sample_scans.glob("scan_*.jpg"))[:count]:
        shutil.copy(scan, folder / scan.name)
    return folder


@pytest.fixture(scope="session")
def one_document_scans(sample_scans: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample batch's first sheet (front and blank back): its first
    document alone, one page labelled 123, for a test about one document."""
    return _first_scans(sample_scans, tmp_path_factory.mktemp("one-document"), 2)


@pytest.fixture(scope="session")
def two_document_scans(sample_scans: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample batch's first three sheets: its first two documents (one page
    labelled 123, two pages labelled 124), without the separator and the third."""
    return _first_scans(sample_scans, tmp_path_factory.mktemp("two-documents"), 6)


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    path = tmp_path / "data"
    path.mkdir()
    return path


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Any]:
    """A real mosquitto of the test's own, on a free loopback port."""
    from tests.helpers.broker import Mosquitto

    server = Mosquitto(tmp_path)
    server.start()
    yield server
    server.stop()
