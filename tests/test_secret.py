"""Secret documents on a connected station (docs/security.md#state-secrets): never
kept, never sent; erased to the byte, registered apart, announced by level only."""

from __future__ import annotations

import dataclasses
import io
import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pypdfium2 as pdfium
import pytest
from flask.testing import FlaskClient

from station.appliance.station import Station
from station.common.clock import VIETNAM
from station.config import Config
from station.config.remote import Settings
from station.demo.samples import (
    SAMPLE_DOCUMENTS,
    blank_back,
    render_document,
    sample_label,
    scan_effects,
)
from station.demo.traits import Secrecy
from station.errors import InputError
from station.records.register_export import Book, Period, to_csv
from station.records.secret_register import LAYOUT, SecretRegister, secrecy_level
from station.store import Store
from station.ui import Services, WebSettings, create_app
from tests.helpers.cli import ROOT, scanstation
from tests.helpers.inotify import Appearing
from tests.helpers.tmpfs import tmpfs
from tests.helpers.wait import until

#: a one-page công văn (the sample's second document) and a secret one after it
PLAIN = SAMPLE_DOCUMENTS[1]
SECRET = dataclasses.replace(
    PLAIN,
    number="31",
    subject="V/v kết quả xác minh nguồn tin về tội phạm tại xã Quảng Phú",
    registration=sample_label(126),
    marks=(),
    secrecy=Secrecy(angle=-8),  # a red framed "MẬT" stamped crooked under the number
)


def _stack(folder: Path, specs: list[dataclasses.replace]) -> Path:  # type: ignore[valid-type]
    rng = random.Random(5)
    folder.mkdir(parents=True, exist_ok=True)
    sheets = []
    for spec in specs:
        for page in render_document(spec, 200):
            sheets += [page, blank_back(page, rng)]
    for number, sheet in enumerate(sheets, start=1):
        buf = io.BytesIO()
        scan_effects(sheet, rng, 200).save(buf, format="JPEG", quality=88, dpi=(200, 200))
        (folder / f"scan_{number:04d}.jpg").write_bytes(buf.getvalue())
    return folder


@pytest.fixture(scope="module")
def two_documents(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _stack(tmp_path_factory.mktemp("two"), [PLAIN, SECRET])


def _station(tmp_path: Path, scans: Path, network: str = "connected", device: str = "") -> Station:
    config = Config.model_validate(
        {
            "station": {"id": "st-secret", "data_dir": str(tmp_path / "data")},
            "scanner": {"device": device or f"folder:{scans}"},
            "security": {"network": network}
            if network == "connected"
            else {"network": network, "secret_topic_root": "vks-mat/v1"},
        }
    )
    station = Station(Settings(config), Store(config.station.data_dir), connect=False)
    station.start()
    return station


def _closed(station: Station) -> None:
    station.stop()
    station.store.close()


@pytest.fixture
def station(tmp_path: Path, two_documents: Path) -> Iterator[Station]:
    st = _station(tmp_path, two_documents)
    yield st
    _closed(st)


def _scanned(station: Station) -> str:
    assert station.scan()
    batch: str = until(lambda: station.last_batch, 60, 0.1)
    until(lambda: station.store.batch(batch).state in ("review", "cancelled"), 300, 0.2)
    until(lambda: not station.processor.batches[batch].reading, 300, 0.2)
    return batch


def _client(station: Station) -> FlaskClient:
    web = WebSettings(data_dir=station.store.data_dir)
    return create_app(web, Services(station=station)).test_client()


def _crops(client: FlaskClient, batch: str, doc: Any) -> list[str]:
    """The field crops the review shows on a document's card, by address."""
    page = client.get(f"/batch/{batch}").get_data(as_text=True)
    card = page.split(f'data-doc="{doc.doc_id}"', 1)[1].split("</article>", 1)[0]
    return [src.replace("&amp;", "&") for src in re.findall(r'<img src="(/doc/[^"]+)"', card)]


def _token(client: FlaskClient, path: str = "/") -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).get_data(as_text=True))
    assert found is not None
    return found.group(1)


def _samples(path: Path, count: int = 6, size: int = 48) -> list[bytes]:
    """Pieces of a file from all over it, long enough to be its own."""
    data = path.read_bytes()
    step = max(1, (len(data) - size) // count)
    return [data[i : i + size] for i in range(64, len(data) - size, step)][:count]


def _everything(data_dir: Path) -> bytes:
    """Every byte under the data directory: the store, its WAL, the spool, the work folder."""
    return b"".join(p.read_bytes() for p in sorted(data_dir.rglob("*")) if p.is_file())


def _held(station: Station, batch: str) -> Any:
    """The document held with "Trang này có dấu «…»: đây là văn bản mật?"."""
    held = [
        d
        for d in station.review.documents(batch)
        if any(w["code"] == "secrecy_read" for w in d.warnings)
    ]
    assert len(held) == 1
    return held[0]


def _answer_yes(station: Station, batch: str) -> None:
    """The clerk's yes to a mark read on the page."""
    doc = _held(station, batch)
    level = next(w["level"] for w in doc.warnings if w["code"] == "secrecy_read")
    station.mark_secret(doc.doc_id, level)


def test_a_mark_read_on_the_page_asks_and_the_clerks_yes_erases_it(station: Station) -> None:
    news = station.hub.subscribe()
    batch = _scanned(station)
    # found by the page step: the secret document never reached OCR
    heard = []
    while not news.empty():
        heard.append(news.get_nowait())
    read = [data["documents"] for kind, data in heard if data.get("stage") == "reading"]
    assert read == [1]
    # held: the clerk is asked, nothing is erased or registered on a reading alone
    held = _held(station, batch)
    assert held.registration == SECRET.registration and not held.pdf
    question = next(w for w in held.warnings if w["code"] == "secrecy_read")
    assert question["level"] == "Mật"
    assert "Trang này có dấu «Mật»: đây là văn bản mật?" in question["message"]["vi"]
    assert SecretRegister(station.store).of_batch(batch) == []
    assert "secrecy_read" in [f.code for f in station.findings(batch) if f.blocking]
    assert station.processor.countdown_left(batch) is None
    with pytest.raises(InputError):
        station.confirm(batch)
    client = _client(station)
    shown = client.get(f"/batch/{batch}").get_data(as_text=True)
    assert "Là văn bản mật (Mật)" in shown and "Không phải văn bản mật" in shown
    # the settings screen and the health report say which network the station is on
    assert "nối mạng: văn bản mật bị dừng" in client.get("/settings").get_data(as_text=True)
    assert station.stats.snapshot()["network"] == "connected"
    # the clerk's yes: the button on the question
    token = _token(client, f"/batch/{batch}")
    yes = client.post(f"/doc/{held.doc_id}/secret", data={"csrf_token": token, "level": "Mật"})
    assert yes.status_code == 302
    docs = station.review.documents(batch)
    assert [d.registration for d in docs] == [PLAIN.registration]  # the secret one is gone
    entries = SecretRegister(station.store).of_batch(batch)
    assert [(e.number, e.level, e.label, e.found_by) for e in entries] == [
        (1, "Mật", SECRET.registration, "read")
    ]
    assert entries[0].handling == "Xử lý ngoài trạm"
    # no trace of it: neither its captured pages nor anything made from them
    assert len(station.store.pages(batch)) == 2  # the plain sheet's two sides
    kept = {p.page_id for p in station.review.pages(batch)}
    assert kept == {p.id for p in station.store.pages(batch)}
    everything = _everything(station.store.data_dir)
    assert "Quảng Phú".encode() not in everything
    events = [e for e in station.store.events.since(0, 100) if e.type == "secret.detected"]
    assert [e.detail for e in events] == [{"level": "Mật"}]
    # the batch waits for the clerk, who is told what to do
    assert station.processor.countdown_left(batch) is None
    status = station.status()
    assert status["network"] == "connected"
    assert [(s["number"], s["level"]) for s in status["secret_stopped"]] == [(1, "Mật")]
    page = client.get(f"/batch/{batch}").get_data(as_text=True)
    assert "trạm đã dừng, không số hoá, không gửi" in page and "mạng LAN độc lập" in page
    # stopped before its header was read: the clerk types the agency off the paper
    assert 'name="author"' in page
    seen = client.post(
        f"/secret/{entries[0].id}/seen",
        data={"csrf_token": token, "next": f"/batch/{batch}", "author": " Sở  Tư pháp "},
    )
    assert seen.status_code == 302 and seen.headers["Location"].endswith(f"/batch/{batch}")
    assert station.status()["secret_stopped"] == []
    assert SecretRegister(station.store).entry(entries[0].id).author == "Sở Tư pháp"
    assert "trạm đã dừng" not in client.get(f"/batch/{batch}").get_data(as_text=True)


def test_a_false_alarm_only_asks_the_document_is_read_and_sent(station: Station) -> None:
    """The clerk's no to a mark read on the page: the document is read then,
    its Priority says no secrecy, and it is sent with the other."""
    batch = _scanned(station)
    held = _held(station, batch)
    station.dismiss_warning(held.doc_id, "secrecy_read")
    until(lambda: station.review.document(held.doc_id).pdf, 120, 0.2)
    until(lambda: not station.processor.batches[batch].reading, 120, 0.2)
    doc = station.review.document(held.doc_id)
    assert "secrecy_read" not in [w["code"] for w in doc.warnings]
    assert "Quảng Phú" in str(doc.metadata.get("Subject"))
    assert not secrecy_level(doc.metadata.get("Priority"))
    station.confirm(batch, despite=True)
    until(lambda: station.store.batch(batch).state == "done", 120, 0.2)
    assert station.store.outbox.has(held.doc_id)
    assert SecretRegister(station.store).of_batch(batch) == []


def test_a_level_the_clerk_picks_in_priority_stops_the_document(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A secrecy level in the Priority field (as the header reading fills it, or
    as the clerk picks it) stops the document before anything is sent."""
    unmarked = dataclasses.replace(SECRET, secrecy=None)
    scans = _stack(tmp_path_factory.mktemp("priority"), [PLAIN, unmarked])
    station = _station(tmp_path, scans)
    try:
        batch = _scanned(station)
        doc = station.review.documents(batch)[1]
        station.set_field(doc.doc_id, "Priority", "Tối mật, Khẩn")
        until(lambda: len(station.review.documents(batch)) == 1, 30, 0.1)
        entry = SecretRegister(station.store).of_batch(batch)[0]
        assert (entry.level, entry.found_by) == ("Tối mật", "clerk")
        station.confirm(batch, despite=True)
        until(lambda: station.store.batch(batch).state == "done", 120, 0.2)
        assert not station.store.outbox.has(doc.doc_id)
    finally:
        _closed(station)


def test_a_secret_documents_originals_in_the_hot_folder_are_erased(
    tmp_path: Path, two_documents: Path
) -> None:
    """The files a hot folder took stay in its ``.done``; those of a secret
    document (its page and the blank back after it) are erased with the rest
    of it, and no piece of them is left under the hot folder."""
    hot = tmp_path / "hot"
    hot.mkdir()
    scans = sorted(two_documents.glob("*.jpg"))
    others = b"".join(path.read_bytes() for path in scans[:2])
    pieces = [piece for path in scans[2:] for piece in _samples(path, 24) if piece not in others]
    assert len(pieces) > 20
    station = _station(tmp_path, two_documents, device=f"folder:{hot}?mode=hot&settle=0.2")
    try:
        for scan in scans:
            part = hot / f".{scan.name}.part"
            shutil.copy(scan, part)
            part.replace(hot / scan.name)
        # the mark read, the clerk says yes
        batch: str = until(lambda: station.last_batch, 120, 0.1)
        until(lambda: any(
            w["code"] == "secrecy_read" for d in station.review.documents(batch) for w in d.warnings
        ), 300, 0.2)  # fmt: skip
        until(lambda: station.store.batch(batch).state == "review", 300, 0.2)
        _answer_yes(station, batch)
        # told once the document is erased
        until(lambda: [e for e in station.store.events.since() if e.type == "secret.detected"],
              300, 0.2)  # fmt: skip
        (entry,) = SecretRegister(station.store).unseen()
        assert (entry.level, entry.label) == ("Mật", SECRET.registration)
        done = hot / ".done"
        assert sorted(p.name for p in done.iterdir()) == ["scan_0001.jpg", "scan_0002.jpg"]
        under = b"".join(p.read_bytes() for p in sorted(hot.rglob("*")) if p.is_file())
        assert not [piece for piece in pieces if piece in under]
        assert (done / "scan_0001.jpg").read_bytes() == scans[0].read_bytes()
        assert "Quảng Phú".encode() not in _everything(station.store.data_dir)
    finally:
        _closed(station)


def test_the_clerks_tap_erases_every_byte_of_the_document(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A document whose mark was not read (the clerk knows): "Văn bản mật" erases
    its pages, thumbnails, PDF and rows so that no byte of them is left."""
    unmarked = dataclasses.replace(SECRET, secrecy=None)
    scans = _stack(tmp_path_factory.mktemp("tap"), [PLAIN, unmarked])
    station = _station(tmp_path, scans)
    try:
        batch = _scanned(station)
        doc = station.review.documents(batch)[1]
        assert doc.registration == SECRET.registration and doc.pdf
        subject = str(doc.metadata["Subject"])
        assert "Quảng Phú" in subject  # read: its text is in the store until the tap
        work = station.review.work
        files = [work / str(doc.pdf)]
        for page in station.review.pages(batch)[2:]:  # the sheet's front and blank back
            files += [work / str(page.clean), work / str(page.thumb)]
            files += list((work / batch).glob(f"raw-{page.page_id}.jpg"))
            files.append(station.store.page_path(station.store.page(page.page_id)))
        assert len(files) == 9 and all(path.is_file() for path in files)
        # pieces of each file that no other file holds (JPEG tables and blank
        # stretches are alike in every scan): found now, gone after the tap
        doomed = {path.resolve() for path in files}
        others = b"".join(
            p.read_bytes()
            for p in sorted(station.store.data_dir.rglob("*"))
            if p.is_file() and p.resolve() not in doomed
        )
        pieces = []
        for path in files:
            own = [piece for piece in _samples(path, 24) if piece not in others]
            assert own, path
            pieces += own
        # its text is on disk until the tap (the store or its write-ahead log):
        # the search for it afterwards can fail
        before = _everything(station.store.data_dir)
        assert subject.encode() in before
        client = _client(station)
        token = _token(client, f"/batch/{batch}")
        shown = client.get(f"/batch/{batch}").get_data(as_text=True)
        assert "Văn bản mật…" in shown and 'name="level" value="Tối mật"' in shown
        answer = client.post(f"/doc/{doc.doc_id}/secret",
                             data={"csrf_token": token, "level": "Tối mật"})  # fmt: skip
        assert answer.status_code == 302
        until(lambda: len(station.review.documents(batch)) == 1, 30, 0.1)
        assert not any(path.exists() for path in files)
        everything = _everything(station.store.data_dir)
        assert not [piece for piece in pieces if piece in everything]
        for text in (subject, "Quảng Phú", "kết quả xác minh"):
            assert text.encode() not in everything
        entry = SecretRegister(station.store).of_batch(batch)[0]
        assert (entry.level, entry.found_by, entry.author) == ("Tối mật", "clerk", "Sở Tư pháp")
    finally:
        _closed(station)


def test_a_secret_document_alone_cancels_its_batch_and_the_register_exports(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    scans = _stack(tmp_path_factory.mktemp("alone"), [SECRET])
    station = _station(tmp_path, scans)
    try:
        batch = _scanned(station)
        _answer_yes(station, batch)
        until(lambda: station.store.batch(batch).state == "cancelled", 30, 0.1)
        assert station.review.documents(batch) == [] and station.store.pages(batch) == []
        register = SecretRegister(station.store)
        today = datetime.now(VIETNAM).date()  # the station's day: Ngày đến is Vietnam's
        entries = register.entries(date(today.year, 1, 1), today)
        csv = to_csv(Book(entries, [], Period.parse(f"{today:%Y}"), "VKS", layout=LAYOUT))
        lines = csv.decode("utf-8-sig").splitlines()
        assert lines[0] == "Ngày đến,Số đến,Độ mật,Tác giả,Nhãn số đến đã dán,Xử lý"
        assert lines[1].startswith(f"{today:%d/%m/%Y},1,Mật,")
        assert lines[1].endswith(f",{SECRET.registration},Xử lý ngoài trạm")
        assert "Quảng Phú" not in csv.decode("utf-8-sig")
        # on the Sổ đến screen, and exported like it: the screen's buttons and
        # scanstation register --secret
        client = _client(station)
        shown = client.get(f"/register?from={today:%Y}").get_data(as_text=True)
        assert "Sổ đăng ký văn bản mật đến" in shown and "Xử lý ngoài trạm" in shown
        exported = client.get(f"/register/export?format=csv&secret=1&from={today:%Y}")
        assert exported.status_code == 200 and exported.data.decode("utf-8-sig") == csv.decode(
            "utf-8-sig"
        )
        assert "so-van-ban-mat-den_" in exported.headers["Content-Disposition"]
        config = tmp_path / "station.toml"
        config.write_text(f'[station]\ndata_dir = "{tmp_path / "data"}"\nunit_name = "VKS"\n',
                          encoding="utf-8")  # fmt: skip
        for name in ("mat.pdf", "mat.xlsx"):
            done = scanstation("register", "--config", str(config), "--secret",
                               "--from", f"{today:%Y}", "--out", str(tmp_path / name))  # fmt: skip
            assert done.returncode == 0, done.stderr
            assert "Sổ văn bản mật đến" in done.stdout and "1 văn bản" in done.stdout
        pdf = pdfium.PdfDocument(str(tmp_path / "mat.pdf"))
        try:
            text = pdf[0].get_textpage().get_text_range()
        finally:
            pdf.close()
        assert "SỔ ĐĂNG KÝ VĂN BẢN MẬT ĐẾN" in text and "Xử lý ngoài trạm" in text
        assert "Sổ này ghi 1 văn bản mật đến" in text
    finally:
        _closed(station)


def test_an_independent_lan_station_keeps_the_mark_and_the_document(
    tmp_path: Path, two_documents: Path
) -> None:
    station = _station(tmp_path, two_documents, "independent_lan")
    try:
        batch = _scanned(station)
        docs = station.review.documents(batch)
        assert len(docs) == 2 and docs[1].metadata["Priority"] == "Mật"
        assert SecretRegister(station.store).unseen() == []
        client = _client(station)
        # the settings screen and the health report say which network it is on
        shown = client.get("/settings").get_data(as_text=True)
        assert "mạng LAN độc lập: văn bản mật được xử lý trên mạng này" in shown
        assert "văn bản mật bị dừng" not in shown
        assert station.stats.snapshot()["network"] == "independent_lan"
        # nothing is cut from a secret document's pages: no field's crop
        plain, secret = (_crops(client, batch, doc) for doc in docs)
        assert plain and all(client.get(src).status_code == 200 for src in plain)
        assert secret == []
        for name in docs[1].readings:
            assert client.get(f"/doc/{docs[1].doc_id}/crop/{name}.jpg").status_code == 404
        station.mark_secret(docs[0].doc_id, "Tuyệt mật")
        assert station.review.document(docs[0].doc_id).metadata["Priority"] == "Tuyệt mật, Khẩn"
        assert _crops(client, batch, docs[0]) == []
        assert all(client.get(src).status_code == 404 for src in plain)
        with pytest.raises(InputError):
            station.mark_secret(docs[0].doc_id, "Rất mật")
        assert "Văn bản mật…" not in client.get(f"/batch/{batch}").get_data(as_text=True)
    finally:
        _closed(station)


def test_process_on_a_connected_machine_writes_nothing_of_a_secret_document(
    tmp_path: Path, two_documents: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No file of the secret document ever appears in the output folder (the
    kernel tells every file made or moved there, inotify): its pages are
    cleaned and the other document read in a private folder, and only what is
    not secret is moved out; batch.json gives its sheets their place and mark only."""
    from station.pipeline.offline import process_inputs

    out = tmp_path / "out"
    (out / "pages").mkdir(parents=True)
    config = Config.model_validate({"station": {"id": "st-process"}})
    inputs = sorted(two_documents.glob("*.jpg"))
    private = tmp_path / "tmp"  # TMPDIR of this process
    private.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private))
    with Appearing(out, out / "pages") as appearing:
        found = process_inputs(inputs, out, config, jobs=2, ocr=True)
        appeared = appearing.names()
    plain, secret = found["documents"]
    assert plain["secret"] is False and plain["metadata"]["Priority"] == "Khẩn"
    assert secret == {
        "doc_id": secret["doc_id"],
        "secret": True,
        "level": "Mật",
        "pages": [{"input": "scan_0003.jpg", "index": 0}],
        "pdf": None,
    }
    # what ever appeared in the output: the other document's pages and PDF,
    # batch.json; no page of the secret one, no PDF of it, no OCR file of the batch
    assert {p.name for p in appeared if p.parent == out / "pages"} == {"p0001.jpg", "p0002.jpg"}
    assert {p.name for p in appeared if p.parent == out} == {
        plain["pdf"],
        "batch.json",
        ".batch.json.tmp",
    }
    assert sorted(p.name for p in (out / "pages").iterdir()) == ["p0001.jpg", "p0002.jpg"]
    assert sorted(p.name for p in out.glob("*.pdf")) == [plain["pdf"]]
    written = b"".join(p.read_bytes() for p in out.rglob("*") if p.is_file())
    assert "Quảng Phú".encode() not in written
    # its sheet (the page and the blank back after it): where it is and the mark, no more
    assert found["pages"][2:] == [
        {"input": "scan_0003.jpg", "index": 0, "doc_id": secret["doc_id"], "secret": True,
         "level": "Mật"},
        {"input": "scan_0004.jpg", "index": 0, "doc_id": None, "secret": True, "level": "Mật"},
    ]  # fmt: skip
    first = found["pages"][0]
    assert first["secret"] is False and first["secrecy"] is None and first["barcodes"]
    assert json.loads((out / "batch.json").read_text(encoding="utf-8")) == found
    assert list(private.glob("scanstation-*")) == []  # the private folder is erased

    # without OCR too, the mark found by the page step; a file an earlier run
    # left under the name of its page is erased
    bare = tmp_path / "bare"
    (bare / "pages").mkdir(parents=True)
    (bare / "pages" / "p0003.jpg").write_bytes(inputs[2].read_bytes())
    without = process_inputs(inputs, bare, config, jobs=2, ocr=False)
    assert [d["secret"] for d in without["documents"]] == [False, True]
    assert without["documents"][1]["level"] == "Mật"
    assert sorted(p.name for p in (bare / "pages").iterdir()) == ["p0001.jpg", "p0002.jpg"]


def test_process_moves_what_is_not_secret_from_another_file_system(
    tmp_path: Path, two_documents: Path
) -> None:
    """``scanstation process`` with TMPDIR on a file system of its own (a tmpfs):
    the pages that are not secret are copied out whole, under a temporary name
    then renamed, and the private folder is erased."""
    out = tmp_path / "out"
    (out / "pages").mkdir(parents=True)
    with tmpfs(tmp_path / "tmp", "64m") as private, Appearing(out, out / "pages") as appearing:
        done = subprocess.run(
            [sys.executable, "-m", "station", "process", *map(str, sorted(two_documents.glob("*.jpg"))),
             "--out", str(out), "--no-ocr", "--jobs", "2"],
            capture_output=True, text=True, cwd=ROOT, env={**os.environ, "TMPDIR": str(private)},
            timeout=300, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        assert list(private.glob("scanstation-*")) == []
        appeared = appearing.names()
    assert "MẬT" in done.stdout
    assert {p.name for p in appeared if p.parent == out / "pages"} == {
        "p0001.jpg", ".p0001.jpg.tmp", "p0002.jpg", ".p0002.jpg.tmp",
    }  # fmt: skip
    assert {p.name for p in appeared if p.parent == out} == {"batch.json", ".batch.json.tmp"}
    found = json.loads((out / "batch.json").read_text(encoding="utf-8"))
    assert [page["secret"] for page in found["pages"]] == [False, False, True, True]
    assert (out / "pages" / "p0001.jpg").stat().st_size > 10_000


@pytest.mark.slow
def test_the_notice_and_the_secret_button_on_the_counters_screens(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """In Debian's chromium at 800×480 and 1280×800: "Văn bản mật…" opens the
    three levels, each a finger's size; a tap stops the document and every
    screen shows the red notice with what to do until **Đã hiểu**."""
    from playwright.sync_api import expect

    from station.ui.app import WebServer
    from tests.helpers.broker import free_port
    from tests.helpers.browser import artifacts, chromium, small_targets

    read = dataclasses.replace(SECRET, number="32", registration=sample_label(127))
    scans = _stack(
        tmp_path_factory.mktemp("screen"),
        [PLAIN, dataclasses.replace(SECRET, secrecy=None), read],
    )
    station = _station(tmp_path, scans)
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=station.store.data_dir)
    server = WebServer(create_app(web, Services(station=station)), web)
    server.start()
    shots = artifacts() / "secret"
    shots.mkdir(exist_ok=True)
    try:
        batch = _scanned(station)
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 800, "height": 480})
            page.goto(f"{server.url}/batch/{batch}")
            # the third document's mark was read: the clerk is asked, yes or no
            third = page.locator("article.doc").nth(2)
            question = third.locator('.warning[data-code="secrecy_read"]')
            expect(question).to_contain_text("đây là văn bản mật?")
            question.scroll_into_view_if_needed()
            page.screenshot(path=shots / "question-800x480.png")
            wide = browser.new_page(viewport={"width": 1280, "height": 800})
            wide.goto(f"{server.url}/batch/{batch}")
            wide.locator('.warning[data-code="secrecy_read"]').scroll_into_view_if_needed()
            wide.screenshot(path=shots / "question-1280x800.png")
            assert small_targets(page, '.warning[data-code="secrecy_read"] button') == []
            expect(third.locator('[data-read="asked"]')).to_be_visible()
            question.locator("button.secret-level").click()
            expect(page.locator(".secret-stopped")).to_be_visible(timeout=30_000)
            expect(page.locator("article.doc")).to_have_count(2)
            # held before its header was read: the notice asks for the agency
            author = page.locator(".secret-stopped input[name=author]")
            expect(author).to_be_visible()
            page.screenshot(path=shots / "notice-author-800x480.png")
            author.fill("UBND tỉnh Thanh Hóa")
            page.locator(".secret-stopped button").click()
            expect(page.locator(".secret-stopped")).to_have_count(0)
            second = page.locator("article.doc").nth(1)
            second.locator("details.secret-mark summary").click()
            levels = second.locator("button.secret-level")
            expect(levels).to_have_count(3)
            assert small_targets(page, "details.secret-mark summary, button.secret-level") == []
            page.screenshot(path=shots / "levels-800x480.png")
            second.locator("button.secret-level", has_text="Tối mật").click()
            notice = page.locator(".secret-stopped")
            expect(notice).to_be_visible(timeout=30_000)
            expect(notice).to_contain_text("Tối mật")
            expect(notice).to_contain_text("xử lý văn bản trên giấy")
            expect(page.locator("article.doc")).to_have_count(1)
            page.screenshot(path=shots / "notice-800x480.png")
            wide.goto(f"{server.url}/register?from={datetime.now(VIETNAM):%Y}")
            expect(wide.locator("#secret-register")).to_contain_text("Xử lý ngoài trạm")
            expect(wide.locator(".secret-stopped")).to_be_visible()
            wide.screenshot(path=shots / "register-1280x800.png", full_page=True)
            page.goto(f"{server.url}/register?from={datetime.now(VIETNAM):%Y}")
            page.screenshot(path=shots / "register-800x480.png", full_page=True)
            page.locator(".secret-stopped button").click()
            expect(page.locator(".secret-stopped")).to_have_count(0)
            expect(page.locator("#secret-register")).to_contain_text("Tối mật")
            expect(page.locator("#secret-register")).to_contain_text("UBND tỉnh Thanh Hóa")
            page.locator("#secret-register").scroll_into_view_if_needed()
            page.screenshot(path=shots / "secret-register-800x480.png")
    finally:
        server.stop()
        _closed(station)


def test_a_stop_cut_off_by_a_power_cut_is_finished_at_the_next_start(
    tmp_path: Path, two_documents: Path
) -> None:
    """Entered in the register, not yet erased, when the power went: the next
    start erases the document before anything else."""
    station = _station(tmp_path, two_documents)
    batch = _scanned(station)
    plain = station.review.documents(batch)[0]
    pdf = station.review.work / str(plain.pdf)
    spool = [station.store.page_path(station.store.page(p.page_id)) for p in plain.pages]
    assert pdf.is_file() and all(path.is_file() for path in spool)
    SecretRegister(station.store).record(
        "Mật", datetime.now(VIETNAM).date(), batch_id=batch, doc_id=plain.doc_id, found_by="clerk",
        registered_at=datetime.now(),
    )  # fmt: skip
    _closed(station)
    again = _station(tmp_path, two_documents)
    try:
        # the plain one is gone; the marked one still waits for the clerk's answer
        assert [d.registration for d in again.review.documents(batch)] == [SECRET.registration]
        assert not pdf.exists() and not any(path.exists() for path in spool)
    finally:
        _closed(again)


def test_a_connected_station_refuses_a_receiver_of_secret_documents(tmp_path: Path) -> None:
    from station.config import parse
    from station.errors import ConfigError

    for text, key in (
        ('[security]\nsecret_topic_root = "vks-mat/v1"\n', "security.secret_topic_root"),
        ('[security]\nsecret_broker = "mqtts://10.0.0.5:8883"\n', "security.secret_broker"),
        ('[security]\nnetwork = "independent_lan"\n', "security.secret_topic_root"),
        ('[security]\nnetwork = "independent_lan"\nsecret_topic_root = "scanstation/v1/mat"\n',
         "security.secret_topic_root"),
        ('[uplink]\ntopic_mode = "emqx"\n[security]\nnetwork = "independent_lan"\n'
         'secret_topic_root = "vks-mat/v1"\n', "uplink.topic_mode"),
    ):  # fmt: skip
        with pytest.raises(ConfigError) as refused:
            parse(text)
        assert f"'{key}'" in refused.value.message_en, refused.value.message_en
    lan = parse('[security]\nnetwork = "independent_lan"\nsecret_topic_root = "vks-mat/v1"\n')
    assert lan.security.secret_broker is None
    # the fleet cannot move a station onto another network nor name a receiver of
    # secret documents: refused as keys it may not set, even where the values
    # would make a valid config, and nothing is saved
    from station.config.remote import with_overlay, write_overlay
    from station.errors import UsageError

    data = {"station": {"data_dir": str(tmp_path / "data")}}
    (tmp_path / "data").mkdir()
    connected = Config.model_validate(data)
    lan = Config.model_validate({**data, "security": lan.security.model_dump()})
    for config, change in (
        (connected, {"security.network": "independent_lan",
                     "security.secret_topic_root": "vks-mat/v1"}),
        (lan, {"security.network": "connected", "security.secret_topic_root": None}),
        (lan, {"security.secret_topic_root": "other-lan/v1"}),
        (lan, {"security.secret_broker": "mqtts://203.0.113.9:8883"}),
    ):  # fmt: skip
        settings = Settings(config)
        with pytest.raises(UsageError) as remote:
            settings.change(change)
        assert remote.value.message_en.startswith("cannot be set remotely: security."), change
        assert settings.config.security == config.security
        assert not (tmp_path / "data" / "settings.json").exists()
    # nor by a settings file written beside the store: the station refuses to start on it
    write_overlay(tmp_path / "data" / "settings.json", {"security.network": "independent_lan"})
    with pytest.raises(ConfigError) as planted:
        with_overlay(connected)
    assert "holds keys the fleet may not set" in planted.value.message_en


def test_an_independent_lan_delivers_secret_documents_to_their_own_receiver_only(
    broker: Any, tmp_path: Path
) -> None:
    """Two receivers on the LAN's broker: the ordinary one (scanstation/v1,
    whose documents may go on to the DMS) never sees a secret document; the
    receiver of secret documents (its own root) gets it, and its receipt only
    counts for the documents sent there."""
    from station.central.receiver import Receiver
    from station.uplink.link import StationLink
    from station.wire.mqtt import Connection

    config = Config.model_validate(
        {
            "station": {"id": "st-lan", "data_dir": str(tmp_path / "data")},
            "uplink": {"broker": broker.url, "keepalive_s": 5},
            "security": {"network": "independent_lan", "secret_topic_root": "vks-mat/v1"},
        }
    )
    store = Store(config.station.data_dir)
    outs = {"main": tmp_path / "main", "mat": tmp_path / "mat"}
    receivers = []
    for name, base in (("main", "scanstation/v1"), ("mat", "vks-mat/v1")):
        conn = Connection(broker.url, f"central-{name}", clean_start=True)
        Receiver(conn, outs[name], base=base)
        conn.start()
        assert conn.ready.wait(10)
        receivers.append(conn)
    meta = {"Registration": "DEN-2026-000001", "created_at": "2026-11-24T10:00:00Z"}
    for doc_id, route in (("plain-1", ""), ("mat-1", "secret")):
        path = tmp_path / f"{doc_id}.pdf"
        path.write_bytes(b"%PDF-1.7 " + doc_id.encode() * 3000)
        store.outbox.enqueue(doc_id, path, meta, 4096, route=route)
    link = StationLink.build(store, Settings(config), response_timeout_s=10)
    link.start()
    try:
        until(lambda: store.outbox.item("plain-1").state == "received", 60, 0.1)
        until(lambda: store.outbox.item("mat-1").state == "received", 60, 0.1)
        found = {name: sorted(p.name for p in out.rglob("*.pdf")) for name, out in outs.items()}
        assert found == {"main": ["plain-1.pdf"], "mat": ["mat-1.pdf"]}
        assert store.outbox.item("mat-1").route == "secret"
    finally:
        link.stop()
        for conn in receivers:
            conn.stop()
        store.close()


def test_a_mark_not_read_asks_the_clerk_and_no_is_remembered(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """A pale "MẬT" half under a received stamp, which the detector cannot read:
    the document waits with "Văn bản này có dấu mật?"; "Không phải văn bản mật"
    lets the batch go, and the question is not asked again when the batch is
    read for its confirmation."""
    written = dataclasses.replace(SECRET, secrecy=Secrecy(covered=True, faded=True, boxed=False))
    scans = _stack(tmp_path_factory.mktemp("asked"), [written, PLAIN])
    station = _station(tmp_path, scans)
    try:
        batch = _scanned(station)
        docs = station.review.documents(batch)
        assert len(docs) == 2 and SecretRegister(station.store).of_batch(batch) == []
        asked = [w["code"] for w in docs[0].warnings]
        assert "secrecy_unsure" in asked
        assert "Văn bản này có dấu mật?" in docs[0].warnings[asked.index("secrecy_unsure")][
            "message"]["vi"]  # fmt: skip
        blocking = [f.code for f in station.findings(batch) if f.blocking]
        assert "secrecy_unsure" in blocking
        with pytest.raises(InputError):
            station.confirm(batch)
        # nothing is cut from its pages while it may be secret; once the clerk
        # says it is not, it is read and its fields' crops are there
        client = _client(station)
        crop = f"/doc/{docs[0].doc_id}/crop/Subject.jpg"
        assert _crops(client, batch, docs[0]) == [] and client.get(crop).status_code == 404
        for name in docs[0].readings:
            assert client.get(f"/doc/{docs[0].doc_id}/crop/{name}.jpg").status_code == 404
        station.dismiss_warning(docs[0].doc_id, "secrecy_unsure")
        until(lambda: client.get(crop).status_code == 200, 120, 0.5)
        assert any(src.startswith(crop) for src in _crops(client, batch, docs[0]))
        station.confirm(batch, despite=True)
        until(lambda: station.store.batch(batch).state == "done", 120, 0.2)
        assert station.store.outbox.has(docs[0].doc_id)
        assert SecretRegister(station.store).of_batch(batch) == []
    finally:
        _closed(station)


def test_the_last_step_refuses_to_queue_a_document_with_a_secrecy_level(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever went before, the confirmation's last step queues no document
    whose Priority carries a secrecy level on a connected station."""
    from station.errors import NotCompliant

    scans = _stack(tmp_path_factory.mktemp("last"), [PLAIN])
    station = _station(tmp_path, scans)
    try:
        batch = _scanned(station)
        doc = station.review.documents(batch)[0]
        metadata = {**doc.metadata, "Priority": "Mật"}
        with station.store.transaction() as db:  # as if every stop before had been passed
            db.execute(
                "UPDATE review_docs SET metadata = ? WHERE doc_id = ?",
                (json.dumps(metadata, ensure_ascii=False), doc.doc_id),
            )
        with pytest.raises(NotCompliant) as refused:
            station.processor.confirmation.finalize(batch)
        assert "là văn bản mật" in refused.value.message_vi
        assert not station.store.outbox.has(doc.doc_id)
    finally:
        _closed(station)
