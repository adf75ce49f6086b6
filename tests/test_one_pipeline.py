"""`scanstation process` and the station run one page step and one duplicate
rule: the same stack gives the same page reports and the same warnings."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from station.appliance.station import Station
from station.config import Config
from station.config.remote import Settings
from station.demo.samples import sample_label
from station.pipeline.batch import BatchPage
from station.pipeline.offline import process_inputs
from station.pipeline.page import PageReport
from station.store import Store
from tests.helpers.wait import until

pytestmark = pytest.mark.slow

#: a document of another batch on file: the first sample document's number,
#: symbol and issuing agency (case and spacing do not count)
ON_FILE = {
    "CodeNumber": "45",
    "CodeNotation": "QĐ-VKS",
    "OrganName": "VIỆN KIỂM SÁT  nhân dân tỉnh Thanh Hóa",
}


def _config(data: Path, device: str = "") -> Config:
    return Config.model_validate(
        {
            "station": {"id": "st-one", "data_dir": str(data)},
            "scanner": {"device": device or "folder:/nonexistent"},
            "pipeline": {"auto_confirm_seconds": 0},
            "ocr": {"jobs": 1},
        }
    )


def _store(data: Path) -> Store:
    store = Store(data, owner=True)
    store.add_document("old-001", "old", "DEN-2023-000050", "old-001.pdf", ON_FILE)
    return store


@pytest.fixture
def stack(sample_scans: Path, tmp_path: Path) -> Path:
    """The sample batch and the second document's front again at the end: its
    label twice in the batch, and its header twice."""
    folder = tmp_path / "stack"
    shutil.copytree(sample_scans, folder)
    count = len(list(folder.glob("scan_*.jpg")))
    shutil.copy(folder / "scan_0005.jpg", folder / f"scan_{count + 1:04d}.jpg")
    return folder


def test_process_and_the_station_agree_page_by_page_and_warning_by_warning(
    stack: Path, tmp_path: Path
) -> None:
    # the station: the stack scanned from a folder, read, ready for review
    config = _config(tmp_path / "live", f"folder:{stack}")
    store = _store(config.station.data_dir)
    station = Station(Settings(config), store, connect=False)
    station.start()
    try:
        assert station.scan()
        batch = until(lambda: station.last_batch, 60, 0.1)
        until(lambda: store.batch(batch).state == "review", 300, 0.2)
        live_pages = station.review.pages(batch)
        live_docs = station.review.documents(batch)
    finally:
        station.stop()
        store.close()

    # `process` on the same files, as the same batch, with its own store
    reports: list[BatchPage] = []
    offline_store = _store(tmp_path / "offline")
    try:
        found = process_inputs(
            sorted(stack.glob("scan_*.jpg")),
            tmp_path / "out",
            _config(tmp_path / "offline"),
            jobs=1,
            ocr=True,
            on_page=lambda _position, page: reports.append(page),
            store=offline_store,
            batch_id=batch,
        )
    finally:
        offline_store.close()

    assert len(live_pages) == len(reports) == len(found["pages"]) == 15
    for live, offline, entry in zip(live_pages, reports, found["pages"], strict=True):
        report = PageReport.from_info(live.info)
        for name in ("skew_deg", "orientation_deg", "blank", "separator", "barcodes",
                     "registrations", "dpi"):  # fmt: skip
            assert getattr(report, name) == getattr(offline.report, name), (entry, name)
        assert live.doc_id == entry["doc_id"], entry

    assert [d.doc_id for d in live_docs] == [d["doc_id"] for d in found["documents"]]
    for live_doc, doc in zip(live_docs, found["documents"], strict=True):
        assert live_doc.registration == doc["registration"]
        assert len(live_doc.pages) == len(doc["pages"])
        assert live_doc.metadata == doc["metadata"], doc["doc_id"]
        assert live_doc.warnings == doc["warnings"], doc["doc_id"]

    # and the warnings are the ones docs/batch.md names
    codes = [[w["code"] for w in d["warnings"]] for d in found["documents"]]
    assert codes == [["duplicate"], ["registration_repeated"], [],
                     ["registration_repeated", "duplicate"]]  # fmt: skip
    first, last = found["documents"][0], found["documents"][-1]
    assert first["warnings"][0]["message"]["en"].endswith("already on file: DEN-2023-000050")
    # the earlier document of the batch, named once (it is on record by then, too)
    assert last["warnings"][1]["message"]["en"].endswith(f"already on file: {sample_label(124)}")


def test_a_batch_processed_again_is_not_its_own_duplicate(
    sample_scans: Path, tmp_path: Path
) -> None:
    """A run taken up again under the same batch id finds its own documents on
    record: they are not duplicates of themselves."""
    config = _config(tmp_path / "data")
    store = Store(config.station.data_dir, owner=True)
    try:
        for attempt in range(2):
            found = process_inputs(
                [sample_scans / "scan_0005.jpg"],
                tmp_path / f"out{attempt}",
                config,
                jobs=1,
                ocr=True,
                store=store,
                batch_id="20240101T000000Z-abcdef",
            )
            (doc,) = found["documents"]
            assert doc["metadata"]["CodeNumber"] == "07"
            assert doc["warnings"] == [], attempt
        assert len(store.same_documents(doc["metadata"])) == 1
    finally:
        store.close()
