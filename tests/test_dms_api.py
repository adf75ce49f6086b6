"""The DMS inbox folder and the axis-style HTTP API, over real files, sockets and TLS."""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import ssl
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from station.central import inbox as inbox_module
from station.central.api import ApiSettings, AxisServer
from station.central.inbox import MAX_STATUS_BYTES, MAX_TRIES, Inbox, InboxConflict
from station.common.clock import VIETNAM
from station.errors import ConfigError, NotFound, UsageError
from tests.helpers.pki import Pki

TOKEN = "t0k3n-" + "a1b2c3d4" * 4


def edxml(n: int, size: int = 2000) -> bytes:
    """A stand-in document message: the inbox takes the bytes as they are."""
    head = f'<?xml version="1.0" encoding="UTF-8"?><edXMLEnvelope n="{n}">'.encode()
    return head + bytes((n + i) % 251 for i in range(size)) + b"</edXMLEnvelope>"


INFO = {"station_id": "st-a", "doc_id": "D1", "arrival_number": 12, "arrival_date": "2026-11-30"}


@dataclass
class Sink:
    """A status sink that records what it is given and refuses what says so."""

    got: list[tuple[bytes, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __call__(self, data: bytes, source: str) -> tuple[bool, str]:
        with self.lock:
            self.got.append((data, source))
        if b"refuse" in data:
            return False, "Không có văn bản này / ResponseFor names no document we delivered"
        return True, "receipt 03 published"


# ---------------------------------------------------------------------- the inbox


def test_put_writes_the_document_and_its_record_and_nothing_else(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    data = edxml(1)
    entry = inbox.put("st-a.D1", data, "000.00.00.H41,2026/11/30,1", INFO)
    assert (tmp_path / "st-a.D1.edxml").read_bytes() == data
    assert entry.id == "st-a.D1" and entry.state == "new" and entry.info == INFO
    assert entry.size == len(data) and entry.sha256 == hashlib.sha256(data).hexdigest()
    assert entry.created.tzinfo is not None
    assert abs(datetime.now(UTC) - entry.created) < timedelta(seconds=30)
    # a DMS polling the folder sees one .edxml and no temporary file
    assert sorted(p.name for p in tmp_path.iterdir() if not p.name.startswith(".")) == [
        "answers",
        "st-a.D1.edxml",
    ]
    assert not list(tmp_path.glob(".*.tmp")) and not list((tmp_path / ".entries").glob(".*.tmp"))
    record = json.loads((tmp_path / ".entries" / "st-a.D1.json").read_text(encoding="utf-8"))
    assert record["document_id"] == "000.00.00.H41,2026/11/30,1"
    assert Inbox(tmp_path).entry("st-a.D1") == entry  # another receiver reads the same
    assert inbox.read("st-a.D1") == data


def test_put_is_idempotent_and_refuses_another_document_under_the_same_id(
    tmp_path: Path,
) -> None:
    inbox = Inbox(tmp_path)
    first = inbox.put("d1", edxml(1), "DOC-1", INFO)
    again = inbox.put("d1", edxml(1), "DOC-1", {**INFO, "subject": "other info"})
    assert again == first  # the first info is kept
    with pytest.raises(InboxConflict):
        inbox.put("d1", edxml(2), "DOC-1", INFO)
    with pytest.raises(InboxConflict):
        inbox.put("d1", edxml(1), "DOC-2", INFO)
    assert (tmp_path / "d1.edxml").read_bytes() == edxml(1)
    for bad in (".hidden", "../x", "a/b", "", "x" * 201, "é"):
        with pytest.raises(UsageError):
            inbox.put(bad, edxml(1), "DOC-1", INFO)
    with pytest.raises(UsageError):
        inbox.put("d2", edxml(1), "", INFO)
    with pytest.raises(UsageError):
        inbox.put("d2", edxml(1), "DOC", {"when": datetime.now(UTC)})


def test_a_put_cut_off_before_its_record_is_completed_by_the_next(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    (tmp_path / "d1.edxml").write_bytes(edxml(1))  # the file, but no record
    (tmp_path / "d2.edxml").write_bytes(edxml(7))
    assert inbox.entries() == []
    assert inbox.put("d1", edxml(1), "DOC-1", INFO).state == "new"
    with pytest.raises(InboxConflict):
        inbox.put("d2", edxml(2), "DOC-2", INFO)
    assert [e.id for e in inbox.entries()] == ["d1"]


def test_receivers_sharing_the_folder_write_each_document_once(tmp_path: Path) -> None:
    inboxes = [Inbox(tmp_path) for _ in range(4)]
    errors: list[BaseException] = []
    start = threading.Barrier(len(inboxes))

    def put_all(inbox: Inbox) -> None:
        start.wait()
        for n in range(20):
            try:
                inbox.put(f"d{n}", edxml(n), f"DOC-{n}", INFO)
            except BaseException as exc:  # noqa: BLE001 - collected for the assertion
                errors.append(exc)

    threads = [threading.Thread(target=put_all, args=(i,)) for i in inboxes]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(list(tmp_path.glob("*.edxml"))) == 20
    assert all((tmp_path / f"d{n}.edxml").read_bytes() == edxml(n) for n in range(20))
    assert not [p for p in tmp_path.rglob(".*") if p.name.endswith(".tmp")]


def test_a_folder_reader_never_sees_part_of_a_document(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    count, size = 40, 1 << 20
    expected = {f"d{n}.edxml": hashlib.sha256(edxml(n, size)).hexdigest() for n in range(count)}
    stop = threading.Event()
    seen: dict[str, str] = {}
    wrong: list[str] = []

    def reader() -> None:  # a DMS polling the folder as fast as it can
        while not stop.is_set():
            for path in tmp_path.glob("*.edxml"):
                digest = hashlib.sha256(path.read_bytes()).hexdigest()
                seen[path.name] = digest
                if digest != expected.get(path.name):
                    wrong.append(path.name)

    thread = threading.Thread(target=reader)
    thread.start()
    try:
        for n in range(count):
            inbox.put(f"d{n}", edxml(n, size), f"DOC-{n}", INFO)
    finally:
        stop.set()
        thread.join()
    assert wrong == []
    assert len(seen) > 1  # the reader did see documents while they were being put
    assert all(seen[name] == expected[name] for name in seen)


def test_entries_since_pending_and_acknowledgements(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    for n in range(4):
        inbox.put(f"d{n}", edxml(n), f"DOC-{n}", {**INFO, "doc_id": f"D{n}"})
        time.sleep(0.01)
    listed = inbox.entries()
    assert [e.id for e in listed] == ["d0", "d1", "d2", "d3"]  # oldest first
    assert [e.id for e in inbox.entries(listed[2].created)] == ["d2", "d3"]
    naive = listed[2].created.astimezone(UTC).replace(tzinfo=None)
    assert [e.id for e in inbox.entries(naive)] == ["d2", "d3"]
    assert [e.id for e in inbox.entries(listed[2].created.astimezone(VIETNAM))] == ["d2", "d3"]
    assert inbox.acknowledge("d0", "done").state == "done"
    assert inbox.acknowledge("d1", "processing").state == "processing"
    assert inbox.acknowledge("d2", "fail").state == "fail"
    assert [e.id for e in inbox.entries(pending=True)] == ["d1", "d3"]
    entry = inbox.acknowledge("d1", "done")
    assert entry.state == "done" and entry.state_at is not None
    history = json.loads((tmp_path / ".acks" / "d1.json").read_text(encoding="utf-8"))["history"]
    assert [h["state"] for h in history] == ["processing", "done"]
    with pytest.raises(UsageError):
        inbox.acknowledge("d3", "06")
    with pytest.raises(NotFound):
        inbox.acknowledge("nope", "done")
    with pytest.raises(NotFound):
        inbox.entry("nope")


def test_a_document_taken_from_the_folder_counts_as_done_and_is_not_handed_over_again(
    tmp_path: Path,
) -> None:
    inbox = Inbox(tmp_path)
    inbox.put("d1", edxml(1), "DOC-1", INFO)
    (tmp_path / "d1.edxml").rename(tmp_path.parent / "taken-by-the-dms.edxml")
    assert inbox.entry("d1").state == "done"
    assert inbox.entries(pending=True) == []
    inbox.put("d1", edxml(1), "DOC-1", INFO)  # the gateway hands it again: nothing happens
    assert not (tmp_path / "d1.edxml").exists()
    with pytest.raises(NotFound):
        inbox.read("d1")


# ---------------------------------------------------------------------- the answers folder


def _drop(folder: Path, name: str, data: bytes) -> None:
    """How a DMS should drop a status file: a dot-name, then a rename."""
    tmp = folder / f".{name}.part"
    tmp.write_bytes(data)
    tmp.rename(folder / name)


def _wait(predicate: Any, timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[Inbox, Sink]]:
    inbox, sink, stop = Inbox(tmp_path / "inbox"), Sink(), threading.Event()
    thread = inbox.watch_answers(sink, stop, interval_s=0.1)
    yield inbox, sink
    stop.set()
    thread.join(5)
    assert not thread.is_alive()


def test_status_files_are_taken_and_filed_with_their_reason(
    watched: tuple[Inbox, Sink],
) -> None:
    inbox, sink = watched
    answers = inbox.answers
    _drop(answers, "status_03.edxml", b"<status>03</status>")
    _drop(answers, "status_02.edxml", b"<status>refuse</status>")
    # taken, then filed: wait for both files where they end up
    _wait(
        lambda: (
            (answers / "done" / "status_03.edxml").exists()
            and (answers / "refused" / "status_02.edxml.why.txt").exists()
        )
    )
    assert not list(answers.glob("*.edxml"))
    assert sorted(sink.got) == [
        (b"<status>03</status>", "folder:status_03.edxml"),
        (b"<status>refuse</status>", "folder:status_02.edxml"),
    ]
    assert (answers / "done" / "status_03.edxml").read_bytes() == b"<status>03</status>"
    assert (answers / "refused" / "status_02.edxml").read_bytes() == b"<status>refuse</status>"
    why = (answers / "refused" / "status_02.edxml.why.txt").read_text(encoding="utf-8")
    assert "ResponseFor names no document we delivered" in why
    # a DMS that reuses a file name: the second is kept beside the first
    _drop(answers, "status_03.edxml", b"<status>04</status>")
    _wait(lambda: len(list((answers / "done").glob("*.edxml"))) == 2)
    assert {p.read_bytes() for p in (answers / "done").glob("*.edxml")} == {
        b"<status>03</status>",
        b"<status>04</status>",
    }


def test_a_status_file_still_being_written_is_not_taken_early(
    watched: tuple[Inbox, Sink],
) -> None:
    inbox, sink = watched
    whole = b"".join(b"<part n='%d'/>" % n for n in range(30))
    with (inbox.answers / "status_05.edxml").open("wb") as stream:
        for n in range(30):  # 1.5 s of writing, against a poll every 0.1 s
            stream.write(b"<part n='%d'/>" % n)
            stream.flush()
            time.sleep(0.05)
    _wait(lambda: bool(sink.got))
    time.sleep(0.5)
    assert sink.got == [(whole, "folder:status_05.edxml")]


def test_dot_files_and_other_names_are_left_alone(watched: tuple[Inbox, Sink]) -> None:
    inbox, sink = watched
    (inbox.answers / ".status_06.edxml").write_bytes(b"<being written/>")
    (inbox.answers / "notes.txt").write_bytes(b"not a status")
    (inbox.answers / "link.edxml").symlink_to(inbox.answers / "notes.txt")
    _drop(inbox.answers, "last.edxml", b"<status>06</status>")
    _wait(lambda: bool(sink.got))
    time.sleep(0.4)
    assert sink.got == [(b"<status>06</status>", "folder:last.edxml")]
    assert (inbox.answers / ".status_06.edxml").exists()
    assert (inbox.answers / "notes.txt").exists() and (inbox.answers / "link.edxml").is_symlink()


def test_receivers_sharing_the_answers_folder_take_each_file_once(tmp_path: Path) -> None:
    inboxes, sink, stop = [Inbox(tmp_path) for _ in range(3)], Sink(), threading.Event()
    threads = [inbox.watch_answers(sink, stop, interval_s=0.05) for inbox in inboxes]
    try:
        for n in range(40):
            _drop(inboxes[0].answers, f"status_{n}.edxml", b"<status n='%d'/>" % n)
        _wait(lambda: len(list((tmp_path / "answers" / "done").glob("*.edxml"))) == 40)
        time.sleep(0.3)
    finally:
        stop.set()
        for thread in threads:
            thread.join(5)
    assert sorted(source for _, source in sink.got) == sorted(
        f"folder:status_{n}.edxml" for n in range(40)
    )
    assert not [p for p in (tmp_path / "answers").iterdir() if p.is_file()]


def test_a_claim_left_by_a_stopped_receiver_is_taken_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbox, sink = Inbox(tmp_path), Sink()
    left = inbox.answers / ".s.edxml.4242.1.taking"
    left.write_bytes(b"<status>05</status>")
    inbox.take_answers(sink, settle_s=0)
    assert left.exists() and sink.got == []  # a fresh claim is someone's work in progress
    monkeypatch.setattr(inbox_module, "STALE_CLAIM_S", 0.0)
    for _ in range(3):
        inbox.take_answers(sink, settle_s=0)
    assert sink.got == [(b"<status>05</status>", "folder:s.edxml")]
    assert not left.exists() and (inbox.answers / "done" / "s.edxml").exists()


def test_an_oversized_status_file_is_refused_unread(tmp_path: Path) -> None:
    inbox, sink = Inbox(tmp_path), Sink()
    with (inbox.answers / "huge.edxml").open("wb") as stream:
        stream.truncate(MAX_STATUS_BYTES + 1)
    assert inbox.take_answers(sink, settle_s=0) == []  # first seen
    [answer] = inbox.take_answers(sink, settle_s=0)
    assert not answer.accepted and sink.got == []
    assert answer.moved_to == inbox.answers / "refused" / "huge.edxml"
    assert "16 MiB" in (inbox.answers / "refused" / "huge.edxml.why.txt").read_text("utf-8")


def test_a_sink_that_fails_leaves_the_file_then_gives_up(tmp_path: Path) -> None:
    inbox = Inbox(tmp_path)
    calls: list[str] = []

    def failing(data: bytes, source: str) -> tuple[bool, str]:
        calls.append(source)
        raise RuntimeError("broker down")

    _drop(inbox.answers, "s.edxml", b"<status/>")
    inbox.take_answers(failing, settle_s=0)
    for _ in range(MAX_TRIES - 1):
        assert inbox.take_answers(failing, settle_s=0) == []
        assert (inbox.answers / "s.edxml").exists()  # put back for another try
        inbox.take_answers(failing, settle_s=0)  # seen again after the put-back
    assert len(calls) == MAX_TRIES - 1
    [answer] = inbox.take_answers(failing, settle_s=0)
    assert not answer.accepted and len(calls) == MAX_TRIES
    assert (inbox.answers / "refused" / "s.edxml").exists()


# ---------------------------------------------------------------------- the HTTP API


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pki = Pki(tmp_path_factory.mktemp("pki"))
    pki.issue("central", server=True)
    pki.issue("dms")
    pki.issue("rogue", ca=False)
    Pki(pki.folder / "other").issue("stranger")  # signed by another CA
    return pki


def _token_file(folder: Path, token: str = TOKEN) -> Path:
    path = folder / "dms-api.token"
    path.write_text(token + "\n", encoding="utf-8")
    path.chmod(0o600)
    return path


@dataclass
class Client:
    server: AxisServer
    context: ssl.SSLContext | None = None
    token: str | None = TOKEN

    def call(
        self,
        path: str,
        body: bytes | dict[str, Any] = b"",
        headers: dict[str, str] | None = None,
        method: str = "POST",
    ) -> tuple[int, bytes, http.client.HTTPResponse]:
        host, port = self.server.server.server_address[:2]
        conn: http.client.HTTPConnection
        if self.context is not None:
            conn = http.client.HTTPSConnection(str(host), int(port), context=self.context,
                                               timeout=10)  # fmt: skip
        else:
            conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
        sent = dict(headers or {})
        if self.token is not None:
            sent["Authorization"] = f"Bearer {self.token}"
        if isinstance(body, dict):
            body = json.dumps(body).encode()
            sent["Content-Type"] = "application/json"
        try:
            conn.request(method, path, body=body, headers=sent)
            response = conn.getresponse()
            data = response.read()
        finally:
            conn.close()
        return response.status, data, response

    def json(self, path: str, body: bytes | dict[str, Any] = b"", **kw: Any) -> dict[str, Any]:
        _, data, _ = self.call(path, body, **kw)
        value: dict[str, Any] = json.loads(data)
        return value


@pytest.fixture
def api(tmp_path: Path) -> Iterator[tuple[Client, Inbox, Sink]]:
    inbox, sink = Inbox(tmp_path / "inbox"), Sink()
    settings = ApiSettings(listen="127.0.0.1:0", token_file=_token_file(tmp_path))
    server = AxisServer(settings, inbox, sink)
    server.start()
    yield Client(server), inbox, sink
    server.stop()


def test_the_api_wants_the_token(
    api: tuple[Client, Inbox, Sink], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client, inbox, _ = api
    inbox.put("d1", edxml(1), "DOC-1", INFO)
    for token in (None, "wrong-" + TOKEN[6:], TOKEN + "x", ""):
        for path in ("/getReceivedEdocList", "/getEdoc", "/nowhere"):
            status, data, response = Client(client.server, token=token).call(path, {"docId": "d1"})
            assert (status, data) == (401, b""), (token, path)
            assert response.getheader("WWW-Authenticate") == "Bearer"
    status, data, _ = Client(client.server).call("/getEdoc", {"docId": "d1"})
    assert (status, data) == (200, edxml(1))
    assert client.server.url.startswith("http://127.0.0.1:")
    status, _, _ = client.call("/sendEdoc", b"<refuse/>", headers={"messagetype": "status"})
    assert status == 422
    assert caplog.records and TOKEN[6:] not in caplog.text  # what is logged holds no token


def test_list_get_acknowledge_round_trip(api: tuple[Client, Inbox, Sink]) -> None:
    client, inbox, _ = api
    for n in range(3):
        inbox.put(f"st-a.D{n}", edxml(n), f"DOC-{n}", {**INFO, "doc_id": f"D{n}"})
        time.sleep(0.01)
    listed = client.json("/getReceivedEdocList", headers={"servicetype": "eDoc",
                                                          "messagetype": "edoc"})  # fmt: skip
    assert listed["status"] == "OK" and listed["ErrorCode"] == "0"
    items = listed["data"]
    assert [i["id"] for i in items] == ["st-a.D0", "st-a.D1", "st-a.D2"]
    first = items[0]
    assert first["document_id"] == "DOC-0" and first["doc_id"] == "D0"
    assert first["station_id"] == "st-a" and first["arrival_number"] == 12
    assert first["messagetype"] == "edoc" and first["state"] == "new"
    created = inbox.entry("st-a.D0").created.astimezone(VIETNAM)
    assert first["created_time"] == created.strftime("%d/%m/%Y %H:%M:%S")

    # the axis SDK's loop: get each, then acknowledge it
    status, data, response = client.call("/getEdoc", headers={"docId": "st-a.D1"})
    assert (status, data) == (200, edxml(1))
    assert response.getheader("Content-Type") == "application/octet-stream"
    assert response.getheader("hash-file") == hashlib.sha256(edxml(1)).hexdigest()
    status, data, _ = client.call("/edocs/st-a.D2", method="GET")
    assert (status, data) == (200, edxml(2))
    done = client.json("/updateStatus", {"docId": "st-a.D1", "status": "done"})
    assert done["status"] == "OK" and done["DocId"] == "st-a.D1"
    client.json("/updateStatus", headers={"docid": "st-a.D2", "status": "processing"})
    assert inbox.entry("st-a.D1").state == "done"
    pending = client.json("/getReceivedEdocList", {"messagetype": "edoc"})["data"]
    assert [(i["id"], i["state"]) for i in pending] == [("st-a.D0", "new"),
                                                       ("st-a.D2", "processing")]  # fmt: skip
    everything = client.json("/getReceivedEdocList", {"pending": False})["data"]
    assert [i["state"] for i in everything] == ["new", "done", "processing"]

    # fromDate / toDate in the axis's form, Vietnam time
    late = (inbox.entry("st-a.D2").created.astimezone(VIETNAM) + timedelta(seconds=1)).strftime(
        "%d/%m/%Y %H:%M:%S"
    )
    assert client.json("/getReceivedEdocList", {"fromDate": late, "pending": "false"})["data"] == []
    assert len(client.json("/getReceivedEdocList", {"toDate": late, "pending": "0"})["data"]) == 3
    same_second = inbox.entry("st-a.D2").created.astimezone(VIETNAM).strftime("%d/%m/%Y %H:%M:%S")
    assert (
        len(client.json("/getReceivedEdocList", {"toDate": same_second, "pending": 0})["data"]) == 3
    )
    early = (inbox.entry("st-a.D0").created.astimezone(VIETNAM) - timedelta(seconds=1)).strftime(
        "%d/%m/%Y %H:%M:%S"
    )
    assert client.json("/getReceivedEdocList", {"toDate": early, "pending": False})["data"] == []
    assert client.json("/getReceivedEdocList", {"messagetype": "status"})["data"] == []

    # what goes wrong, in the axis's shape
    for path, body, code in (
        ("/getEdoc", {"docId": "nope"}, 404),
        ("/getEdoc", {"docId": "../etc/passwd"}, 400),
        ("/getEdoc", {}, 400),
        ("/updateStatus", {"docId": "st-a.D0", "status": "06"}, 400),
        ("/getReceivedEdocList", {"fromDate": "2026-11-30"}, 400),
        ("/getReceivedEdocList", {"messagetype": "other"}, 400),
        ("/getReceivedEdocList", b"[1, 2]", 400),
        ("/countReceiveStatus", {}, 404),
    ):
        status, data, _ = client.call(path, body)
        answer = json.loads(data)
        assert status == code and answer["status"] == "FAIL", (path, body)
        assert answer["ErrorCode"] and answer["ErrorDesc"]
    missing = client.json("/getEdoc", {"docId": "nope"})["ErrorDesc"]
    assert missing.startswith("Không có văn bản nope") and "no document nope" in missing
    assert client.json("/getEdoc", {})["ErrorDesc"].startswith("Thiếu tham số docid / ")
    status, data, _ = client.call("/getEdoc", method="GET")
    assert status == 405 and json.loads(data)["status"] == "FAIL"


def test_status_messages_come_in_through_send_edoc(api: tuple[Client, Inbox, Sink]) -> None:
    client, _, sink = api
    message = b"<edXMLEnvelope><Status>03</Status></edXMLEnvelope>"
    digest = hashlib.sha256(message).hexdigest()
    headers = {"servicetype": "eDoc", "messagetype": "status", "hash-file": digest}
    answer = client.json("/sendEdoc", message, headers=headers)
    assert answer["status"] == "OK" and answer["ErrorDesc"] == "receipt 03 published"
    assert sink.got == [(message, "api")]
    # without hash-file it is taken too
    assert client.json("/sendEdoc", message, headers={"messagetype": "status"})["status"] == "OK"

    refused = b"<edXMLEnvelope><Status>refuse</Status></edXMLEnvelope>"
    status, data, _ = client.call("/sendEdoc", refused, headers={"messagetype": "status"})
    assert status == 422 and json.loads(data)["status"] == "FAIL"
    assert "ResponseFor names no document we delivered" in json.loads(data)["ErrorDesc"]

    before = len(sink.got)
    status, data, _ = client.call("/sendEdoc", message,
                                  headers={"messagetype": "status", "hash-file": "0" * 64})  # fmt: skip
    assert (status, json.loads(data)["ErrorCode"]) == (400, "hash_mismatch")
    status, data, _ = client.call("/sendEdoc", message,
                                  headers={"messagetype": "status", "hash-file": "é" * 64})  # fmt: skip
    assert (status, json.loads(data)["ErrorCode"]) == (400, "hash_mismatch")
    status, data, _ = client.call("/sendEdoc", message, headers={"messagetype": "edoc"})
    assert (status, json.loads(data)["ErrorCode"]) == (400, "edoc_refused")
    status, _, _ = client.call("/sendEdoc", message)
    assert status == 400
    status, _, _ = client.call("/sendEdoc", b"", headers={"messagetype": "status"})
    assert status == 400
    assert len(sink.got) == before  # none of those reached the gateway


def test_oversized_bodies_are_refused_before_they_are_read(
    api: tuple[Client, Inbox, Sink],
) -> None:
    client, _, sink = api
    host, port = client.server.server.server_address[:2]
    for path, size in (("/sendEdoc", MAX_STATUS_BYTES + 1), ("/getReceivedEdocList", 65 * 1024)):
        conn = http.client.HTTPConnection(str(host), int(port), timeout=10)
        conn.putrequest("POST", path)
        conn.putheader("Authorization", f"Bearer {TOKEN}")
        conn.putheader("messagetype", "status")
        conn.putheader("Content-Length", str(size))
        conn.endheaders()  # the body never comes: the answer must not wait for it
        response = conn.getresponse()
        answer = json.loads(response.read())
        conn.close()
        assert response.status == 413 and answer["status"] == "FAIL", path
    # sent in chunks, without a length, it is cut off at the limit too
    conn = http.client.HTTPConnection(str(host), int(port), timeout=30)
    chunks = (b"x" * (1 << 20) for _ in range(17))
    conn.request("POST", "/sendEdoc", body=chunks, encode_chunked=True,
                 headers={"Authorization": f"Bearer {TOKEN}", "messagetype": "status"})  # fmt: skip
    response = conn.getresponse()
    assert response.status == 413
    conn.close()
    assert sink.got == []


def _tls_client(pki: Pki, name: str | None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(pki.ca))
    if name is not None:
        folder = pki.folder / "other" if name == "stranger" else pki.folder
        context.load_cert_chain(folder / f"{name}.crt", folder / f"{name}.key")
    return context


@pytest.fixture
def mtls(pki: Pki, tmp_path: Path) -> Iterator[tuple[AxisServer, Inbox]]:
    inbox = Inbox(tmp_path / "inbox")
    inbox.put("d1", edxml(1), "DOC-1", INFO)
    settings = ApiSettings(
        listen="127.0.0.1:0",
        cert_file=pki.folder / "central.crt",
        key_file=pki.folder / "central.key",
        client_ca_file=pki.ca,
    )
    server = AxisServer(settings, inbox, Sink())
    server.start()
    yield server, inbox
    server.stop()


def test_mutual_tls_wants_a_certificate_of_the_configured_ca(
    mtls: tuple[AxisServer, Inbox], pki: Pki
) -> None:
    server, _ = mtls
    assert server.url.startswith("https://127.0.0.1:")
    for name in (None, "rogue", "stranger"):  # none; self-signed; of another CA
        client = Client(server, _tls_client(pki, name), token=None)
        with pytest.raises((ssl.SSLError, ConnectionError)):
            client.call("/getEdoc", {"docId": "d1"})
    status, data, _ = Client(server, _tls_client(pki, "dms"), token=None).call(
        "/getEdoc", {"docId": "d1"}
    )
    assert (status, data) == (200, edxml(1))
    # the server still serves after the refusals
    listed = Client(server, _tls_client(pki, "dms"), token=None).json("/getReceivedEdocList")
    assert [i["id"] for i in listed["data"]] == ["d1"]


def test_tls_and_token_together(pki: Pki, tmp_path: Path) -> None:
    inbox = Inbox(tmp_path / "inbox")
    inbox.put("d1", edxml(1), "DOC-1", INFO)
    settings = ApiSettings(
        listen="127.0.0.1:0",
        token_file=_token_file(tmp_path),
        cert_file=pki.folder / "central.crt",
        key_file=pki.folder / "central.key",
        client_ca_file=pki.ca,
    )
    server = AxisServer(settings, inbox, Sink())
    server.start()
    try:
        context = _tls_client(pki, "dms")
        assert Client(server, context, token=None).call("/getEdoc", {"docId": "d1"})[0] == 401
        assert Client(server, context).call("/getEdoc", {"docId": "d1"})[:2] == (200, edxml(1))
        with pytest.raises((ssl.SSLError, ConnectionError)):
            Client(server, _tls_client(pki, None)).call("/getEdoc", {"docId": "d1"})
    finally:
        server.stop()


def test_check_never_opens_the_api(pki: Pki, tmp_path: Path) -> None:
    token = _token_file(tmp_path)
    cert, key = pki.folder / "central.crt", pki.folder / "central.key"
    refused = {
        "neither a token nor a client CA": ApiSettings(),
        "not loopback without TLS": ApiSettings(listen="0.0.0.0:8780", token_file=token),
        "client CA without a server certificate": ApiSettings(client_ca_file=pki.ca),
        "a certificate without its key": ApiSettings(token_file=token, cert_file=cert),
        "a listen address that is not one": ApiSettings(listen="dms.example:80", token_file=token),
        "a token file that is not there": ApiSettings(token_file=tmp_path / "missing"),
        "a key that is not the certificate's": ApiSettings(
            token_file=token, cert_file=cert, key_file=pki.folder / "dms.key"
        ),
    }
    for why, settings in refused.items():
        with pytest.raises(ConfigError) as caught:
            settings.check()
        assert caught.value.message_vi != caught.value.message_en, why
    (tmp_path / "short").mkdir()
    short = _token_file(tmp_path / "short", "abc")
    with pytest.raises(ConfigError, match="at least 16"):
        ApiSettings(token_file=short).check()
    token.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        ApiSettings(token_file=token).check()
    token.chmod(0o600)
    # what is allowed: a token on loopback; TLS (with a token or a client CA) anywhere
    ApiSettings(token_file=token).check()
    ApiSettings(listen="0.0.0.0:8780", token_file=token, cert_file=cert, key_file=key).check()
    ApiSettings(listen="[::]:8780", cert_file=cert, key_file=key, client_ca_file=pki.ca).check()
    # and the token never shows in what check() says
    with pytest.raises(ConfigError) as caught:
        ApiSettings(listen="0.0.0.0:1", token_file=token).check()
    assert TOKEN not in caught.value.user_message()
    assert token.stat().st_mode & 0o777 == 0o600
