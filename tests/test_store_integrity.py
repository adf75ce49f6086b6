"""A damaged store is refused at start with the remedy, and doctor reports it;
the remedy works (docs/store.md, "A damaged store"). Real store files, damaged
the way a failing card or a cut copy damages them."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from station.demo.localbroker import free_port
from station.errors import StoreDamaged
from station.store import Store
from tests.helpers.cli import ROOT, scanstation

DOCUMENTS = 400


def _filled(data: Path) -> dict[str, bytes]:
    """A store with DOCUMENTS documents, a batch of captured pages and an outbox;
    the spool files and their bytes."""
    with Store(data, owner=True) as store:
        batch = store.create_batch("folder:/scans", "standard", "cli")
        for frame in range(3):
            store.add_page(
                batch.id, os.urandom(5000), ext="png", input_name=f"scan{frame}.png",
                frame=0, side="single", width=100, height=100, dpi=200,
            )  # fmt: skip
        with store.transaction() as db:
            for n in range(DOCUMENTS):
                meta = {
                    "CodeNumber": str(n),
                    "CodeNotation": "QĐ-UBND",
                    "OrganName": "Ủy ban nhân dân tỉnh Thanh Hóa",
                    "Subject": "Về việc phê duyệt kế hoạch " + "chuyển đổi số " * 20,
                }
                db.execute(
                    "INSERT INTO documents (id, batch_id, registration, pdf, metadata, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?)",
                    (f"doc-{n}", batch.id, f"DEN-2026-{n:06d}", None, json.dumps(meta), "2026"),
                )
        pdf = data / "d.pdf"
        pdf.write_bytes(b"%PDF-1.7 test")
        store.outbox.enqueue("doc-0", pdf, {"created_at": "2026-11-24"}, 65536)
    spool = {str(p.relative_to(data)): p.read_bytes() for p in (data / "spool").rglob("*.png")}
    assert len(spool) == 3
    return spool


def _page_size_and_count(path: Path) -> tuple[int, int]:
    db = sqlite3.connect(path)
    try:
        assert db.execute("PRAGMA freelist_count").fetchone()[0] == 0  # every page in use
        return db.execute("PRAGMA page_size").fetchone()[0], db.execute(
            "PRAGMA page_count"
        ).fetchone()[0]
    finally:
        db.close()


def _scribble_middle_page(path: Path) -> None:
    size, count = _page_size_and_count(path)
    assert count > 20
    middle = count // 2
    with path.open("r+b") as stream:
        stream.seek((middle - 1) * size)
        stream.write(random.Random(7).randbytes(size))


def _cut_one_page(path: Path) -> None:
    size, count = _page_size_and_count(path)
    os.truncate(path, (count - 1) * size)


@pytest.fixture
def store_path(tmp_path: Path) -> Path:
    _filled(tmp_path / "data")
    path = tmp_path / "data" / "store.sqlite3"
    assert not Path(f"{path}-wal").exists()  # closed cleanly: everything is in the file
    return path


@pytest.mark.parametrize("damage", [_scribble_middle_page, _cut_one_page])
def test_a_damaged_store_is_refused_with_the_remedy(store_path: Path, damage: object) -> None:
    assert callable(damage)
    with Store(store_path.parent) as store:  # whole: it opens
        assert len(store.query("SELECT id FROM documents")) == DOCUMENTS
    damage(store_path)
    before = store_path.read_bytes()
    with pytest.raises(StoreDamaged) as refused:
        Store(store_path.parent, owner=True)
    error = refused.value
    assert error.exit_code == 13 and error.code == "storage.damaged"
    for message in (error.message_en, error.message_vi):
        assert str(store_path) in message
        assert f"cp /var/backups/scanstation-store.sqlite3 {store_path}" in message
        assert f"mv {store_path}* {store_path.parent / 'damaged'}/" in message
        assert str(store_path.parent / "spool") in message
    assert "damaged" in error.message_en and "bị hỏng" in error.message_vi
    assert store_path.read_bytes() == before  # nothing was changed
    # the lock was let go: a second try is refused for the same reason
    with pytest.raises(StoreDamaged):
        Store(store_path.parent, owner=True)


def _config(tmp_path: Path, data: Path) -> Path:
    config = tmp_path / "station.toml"
    config.write_text(
        f'[station]\nid = "st-db"\ndata_dir = "{data}"\n'
        f'[scanner]\ndevice = "folder:{tmp_path / "hot"}"\n'
        f'[ui]\nlisten = "127.0.0.1:{free_port()}"\n',
        encoding="utf-8",
    )
    (tmp_path / "hot").mkdir(exist_ok=True)
    return config


def _run(config: Path) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "station", "run", "--config", str(config), "--offline"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def test_the_station_refuses_a_damaged_store_doctor_reports_it_and_the_remedy_works(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    spool = _filled(data)
    path = data / "store.sqlite3"
    config = _config(tmp_path, data)
    _scribble_middle_page(path)
    # the station does not start on it, and says why and what to do
    proc = _run(config)
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 13, err
    assert "bị hỏng" in err and "is damaged" in err and "docs/store.md" in err
    # doctor: the check "store" fails with the fix
    doctor = scanstation("doctor", "--json", "--config", str(config))
    assert doctor.returncode == 4
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["store"]["ok"] is False
    assert f"mv {path}*" in checks["store"]["fix"] and "cp " in checks["store"]["fix"]
    # start fresh exactly as the message says
    fresh = re.search(r"or start fresh \((.+?)\): the next start", err)
    assert fresh is not None
    subprocess.run(["sh", "-c", fresh.group(1)], check=True)
    assert (data / "damaged" / "store.sqlite3").exists()
    proc = _run(config)
    try:
        assert proc.stdout is not None
        assert "http://127.0.0.1:" in proc.stdout.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
        assert proc.stdout is not None and proc.stderr is not None
        proc.stdout.close()
        proc.stderr.close()
    assert proc.returncode == 0
    # the captured pages are where they were, byte for byte
    for name, content in spool.items():
        assert (data / name).read_bytes() == content
    doctor = scanstation("doctor", "--json", "--config", str(config))
    checks = {c["name"]: c for c in json.loads(doctor.stdout)["checks"]}
    assert checks["store"]["ok"] is True
