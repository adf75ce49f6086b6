"""Retention (station/store/retention.py): a batch's files go once nobody needs
them, its rows stay.

- with a real store, spool and work folder: only batches whose every document
  is received past the period, or cancelled past the grace, lose their files;
  a batch at work, a document not yet received, a cancelled batch whose pages
  joined a live review keep theirs; a run repeated does nothing more; a run cut
  off half way is finished by the next;
- a running station with the real parts (a hot folder, the pipeline, a real
  mosquitto and the receiver) takes many batches with no retention: the data
  folder stays bounded, the register lists every document, and the batch page
  of a cleared batch says where its pages were.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from station.appliance.station import Station
from station.central.receiver import Receiver
from station.common.fsutil import erase
from station.config import Config
from station.config.remote import Settings
from station.errors import StationError
from station.review.drafts import Review
from station.store import Periods, Retention, Store
from station.store.originals import Originals
from station.store.retention import interval
from station.ui import Services, WebSettings, create_app
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto
from tests.helpers.cli import ROOT
from tests.helpers.wait import until
from tests.soak_parts import registration, write_pages

WEEK = Periods(received=timedelta(hours=168), cancelled=timedelta(hours=24))


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(tmp_path / "data") as opened:
        yield opened


def _captured(store: Store, pages: int = 2) -> str:
    """A capture batch with ``pages`` page files in the spool."""
    batch = store.create_batch("folder:x", "standard", "test")
    for n in range(pages):
        store.add_page(
            batch.id, os.urandom(3000), ext="jpg", input_name=f"{n}.jpg", frame=0,
            side="front", width=10, height=10, dpi=200,
        )  # fmt: skip
    store.set_batch_state(batch.id, "captured")
    return batch.id


def _reviewed(store: Store, review: Review, target: str, capture: str) -> None:
    """The capture batch's pages joined the review ``target``: a cleaned page, its
    thumbnail and a turned copy each, as the pipeline writes them."""
    folder = review.folder(target)
    for page in store.pages(capture):
        for name in (f"p{page.id}.jpg", f"t{page.id}.jpg", f"p{page.id}-r90.jpg"):
            (folder / name).write_bytes(os.urandom(2000))
        review.add_page(
            target, page.id, {}, clean=f"{target}/p{page.id}.jpg", thumb=f"{target}/t{page.id}.jpg"
        )


def _delivered(
    store: Store, review: Review, batch: str, docs: int, received: int | None = None
) -> list[str]:
    """A confirmed batch's documents: their PDFs in the work folder, on record,
    in the outbox, and the first ``received`` of them (all: None) with receipt 01."""
    ids = []
    for n in range(docs):
        doc_id = f"{batch}-d{n}"
        pdf = review.folder(batch) / f"{doc_id}.pdf"
        pdf.write_bytes(os.urandom(5000))
        store.add_document(doc_id, batch, f"DEN-2026-{n:06d}", str(pdf), {})
        item = store.outbox.enqueue(doc_id, pdf, {"created_at": "2026-11-24T10:00:00Z"}, 65536)
        if received is None or n < received:
            store.outbox.record_receipt(doc_id, "01", {"status": "01", "sha256": item.sha256})
        ids.append(doc_id)
    store.advance_batch(batch, "done")
    return ids


def _files(root: Path) -> set[str]:
    """The files under the spool and the work folder."""
    return {
        str(p.relative_to(root))
        for where in ("spool", "work")
        for p in (root / where).rglob("*")
        if p.is_file()
    }


def test_only_batches_past_their_retention_lose_their_files(store: Store) -> None:
    review = Review(store)
    retention = Retention(store, review.work)
    now = datetime.now(UTC)
    later = now + timedelta(hours=169)

    # delivered: a batch, and another one scanned into it (one review)
    delivered = _captured(store)
    more = _captured(store, pages=1)
    _reviewed(store, review, delivered, delivered)
    _reviewed(store, review, delivered, more)
    store.advance_batch(more, "done")
    delivered_docs = _delivered(store, review, delivered, 2)
    # one of its documents not yet received
    waiting = _captured(store)
    _reviewed(store, review, waiting, waiting)
    _delivered(store, review, waiting, 2, received=1)
    # under review, with a cancelled capture batch whose pages joined it
    at_work = _captured(store)
    _reviewed(store, review, at_work, at_work)
    store.advance_batch(at_work, "review")
    joined = _captured(store, pages=1)
    _reviewed(store, review, at_work, joined)
    store.set_batch_state(joined, "cancelled")
    # cancelled with no page (its empty spool folder), and one being captured
    empty = store.create_batch("folder:x", "standard", "test").id
    store.set_batch_state(empty, "interrupted")
    store.set_batch_state(empty, "cancelled")
    capturing = store.create_batch("folder:x", "standard", "test").id

    data = store.data_dir
    before = _files(data)
    rows = {t: store.query(f"SELECT count(*) FROM {t}")[0][0] for t in _KEPT_TABLES}  # noqa: S608

    # within the periods nothing goes, whatever the run
    assert retention.run(WEEK, now) == []
    assert retention.run(WEEK) == []
    assert _files(data) == before

    removed = retention.run(WEEK, later)
    assert {(r.batch_id, r.reason) for r in removed} == {
        (delivered, "received"),
        (empty, "cancelled"),
    }
    first = next(r for r in removed if r.batch_id == delivered)
    assert first.batches == tuple(sorted((delivered, more)))
    assert first.documents == tuple(delivered_docs)
    # 3 pages: the captured file, the cleaned one, its thumbnail, a turned copy; 2 PDFs
    assert first.files == 3 * 4 + 2
    for gone in (delivered, more, empty):
        assert not (store.spool / gone).exists() and not (review.work / gone).exists()
        assert store.batch(gone).files_removed_at is not None
    for kept in (waiting, at_work, joined, capturing):
        assert store.batch(kept).files_removed_at is None
        assert (store.spool / kept).is_dir()
        assert all(store.page_path(p).is_file() for p in store.pages(kept))
    cleared = {f"{where}/{b}" for where in ("spool", "work") for b in (delivered, more)}
    assert _files(data) == {f for f in before if "/".join(f.split("/")[:2]) not in cleared}
    # the rows stay: the register and the statistics need them
    assert {t: store.query(f"SELECT count(*) FROM {t}")[0][0] for t in _KEPT_TABLES} == rows  # noqa: S608
    assert [store.outbox.item(d).state for d in delivered_docs] == ["deleted", "deleted"]
    assert store.outbox.receipts(delivered_docs[0])[0]["status"] == "01"
    # what went is told: one event per review, files and bytes counted
    events = [e for e in store.events.since(limit=100) if e.type == "retention.removed"]
    assert sorted(e.detail["batch"] for e in events) == sorted((delivered, empty))
    told = next(e for e in events if e.detail["batch"] == delivered)
    assert told.severity == "info" and told.message_vi.startswith("Đã xóa tệp của lô")
    assert told.detail["files"] == first.files and told.detail["bytes"] == first.bytes > 0
    # a restart's recovery does not take the cleared pages for lost ones
    assert store.recover().missing_pages == []

    # the same run again does nothing more
    assert retention.run(WEEK, later) == []
    assert len([e for e in store.events.since(limit=100) if e.type == "retention.removed"]) == 2

    # the review ends: its cancelled capture batch goes with it once received
    store.advance_batch(at_work, "done")
    for doc_id in _delivered_ids(store, review, at_work):
        item = store.outbox.item(doc_id)
        store.outbox.record_receipt(doc_id, "01", {"status": "01", "sha256": item.sha256})
    assert {r.batch_id for r in retention.run(WEEK, later)} == {at_work}
    assert not (store.spool / joined).exists()
    assert store.batch(joined).files_removed_at is not None


_KEPT_TABLES = ("batches", "pages", "documents", "outbox", "receipts", "review_pages")


def _delivered_ids(store: Store, review: Review, batch: str) -> list[str]:
    """A review confirmed after the others: its one document queued."""
    pdf = review.folder(batch) / f"{batch}-d0.pdf"
    pdf.write_bytes(os.urandom(100))
    store.add_document(f"{batch}-d0", batch, "DEN-2026-000099", str(pdf), {})
    store.outbox.enqueue(f"{batch}-d0", pdf, {}, 65536)
    return [f"{batch}-d0"]


def test_a_run_cut_off_is_finished_by_the_next(store: Store) -> None:
    """Power lost half way through a removal: some files erased, the batch not
    yet marked. The next run (at every start) erases the rest and marks it once."""
    review = Review(store)
    retention = Retention(store, review.work)
    batch = _captured(store, pages=3)
    _reviewed(store, review, batch, batch)
    _delivered(store, review, batch, 1)
    later = datetime.now(UTC) + timedelta(hours=169)
    pages = sorted((store.spool / batch).iterdir())
    # the state a cut-off run leaves: two captured pages erased, one page zeroed
    # but not yet removed, the rest untouched, nothing recorded
    for path in pages[:2]:
        path.unlink()
    pages[2].write_bytes(bytes(pages[2].stat().st_size))
    assert store.batch(batch).files_removed_at is None

    (removal,) = retention.run(WEEK, later)
    assert removal.files == 1 + 3 * 3 + 1  # the zeroed page, the review's files, the PDF
    assert not (store.spool / batch).exists() and not (review.work / batch).exists()
    assert retention.run(WEEK, later) == []
    assert len([e for e in store.events.since() if e.type == "retention.removed"]) == 1


#: a child that removes whatever is past a week's retention, as the station's loop does
_CHILD = """
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from station.store import Periods, Retention, Store
from station.store.originals import Originals
from station.store.retention import interval

store = Store(Path(sys.argv[1]))
later = datetime.now(UTC) + timedelta(hours=169)
Retention(store, store.data_dir / "work").run(Periods(timedelta(hours=168), timedelta(hours=24)), later)
"""


def test_a_run_killed_half_way_is_finished_by_the_next(store: Store) -> None:
    """A process removing a batch's 3000 files is killed (SIGKILL) once some
    are gone (each is overwritten and synced first: seconds for all of them);
    the next run erases the rest and records the batch once."""
    review = Review(store)
    batch = _captured(store, pages=2)
    _reviewed(store, review, batch, batch)
    folder = review.folder(batch)
    for n in range(3000):
        (folder / f"t{n}-r90.jpg").write_bytes(os.urandom(4096))
    _delivered(store, review, batch, 1)
    total = len(_files(store.data_dir))
    child = subprocess.Popen(
        [sys.executable, "-c", _CHILD, str(store.data_dir)], cwd=ROOT
    )  # fmt: skip
    try:
        until(
            lambda: len(_files(store.data_dir)) < total - 10 or child.poll() is not None, 60, 0.01
        )
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(30)
    left = len(_files(store.data_dir))
    assert 0 < left < total, "killed half way"
    assert store.batch(batch).files_removed_at is None  # nothing recorded yet
    (removal,) = Retention(store, review.work).run(WEEK, datetime.now(UTC) + timedelta(hours=169))
    assert removal.files == left  # a file zeroed but not yet removed is erased again
    assert _files(store.data_dir) == set()
    assert store.batch(batch).files_removed_at is not None
    assert len([e for e in store.events.since() if e.type == "retention.removed"]) == 1


def test_retention_zero_and_the_grace_of_cancelled_batches(store: Store) -> None:
    """Zero hours: files go at the first run after the receipt; a cancelled
    batch waits its grace from when it was cancelled, not from its capture."""
    review = Review(store)
    retention = Retention(store, review.work)
    batch = _captured(store, pages=1)
    _reviewed(store, review, batch, batch)
    _delivered(store, review, batch, 1)
    cancelled = store.create_batch("folder:x", "standard", "test").id
    store.set_batch_state(cancelled, "interrupted")
    store.set_batch_state(cancelled, "cancelled")
    now = datetime.now(UTC)
    zero = Periods(received=timedelta(0), cancelled=timedelta(hours=24))
    assert [r.batch_id for r in retention.run(zero, now)] == [batch]
    assert [r.batch_id for r in retention.run(zero, now + timedelta(hours=23))] == []
    assert [r.batch_id for r in retention.run(zero, now + timedelta(hours=25))] == [cancelled]
    # the station looks a quarter period apart, from 5 s to 10 min
    assert interval(zero) == 5.0
    assert interval(Periods(timedelta(hours=1), timedelta(hours=24))) == 600.0
    assert interval(Periods(timedelta(minutes=8), timedelta(hours=24))) == 120.0


def _original(done: Path, name: str, data: bytes) -> str:
    """A hot-folder file moved to ``.done``; its pages' ``source``."""
    (done / name).write_bytes(data)
    return "sha256:" + hashlib.sha256(data).hexdigest()


def _from_files(store: Store, sources: list[tuple[str, str, int]]) -> str:
    """A capture batch of hot-folder pages: (input name, source, frame) each."""
    batch = store.create_batch("folder:hot?mode=hot", "standard", "hot")
    for name, source, frame in sources:
        store.add_page(
            batch.id, os.urandom(3000), ext="jpg", input_name=name, frame=frame,
            side="single", width=10, height=10, dpi=200, source=source,
        )  # fmt: skip
    store.set_batch_state(batch.id, "captured")
    return batch.id


def test_a_hot_folders_originals_go_with_their_batches_files(store: Store, tmp_path: Path) -> None:
    """The files a hot folder took stay in ``.done`` as long as the station's
    own copies: they are erased when every batch holding their pages has lost
    its files (the same bytes under another name too); a file of a batch not
    yet received, one the store knows nothing of and a planted link stay, and
    what a link points to is never written."""
    hot = tmp_path / "hot"
    done = hot / ".done"
    done.mkdir(parents=True)
    review = Review(store)
    retention = Retention(store, review.work, Originals(store, hot))
    two_pages = os.urandom(20_000)
    a = _original(done, "a.pdf", two_pages)
    b = _original(done, "b.jpg", os.urandom(9_000))
    _original(done, "a.1.pdf", two_pages)  # the same file again: its frames were not stored
    c = _original(done, "c.jpg", os.urandom(7_000))
    (done / "d.jpg").write_bytes(os.urandom(5_000))  # no page of it on file
    outside = tmp_path / "outside.txt"
    outside.write_bytes(b"not the station's")
    (done / "e.jpg").symlink_to(outside)
    delivered = _from_files(store, [("a.pdf", a, 0), ("a.pdf", a, 1), ("b.jpg", b, 0)])
    _reviewed(store, review, delivered, delivered)
    _delivered(store, review, delivered, 1)
    waiting = _from_files(store, [("c.jpg", c, 0)])
    _reviewed(store, review, waiting, waiting)
    _delivered(store, review, waiting, 1, received=0)
    everything = sorted(p.name for p in done.iterdir())

    # within the period nothing goes
    assert retention.run(WEEK) == []
    assert sorted(p.name for p in done.iterdir()) == everything
    # past it, the originals of the delivered batch go with its files
    (removal,) = retention.run(WEEK, datetime.now(UTC) + timedelta(hours=169))
    assert removal.batch_id == delivered
    assert sorted(p.name for p in done.iterdir()) == ["c.jpg", "d.jpg", "e.jpg"]
    assert (done / "e.jpg").is_symlink() and outside.read_bytes() == b"not the station's"
    # the rest once its own batch is received and past the period
    item = store.outbox.item(f"{waiting}-d0")
    store.outbox.record_receipt(item.doc_id, "01", {"status": "01", "sha256": item.sha256})
    (removal,) = retention.run(WEEK, datetime.now(UTC) + timedelta(hours=169))
    assert removal.batch_id == waiting
    assert sorted(p.name for p in done.iterdir()) == ["d.jpg", "e.jpg"]
    # erasing a link removes the link, never writes where it points
    assert erase(done / "e.jpg") is False
    assert not (done / "e.jpg").exists() and outside.read_bytes() == b"not the station's"


#: a reader in another process (as ``scanstation register`` is): it holds a read
#: transaction open until told to end it
_READER = """
import sqlite3, sys
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("BEGIN")
db.execute("SELECT count(*) FROM pages").fetchall()
print("reading", flush=True)
sys.stdin.readline()
db.execute("COMMIT")
db.close()
print("done", flush=True)
"""


def test_a_log_kept_busy_by_a_reader_is_emptied_once_it_is_released(store: Store) -> None:
    """A secret page's row erased while another process reads the store: the
    write-ahead log cannot be emptied (it still holds the row), the scrub says
    so after a few short tries (not SQLite's 30 s wait) and raises
    ``storage.wal_busy``; once the reader is gone the retention's next run
    empties it, and no byte of the row is left in the database or its log."""
    secret = "Quyết định mật số 77 về Quảng Phú"
    batch = store.create_batch("folder:x", "standard", "test")
    page = store.add_page(
        batch.id, os.urandom(3000), ext="jpg", input_name=secret, frame=0, side="front",
        width=10, height=10, dpi=200,
    )  # fmt: skip
    wal = store.db_path.with_name(store.db_path.name + "-wal")
    with subprocess.Popen(
        [sys.executable, "-c", _READER, str(store.db_path)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    ) as reader:  # fmt: skip
        assert reader.stdout is not None and reader.stdin is not None
        assert reader.stdout.readline().strip() == "reading"
        store.erase_pages([page.id])
        began = time.monotonic()
        assert store.scrub() is False
        took = time.monotonic() - began
        assert 0.5 < took < 5, took  # five tries 0.2 s apart, never the busy timeout
        assert secret.encode() in wal.read_bytes()  # what is at stake
        (busy,) = [e for e in store.events.since() if e.type == "storage.wal_busy"]
        assert busy.severity == "warning" and busy.detail == {"active": True}
        assert busy.message_vi.startswith("Không làm trống được nhật ký ghi")
        # told once: a second try that fails raises no second event
        assert store.scrub() is False
        assert len([e for e in store.events.since() if e.type == "storage.wal_busy"]) == 1
        reader.stdin.write("\n")
        reader.stdin.flush()
        assert reader.stdout.readline().strip() == "done"
    assert reader.returncode == 0
    assert Retention(store, store.data_dir / "work").run(WEEK) == []
    assert not store.scrub_due
    assert secret.encode() not in wal.read_bytes() + store.db_path.read_bytes()
    cleared = [e for e in store.events.since() if e.type == "storage.wal_busy"][-1]
    assert cleared.severity == "info" and cleared.detail == {"active": False}
    # the event that says so is in the log again: the next scrub empties it at once
    assert store.scrub() is True and wal.stat().st_size == 0


# --------------------------------------------------------------------------- a running station

STATION_ID = "st-keep"
#: batches taken with retention 0, looked at every ROUND; then KEPT more with a week's
BATCHES = 15
ROUND = 5
KEPT = 2


def _received(out: Path) -> list[str]:
    return sorted(
        json.loads(p.read_text(encoding="utf-8"))["Registration"]
        for p in (out / STATION_ID).glob("*/*/*.json")
    )


def _size(root: Path) -> int:
    return sum(p.stat().st_size for p in root.rglob("*") if p.is_file())


def _files_in(*folders: Path) -> list[Path]:
    return [p for folder in folders for p in folder.rglob("*") if p.is_file()]


def _ask_away(station: Station) -> None:
    """The clerk answers "Vẫn gửi?" for a batch that asks (a field the reader
    left empty) instead of waiting for a countdown that will not come."""
    for row in station.store.query("SELECT DISTINCT batch_id FROM review_docs"):
        if station.store.batch(row["batch_id"]).state == "review" and station.findings(
            row["batch_id"]
        ):
            with contextlib.suppress(StationError):
                station.confirm(row["batch_id"], despite=True)


def _drop(hot: Path, page: Path) -> None:
    """A scanner puts a file into the hot folder; the station takes it."""
    part = hot / f".{page.name}.part"
    shutil.copy(page, part)
    part.replace(hot / page.name)
    until(lambda: not [p for p in hot.iterdir() if p.is_file()], 60, 0.1)


@pytest.mark.slow
def test_a_station_taking_many_batches_keeps_its_data_folder_bounded(
    tmp_path: Path, broker: Mosquitto
) -> None:
    """Retention 0: each batch's files, and its original in the hot folder's
    ``.done``, go once its document is received. The data folder after many
    batches holds the database and no page; each batch leaves only its rows.
    Then a week's retention (set as the fleet sets it): the files of batches
    received stay until a run a week later. The register lists every
    document; a cleared batch's page shows where its pages were."""
    pages = write_pages(tmp_path / "pages", BATCHES + KEPT)
    hot = tmp_path / "hot"
    hot.mkdir()
    done = hot / ".done"
    out = tmp_path / "central"
    data = tmp_path / "data"
    config = Config.model_validate(
        {
            "station": {"id": STATION_ID, "data_dir": str(data), "cancelled_retention_hours": 0},
            "scanner": {"device": f"folder:{hot}?mode=hot&settle=0.2"},
            "pipeline": {"auto_confirm_seconds": 1},
            "uplink": {"broker": broker.url, "segment_size": 65536, "retention_hours": 0},
            "ocr": {"jobs": 1},
        }
    )
    central = Connection(broker.url, "central-keep", clean_start=True)
    Receiver(central, out)
    central.start()
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store)
    web = create_app(WebSettings(data_dir=tmp_path / "web"), Services(station=station))
    client = web.test_client()
    station.start()
    rounds: list[tuple[int, int]] = []  # (the data folder's bytes, the bytes freed)
    peak = 0
    began = time.monotonic()
    try:
        for first in range(0, BATCHES, ROUND):
            for page in pages[first : first + ROUND]:
                _drop(hot, page)
                peak = max(peak, _size(data / "spool") + _size(data / "work") + _size(done))

            def settled(count: int = first + ROUND) -> bool:
                _ask_away(station)
                return (
                    len(_received(out)) == count
                    and all(b.files_removed_at for b in store.batches())
                    and not _files_in(done)
                )

            until(settled, 120, 0.2)
            # every page, thumbnail, PDF and original is gone; what stays is the database
            assert not _files_in(data / "spool", data / "work", done)
            store.query("PRAGMA wal_checkpoint(TRUNCATE)")
            removed = [e for e in store.events.since(limit=1000) if e.type == "retention.removed"]
            rounds.append((_size(data), sum(e.detail["bytes"] for e in removed)))
        took = time.monotonic() - began
        assert _received(out) == [registration(n) for n in range(1, BATCHES + 1)]
        batches = store.batches()
        assert {b.state for b in batches} == {"done"}
        removed = [e for e in store.events.since(limit=1000) if e.type == "retention.removed"]
        assert sorted(b for e in removed for b in e.detail["batches"]) == sorted(
            b.id for b in batches
        )
        (first_round, freed_first), (end, freed) = rounds[0], rounds[-1]
        originals = sum(page.stat().st_size for page in pages[:BATCHES])
        print(
            f"retention: {BATCHES} batches in {took:.0f} s, {freed} bytes of files freed and "
            f"{originals} of originals; data folder {first_round} after {ROUND} batches and "
            f"{end} after {BATCHES} ({(end - first_round) / (BATCHES - ROUND):.0f} a batch); "
            f"pages and originals at most {peak} at once; rounds {rounds}"
        )
        # the later batches left only their rows: a small part of their files
        assert end - first_round < (freed - freed_first) / 10
        assert end < freed / 4

        # a week's retention, as the fleet sets it: received, and kept
        station.settings.change({"uplink.retention_hours": 168})
        for page in pages[BATCHES:]:
            _drop(hot, page)

        def received() -> bool:
            _ask_away(station)
            return len(_received(out)) == BATCHES + KEPT and all(
                b.state == "done" for b in store.batches()
            )

        until(received, 120, 0.2)
        periods = station.retention_periods()
        assert periods.received == timedelta(hours=168)
        kept = sorted(b.id for b in store.batches() if not b.files_removed_at)
        assert len(kept) == KEPT
        assert station.retention.run(periods) == []  # what the station's own runs find now
        assert sorted(p.name for p in done.iterdir()) == sorted(p.name for p in pages[BATCHES:])
        assert {p.relative_to(data / "spool").parts[0] for p in _files_in(data / "spool")} == set(
            kept
        )
        assert {p.relative_to(data / "work").parts[0] for p in _files_in(data / "work")} == set(
            kept
        )
        # a week and an hour later they go, the originals with them
        later = datetime.now(UTC) + timedelta(hours=169)
        assert sorted(r.batch_id for r in station.retention.run(periods, later)) == kept
        assert not _files_in(data / "spool", data / "work", done)

        every = [registration(n) for n in range(1, BATCHES + KEPT + 1)]
        assert _received(out) == every
        # the register lists every document
        today = datetime.now(UTC).date()
        entries = station.register.entries(today - timedelta(days=1), today + timedelta(days=1))
        assert sorted(e.registration for e in entries) == every
        period = {"from": f"{today - timedelta(days=1)}", "to": f"{today + timedelta(days=1)}"}
        book = client.get("/register", query_string=period)
        assert book.status_code == 200
        assert all(label in book.get_data(as_text=True) for label in every)
        outbox = client.get("/outbox")
        assert outbox.status_code == 200 and registration(1) in outbox.get_data(as_text=True)
        # a cleared batch's page says where its pages were; its files are gone, not an error
        batch = batches[0].id
        html = client.get(f"/batch/{batch}").get_data(as_text=True)
        assert "Đã xóa theo thời hạn lưu giữ" in html and 'id="files-removed"' in html
        assert "/work/" not in html
        doc = store.query("SELECT doc_id FROM review_docs WHERE batch_id = ?", (batch,))[0][0]
        assert client.get(f"/doc/{doc}/boxes").status_code == 200
        thumb = store.query("SELECT thumb FROM review_pages WHERE batch_id = ?", (batch,))[0][0]
        assert client.get(f"/work/{thumb}").status_code == 404
        client.set_cookie("lang", "en")
        assert "Removed after retention" in client.get(f"/batch/{batch}").get_data(as_text=True)
    finally:
        station.stop()
        store.close()
        central.stop()
