"""The durable store: states, write order, recovery after SIGKILL."""

from __future__ import annotations

import hashlib
import io
import itertools
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from station.errors import DiskFull, NotFound, StorageError
from station.store import BATCH_TRANSITIONS, FORWARD, Store, forward_steps

ROOT = Path(__file__).resolve().parent.parent


def _jpeg(seed: int, size: tuple[int, int] = (600, 800)) -> bytes:
    rng = random.Random(seed)
    image = Image.effect_noise(size, 40 + rng.random() * 20).convert("RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90)
    return buf.getvalue()


def _add(store: Store, batch_id: str, data: bytes) -> int:
    return store.add_page(
        batch_id,
        data,
        ext="jpg",
        input_name="x.jpg",
        frame=0,
        side="single",
        width=600,
        height=800,
        dpi=200,
    ).id


def test_wal_mode_and_schema(data_dir: Path) -> None:
    with Store(data_dir) as store:
        assert store.db_path.exists()
    db = sqlite3.connect(data_dir / "store.sqlite3")
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA user_version").fetchone()[0] >= 1
    tables = {r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"batches", "pages", "events", "counters"} <= tables
    db.close()


def test_page_is_on_disk_and_recorded(data_dir: Path) -> None:
    data = _jpeg(1)
    with Store(data_dir) as store:
        batch = store.create_batch("folder:/x", "standard", "test")
        page_id = _add(store, batch.id, data)
        page = store.page(page_id)
        assert page.seq == 1 and page.sha256 == hashlib.sha256(data).hexdigest()
        assert store.page_path(page).read_bytes() == data
        assert not list((data_dir / "spool" / batch.id).glob(".*.tmp"))
        assert store.counters() == {
            "pages_total": 1,
            "pages_since_roller": 1,
            "sheets_total": 1,
            "sheets_since_roller": 1,
        }
        _add(store, batch.id, _jpeg(2))
        assert [p.seq for p in store.pages(batch.id)] == [1, 2]
        store.reset_counter("pages_since_roller")
        assert store.counters() == {
            "pages_total": 2,
            "pages_since_roller": 0,
            "sheets_total": 2,
            "sheets_since_roller": 2,
        }


def test_state_transitions_are_explicit(data_dir: Path) -> None:
    with Store(data_dir) as store:
        batch = store.create_batch("d", "p", "t")
        assert batch.state == "capturing"
        with pytest.raises(StorageError, match="cannot go from capturing to done"):
            store.set_batch_state(batch.id, "done")
        store.set_batch_state(batch.id, "captured")
        with pytest.raises(StorageError, match="not capturing"):
            _add(store, batch.id, b"late")
        with pytest.raises(NotFound):
            store.batch("nope")
    # every state named as a target is itself a known state
    targets = set().union(*BATCH_TRANSITIONS.values())
    assert targets <= set(BATCH_TRANSITIONS)


#: the batch state machine as the station has always had it (docs/store.md)
EDGES = {
    "capturing": {"captured", "interrupted", "failed"},
    "interrupted": {"capturing", "captured", "cancelled"},
    "captured": {"processing", "cancelled"},
    "processing": {"review", "failed", "captured"},
    "review": {"confirmed", "processing", "cancelled"},
    "confirmed": {"done"},
    "failed": {"captured", "cancelled"},
    "done": set(),
    "cancelled": set(),
}


def _path_to(state: str) -> list[str]:
    """The shortest legal way from ``capturing`` to ``state``."""
    ways = {"capturing": ["capturing"]}
    queue = ["capturing"]
    while queue:
        here = queue.pop(0)
        for there in sorted(EDGES[here]):
            if there not in ways:
                ways[there] = [*ways[here], there]
                queue.append(there)
    return ways[state][1:]


def test_every_move_outside_the_table_is_refused(data_dir: Path) -> None:
    """Each pair of states, tried on a real batch: the move is made exactly when
    the table has the edge; otherwise it is refused and the batch stays."""
    assert BATCH_TRANSITIONS == EDGES
    with Store(data_dir) as store:
        for current in EDGES:
            for target in EDGES:
                batch = store.create_batch("d", "p", "t")
                for step in _path_to(current):
                    store.set_batch_state(batch.id, step)
                assert store.batch(batch.id).state == current
                if target in EDGES[current]:
                    assert store.set_batch_state(batch.id, target).state == target
                else:
                    with pytest.raises(StorageError, match=f"from {current} to {target}"):
                        store.set_batch_state(batch.id, target)
                    assert store.batch(batch.id).state == current


def test_the_pipeline_moves_batches_forward_through_the_store(data_dir: Path) -> None:
    """The way forward after capture is the store's rule, and only uses edges of the table."""
    assert all(b in EDGES[a] for a, b in itertools.pairwise(FORWARD))
    assert forward_steps("interrupted", "review") == ["captured", "processing", "review"]
    assert forward_steps("review", "processing") == []
    assert forward_steps("failed", "done") == []
    with pytest.raises(ValueError, match="not a state on the way forward"):
        forward_steps("captured", "cancelled")
    with Store(data_dir) as store:
        batch = store.create_batch("d", "p", "t")
        store.set_batch_state(batch.id, "interrupted")
        store.advance_batch(batch.id, "processing")
        assert store.batch(batch.id).state == "processing"
        store.advance_batch(batch.id, "done")
        assert store.batch(batch.id).state == "done"
        store.advance_batch(batch.id, "review")  # already past it: stays
        assert store.batch(batch.id).state == "done"
        failed = store.create_batch("d", "p", "t")
        store.set_batch_state(failed.id, "failed")
        store.advance_batch(failed.id, "review")  # off the way forward: stays
        assert store.batch(failed.id).state == "failed"


def test_disk_floor_refuses_page_and_keeps_earlier(data_dir: Path) -> None:
    with Store(data_dir) as store:
        batch = store.create_batch("d", "p", "t")
        _add(store, batch.id, _jpeg(3))
        store.min_free_bytes = 2**62  # a floor no disk can meet
        with pytest.raises(DiskFull) as info:
            _add(store, batch.id, _jpeg(4))
        assert info.value.exit_code == 7
        assert len(store.pages(batch.id)) == 1
        assert store.verify_pages(batch.id) == []


def test_recover_finishes_cut_rename_and_drops_unrecorded_temp(data_dir: Path) -> None:
    with Store(data_dir) as store:
        batch = store.create_batch("d", "p", "t")
        first = store.page(_add(store, batch.id, _jpeg(5)))
        second = store.page(_add(store, batch.id, _jpeg(6)))
        folder = data_dir / "spool" / batch.id
        # power cut after the commit, before the rename of page 2
        final = store.page_path(second)
        final.replace(folder / f".{final.name}.tmp")
        # power cut before the commit of a page 3: a temp file with no row
        (folder / ".p00003.jpg.tmp").write_bytes(b"half a page")
        report = store.recover()
        assert report.renamed_pages == 1
        assert report.removed_temp_files == 1
        assert report.missing_pages == []
        assert report.interrupted_batches == [batch.id]
        assert store.batch(batch.id).state == "interrupted"
        assert store.verify_pages(batch.id) == []
        assert store.page_path(first).exists() and final.exists()
        assert not list(folder.glob(".*"))


def test_only_one_owner(data_dir: Path) -> None:
    with Store(data_dir, owner=True):
        with pytest.raises(StorageError, match="in use by another process"):
            Store(data_dir, owner=True)
        # readers (CLI listings, the UI) may open it alongside the owner
        with Store(data_dir) as reader:
            assert reader.batches() == []
    with Store(data_dir, owner=True):
        pass


def test_events(data_dir: Path) -> None:
    with Store(data_dir) as store:
        event = store.events.add("scanner.jam", "error", "Kẹt giấy", "Paper jam", {"pages": 3})
        assert event.type == "scanner.jam" and event.detail == {"pages": 3}
        assert not event.published
        assert [e.id for e in store.events.since()] == [event.id]


@pytest.fixture
def slow_folder(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    for n in range(40):
        (folder / f"scan_{n:03d}.jpg").write_bytes(_jpeg(n, (900, 1200)))
    return folder


def _run_until_killed(
    data_dir: Path, folder: Path, kill_after: int, delay: float, resume: str | None = None
) -> list[tuple[str, int, str]]:
    """Start a capturing process, SIGKILL it ``delay`` s after its ``kill_after``-th page."""
    argv = [
        sys.executable,
        str(ROOT / "tests" / "helpers" / "capture_child.py"),
        str(data_dir),
        str(folder),
    ]
    if resume:
        argv.append(resume)
    proc = subprocess.Popen(
        argv,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    reported: list[tuple[str, int, str]] = []
    for line in proc.stdout:
        if line.startswith("PAGE "):
            _, batch, seq, sha = line.split()
            reported.append((batch, int(seq), sha))
            if len(reported) == kill_after:
                time.sleep(delay)
                proc.send_signal(signal.SIGKILL)
                break
    # pages reported between our last read and the kill count too
    rest, _ = proc.communicate(timeout=30)
    for line in rest.splitlines():
        if line.startswith("PAGE "):
            _, batch, seq, sha = line.split()
            reported.append((batch, int(seq), sha))
    assert proc.returncode == -signal.SIGKILL
    return reported


@pytest.mark.slow
@pytest.mark.parametrize("kill_after,delay", [(1, 0.0), (4, 0.003), (7, 0.011), (10, 0.02)])
def test_sigkill_mid_batch_keeps_every_reported_page(
    data_dir: Path, slow_folder: Path, kill_after: int, delay: float
) -> None:
    reported = _run_until_killed(data_dir, slow_folder, kill_after, delay)
    assert len(reported) >= kill_after
    batch_id = reported[0][0]
    with Store(data_dir, owner=True) as store:
        report = store.recover()
        assert report.interrupted_batches == [batch_id]
        assert report.missing_pages == []
        pages = {p.seq: p for p in store.pages(batch_id)}
        for _, seq, sha in reported:
            assert pages[seq].sha256 == sha
            assert hashlib.sha256(store.page_path(pages[seq]).read_bytes()).hexdigest() == sha
        # at most the one page being written when the kill came was not reported
        assert len(pages) - len(reported) in (0, 1)
        assert store.verify_pages(batch_id) == []
        assert not list((data_dir / "spool" / batch_id).glob(".*.tmp"))
        stored = len(pages)

    # resume: the batch continues after its last stored page, in a new process
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "tests" / "helpers" / "capture_child.py"),
            str(data_dir),
            str(slow_folder),
            batch_id,
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=120,
        check=True,
    )
    assert f"DONE {batch_id} captured" in done.stdout
    with Store(data_dir) as store:
        seqs = [p.seq for p in store.pages(batch_id)]
        assert seqs == list(range(1, stored + 41))
        assert store.verify_pages(batch_id) == []


@pytest.mark.slow
def test_sigkill_then_close_batch_as_it_is(data_dir: Path, slow_folder: Path) -> None:
    reported = _run_until_killed(data_dir, slow_folder, 3, 0.005)
    batch_id = reported[0][0]
    with Store(data_dir, owner=True) as store:
        store.recover()
        batch = store.set_batch_state(batch_id, "captured")
        assert batch.state == "captured"
        assert len(store.pages(batch_id)) >= 3
        assert store.verify_pages(batch_id) == []


def test_outbox_state_only_moves_forward(tmp_path: Path) -> None:
    """A receipt can arrive before the sender records that it announced the
    document: the later 'announced' must not undo 'received'."""
    doc = tmp_path / "d.pdf"
    doc.write_bytes(b"%PDF")
    with Store(tmp_path / "data") as store:
        first = store.outbox.enqueue("d1", doc, {}, 4096)
        again = store.outbox.enqueue("d1", doc, {}, 4096)
        assert again.file_id == first.file_id  # queueing twice changes nothing
        store.outbox.set_state("d1", "sent")
        store.outbox.record_receipt("d1", "01", {"status": "01"})
        store.outbox.set_state("d1", "announced")
        assert store.outbox.item("d1").state == "received"
        new = store.outbox.renew_file_id("d1")
        assert new != first.file_id and store.outbox.item("d1").file_id == new
