"""The hand-off to the agency's DMS (docs/integration.md), over a real mosquitto:
the station's uplink delivers, the receiver writes edXML into the inbox, a DMS
answers through the answers folder and the station records the statuses."""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pytest

from station.central.agencies import Agency, Directory, name_key
from station.central.dms import UNREAD, DmsHandOff, entry_id, marks
from station.central.receiver import Receiver
from station.central.settings import DmsSettings, load_dms
from station.demo.dms import DmsStandIn
from station.edxml import (
    DocumentMessage,
    Organ,
    ResponseFor,
    StatusMessage,
    read_message,
    status_bytes,
    validate,
)
from station.errors import ConfigError
from station.store import Store
from station.uplink.sender import Uplink
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto
from tests.helpers.cli import scanstation
from tests.helpers.wait import until

TOKEN = "a3f9c2e8b7d6a5f4e3d2c1b0a9f8e7d6"
AGENCY = {"organ_id": "000.00.00.H99", "name": "Viện kiểm sát nhân dân tỉnh Thanh Hóa"}
SO_TU_PHAP = Agency("000.00.12.H99", "Sở Tư pháp tỉnh Thanh Hóa", "UBND tỉnh Thanh Hóa")
METADATA: dict[str, Any] = {
    "created_at": "2026-11-24T10:00:00Z",
    "TypeName": "Công văn",
    "CodeNumber": "1234",
    "CodeNotation": "STP-VP",
    "IssuedDate": "2026-11-20",
    "OrganName": "Sở Tư pháp tỉnh Thanh Hoá",  # the new tone placement of the directory's
    "Subject": "góp ý dự thảo Quy chế phối hợp",
    "PageAmount": 2,
    "SignerCompetence": "KT. GIÁM ĐỐC",
    "SignerPosition": "PHÓ GIÁM ĐỐC",
    "SignerName": "Lê Văn Bình",
    "ToPlaces": ["Như trên", "Lưu: VT"],
    "Addressees": ["Viện kiểm sát nhân dân tỉnh Thanh Hóa"],
    "Language": "vi",
    "Priority": "Thượng khẩn",
    "Registration": "DEN-2026-000042",
    "ArrivalNumber": 42,
    "ArrivalDate": "2026-11-24",
}


@dataclass
class Desk:
    """A station's store and uplink, and the central receiver with its hand-off."""

    store: Store
    dms: DmsHandOff
    inbox: Path
    broker: Mosquitto

    def deliver(self, doc_id: str, metadata: dict[str, Any], body: bytes = b"") -> None:
        pdf = self.store.data_dir / f"{doc_id}.pdf"
        pdf.write_bytes(body or b"%PDF-1.7 " + doc_id.encode() + bytes(range(256)) * 40)
        self.store.outbox.enqueue(doc_id, pdf, metadata, 65536)
        until(lambda: self.store.outbox.item(doc_id).state == "received")

    def answer(self, name: str, message: StatusMessage) -> Path:
        answers = self.inbox / "answers"
        answers.mkdir(exist_ok=True)
        (answers / f".{name}.tmp").write_bytes(status_bytes(message))
        (answers / f".{name}.tmp").replace(answers / name)
        return answers / name

    def message(self, station: str, doc_id: str) -> DocumentMessage:
        found = read_message((self.inbox / f"{entry_id(station, doc_id)}.edxml").read_bytes())
        assert isinstance(found, DocumentMessage)
        return found


def _settings(tmp_path: Path, api: dict[str, Any] | None = None) -> DmsSettings:
    directory = tmp_path / "agencies.json"
    directory.write_text(
        json.dumps(
            [
                {
                    "organ_id": SO_TU_PHAP.organ_id,
                    "name": SO_TU_PHAP.name,
                    "in_charge": SO_TU_PHAP.in_charge,
                    "aliases": ["Sở Tư pháp Thanh Hóa"],
                }
            ],
            ensure_ascii=False,
        ),
        encoding="utf-8",
    )
    return DmsSettings.model_validate(
        {
            "agency": AGENCY,
            "edxml": {"inbox": str(tmp_path / "inbox"), "directory": str(directory)},
            "api": api,
        }
    )


@pytest.fixture
def desk(broker: Mosquitto, tmp_path: Path) -> Iterator[Desk]:
    central = Connection(broker.url, "central-1", clean_start=True)
    token = tmp_path / "api.token"
    token.write_text(TOKEN + "\n", encoding="utf-8")
    token.chmod(0o600)
    dms = DmsHandOff(
        _settings(tmp_path, api={"listen": "127.0.0.1:0", "token_file": token}), central
    )
    receiver = Receiver(central, tmp_path / "central", hand_off=dms.gateway.delivered)
    central.start()
    assert central.ready.wait(10)
    dms.start()
    store = Store(tmp_path / "data")
    conn = Connection(broker.url, "st-a")
    uplink = Uplink(store, conn, "st-a", response_timeout_s=5)
    stop = threading.Event()
    thread = threading.Thread(target=uplink.run, args=(stop,), daemon=True)
    conn.start()
    thread.start()
    yield Desk(store, dms, tmp_path / "inbox", broker)
    stop.set()
    thread.join(10)
    conn.stop()
    dms.stop()
    central.stop()
    receiver.stop()
    store.close()


def _status(
    message: DocumentMessage, code: str, why: str = "", organ_id: str = AGENCY["organ_id"]
) -> StatusMessage:
    return StatusMessage(
        sender=Organ(organ_id=organ_id, organ_name=AGENCY["name"]),
        response_for=ResponseFor(
            organ_id=message.sender.organ_id,
            code=f"{message.code_number}/{message.code_notation}",
            promulgation_date=message.promulgation_date,
            document_id=message.document_id,
        ),
        status_code=code,
        description=why,
        timestamp=datetime(2026, 11, 24, 15, 30, 5),
    )


# ------------------------------------------------------------------ documents


def test_a_delivered_document_becomes_an_edxml_message_of_its_fields(desk: Desk) -> None:
    desk.deliver("doc-1", METADATA)
    path = desk.inbox / "st-a.doc-1.edxml"
    data = path.read_bytes()
    validate(data)  # our XSD, docs/edxml/
    message = desk.message("st-a", "doc-1")
    # the sender as read, its OrganId from the directory (the name's tone placement aside)
    assert message.sender.organ_id == SO_TU_PHAP.organ_id
    assert message.sender.organ_name == SO_TU_PHAP.name
    assert [(o.organ_id, o.organ_name) for o in message.to] == [tuple(AGENCY.values())]
    assert (message.code_number, message.code_notation) == ("1234", "STP-VP")
    assert message.promulgation_date == date(2026, 11, 20)
    assert (message.type_name, message.subject) == ("Công văn", METADATA["Subject"])
    assert message.signer.full_name == "Lê Văn Bình"
    assert message.signer.competence == "KT. GIÁM ĐỐC"
    assert message.to_places == ("Như trên", "Lưu: VT")
    assert (message.priority, message.page_amount) == (2, 2)  # Thượng khẩn
    assert message.document_id == "000.00.12.H99,2026/11/20,1234/STP-VP"
    assert message.business.doc_type == 0 and message.business.paper == 1
    assert [t.organ_id for t in message.traces] == [AGENCY["organ_id"]]
    (attachment,) = message.attachments
    assert attachment.data == (desk.store.data_dir / "doc-1.pdf").read_bytes()
    assert "Số đến: 42" in attachment.description
    assert "Ngày đến: 24/11/2026" in attachment.description
    # the inbox's record for the API: the register entry and the station's ids
    entry = desk.dms.inbox.entry("st-a.doc-1")
    assert entry.info["arrival_number"] == 42 and entry.info["doc_id"] == "doc-1"
    # written once: the document announced again changes nothing
    before = path.read_bytes()
    desk.dms.gateway.delivered("st-a", "doc-1", {**METADATA, "sha256": "x"}, path)
    assert path.read_bytes() == before


def test_an_unknown_sender_has_no_organ_id_and_a_document_id_of_its_own(desk: Desk) -> None:
    """A name the directory does not list exactly gets no OrganId (a wrong one
    files the document under another agency), and the DocumentId is a UUID."""
    desk.deliver("doc-2", {**METADATA, "OrganName": "Sở Tư pháp tỉnh Nghệ An", "CodeNumber": None})
    message = desk.message("st-a", "doc-2")
    assert message.sender.organ_id == ""
    assert message.sender.organ_name == "Sở Tư pháp tỉnh Nghệ An"
    assert message.code_number == ""
    assert len(message.document_id) == 36 and message.document_id.count("-") == 4


def test_what_the_clerk_left_empty_or_too_long_is_never_made_up(desk: Desk) -> None:
    """edXML wants an issuer, a type and a subject: without them the message
    says "(chưa xác định)"; a number longer than the element allows is left
    out (a cut number is a wrong one), free text is cut visibly."""
    unread = {**METADATA, "OrganName": None, "TypeName": None, "Subject": "",
              "CodeNumber": "123456789012", "SignerPosition": "P" * 150}  # fmt: skip
    desk.deliver("doc-4", unread)
    data = (desk.inbox / "st-a.doc-4.edxml").read_bytes()
    validate(data)
    message = desk.message("st-a", "doc-4")
    assert message.sender.organ_name == UNREAD and message.sender.organ_id == ""
    assert (message.type_name, message.subject, message.content) == (UNREAD, UNREAD, "")
    assert message.code_number == "" and message.code_notation == "STP-VP"
    assert message.signer.position == "P" * 99 + "…"


def test_an_outgoing_document_goes_from_us_to_the_recipients_the_directory_knows(
    desk: Desk,
) -> None:
    """A document this agency signed and sends (docs/outgoing.md): From is our
    agency, To every recipient of Kính gửi and Nơi nhận the directory lists,
    the others stay in ToPlaces; none known: To is our own agency."""
    ours = {
        **{k: v for k, v in METADATA.items() if not k.startswith("Arrival")},
        "Direction": "outgoing",
        "OrganName": AGENCY["name"],
        "CodeNumber": "45",
        "CodeNotation": "VKS-VP",
        "Addressees": ["Sở Tư pháp tỉnh Thanh Hóa"],
        "ToPlaces": ["Như trên", "Sở Tư pháp Thanh Hóa", "Lưu: VT, VP"],
        "Registration": None,
    }
    desk.deliver("out-1", ours)
    data = (desk.inbox / "st-a.out-1.edxml").read_bytes()
    validate(data)
    message = desk.message("st-a", "out-1")
    assert (message.sender.organ_id, message.sender.organ_name) == tuple(AGENCY.values())
    # named twice (Kính gửi, and an alias in Nơi nhận): one To
    assert [(o.organ_id, o.organ_name) for o in message.to] == [
        (SO_TU_PHAP.organ_id, SO_TU_PHAP.name)
    ]
    assert message.to_places == ("Như trên", "Sở Tư pháp Thanh Hóa", "Lưu: VT, VP")
    assert message.document_id == "000.00.00.H99,2026/11/20,45/VKS-VP"
    assert message.business.paper == 1
    assert "Số đến" not in message.attachments[0].description
    info = desk.dms.inbox.entry("st-a.out-1").info
    assert (info["from"], info["to"], info["direction"]) == (
        AGENCY["organ_id"], SO_TU_PHAP.organ_id, "outgoing",
    )  # fmt: skip
    unknown = {**ours, "CodeNumber": "46", "Addressees": [], "ToPlaces": ["Lưu: VT"]}
    desk.deliver("out-2", unknown)
    message = desk.message("st-a", "out-2")
    assert [o.organ_id for o in message.to] == [AGENCY["organ_id"]]


def test_a_secret_document_is_never_handed_to_the_dms(desk: Desk) -> None:
    desk.deliver("doc-3", {**METADATA, "Priority": "Mật, Khẩn"})
    assert not (desk.inbox / "st-a.doc-3.edxml").exists()
    assert marks("Tối mật") == (True, 0) and marks("Hỏa tốc") == (False, 3)


# ------------------------------------------------------------------ statuses


def test_statuses_from_the_dms_reach_the_station_in_order(desk: Desk) -> None:
    desk.deliver("doc-1", METADATA)
    message = desk.message("st-a", "doc-1")
    stand_in = DmsStandIn(desk.inbox, Organ(AGENCY["organ_id"], AGENCY["name"]), step_s=0.2)
    stand_in.start()
    try:
        until(lambda: desk.store.outbox.item("doc-1").status == "06")
    finally:
        stand_in.stop()
    statuses = [r["status"] for r in desk.store.outbox.receipts("doc-1")]
    assert statuses == ["01", "03", "04", "05", "06"]
    last = desk.store.outbox.receipts("doc-1")[-1]["payload"]
    assert last["description"] == "Đã xử lý xong" and last["from"] == AGENCY["name"]
    assert "Nguyễn Thị Lan" in last["staff"]
    # each file is filed once its status is handled: after the station has it
    until(lambda: len(list((desk.inbox / "answers" / "done").glob("*.edxml"))) == 4)
    assert message.document_id  # the stand-in answered the DocumentId we wrote


def _api(desk: Desk, path: str, body: bytes, **headers: str) -> tuple[int, bytes]:
    assert desk.dms.url is not None
    request = urllib.request.Request(  # noqa: S310 (the API on loopback)
        f"{desk.dms.url}{path}",
        data=body,
        method="POST",
        headers={"Authorization": f"Bearer {TOKEN}", **headers},
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310
            return answer.status, answer.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_a_dms_polling_the_api_lists_fetches_and_answers(desk: Desk) -> None:
    """The axis-style route end to end: list, fetch, acknowledge, send a status."""
    desk.deliver("doc-1", METADATA)
    status, body = _api(desk, "/getReceivedEdocList", b"{}", messagetype="edoc")
    listed = json.loads(body)
    assert status == 200 and listed["status"] == "OK"
    (item,) = listed["data"]
    assert (item["id"], item["from"], item["to"]) == (
        "st-a.doc-1",
        SO_TU_PHAP.organ_id,
        AGENCY["organ_id"],
    )
    assert (item["arrival_number"], item["arrival_date"]) == (42, "2026-11-24")
    status, data = _api(desk, "/getEdoc", b"", docId=item["id"])
    message = read_message(data)
    assert status == 200 and isinstance(message, DocumentMessage)
    _api(desk, "/updateStatus", b"", docId=item["id"], status="done")
    assert json.loads(_api(desk, "/getReceivedEdocList", b"{}")[1])["data"] == []
    answer = status_bytes(_status(message, "04", "Giao Phòng 2"))
    status, body = _api(desk, "/sendEdoc", answer, messagetype="status")
    assert status == 200, body
    until(lambda: desk.store.outbox.item("doc-1").status == "04")
    forged = status_bytes(_status(message, "06", organ_id="000.00.00.G22"))
    status, body = _api(desk, "/sendEdoc", forged, messagetype="status")
    assert status == 422 and "not the agency's DMS" in json.loads(body)["ErrorDesc"]
    assert desk.store.outbox.item("doc-1").status == "04"


def test_a_rejection_reaches_the_clerk_with_its_reason(desk: Desk) -> None:
    desk.deliver("doc-1", METADATA)
    message = desk.message("st-a", "doc-1")
    desk.answer("tu-choi.edxml", _status(message, "02", "Thiếu trang 2, đề nghị quét lại"))
    until(lambda: desk.store.outbox.item("doc-1").status == "02")
    payload = desk.store.outbox.receipts("doc-1")[-1]["payload"]
    assert payload["description"] == "Thiếu trang 2, đề nghị quét lại"
    # the edXML time (Vietnam's, without an offset) as UTC
    assert payload["at"] == "2026-11-24T08:30:05+00:00"
    assert payload["sha256"] == desk.store.outbox.item("doc-1").sha256


@pytest.mark.parametrize(
    ("change", "why"),
    [
        ({"organ_id": "000.00.00.G22"}, "not the agency's DMS"),
        ({"document_id": "000.00.00.G22,2026/01/01,1/XX"}, "not a document delivered here"),
        ({"code": "13"}, "is not one the station takes"),
    ],
)
def test_a_status_that_does_not_answer_our_document_is_refused(
    desk: Desk, change: dict[str, str], why: str
) -> None:
    desk.deliver("doc-1", METADATA)
    message = desk.message("st-a", "doc-1")
    status = _status(
        message, change.get("code", "03"), organ_id=change.get("organ_id", AGENCY["organ_id"])
    )
    if "document_id" in change:
        status = StatusMessage(
            sender=status.sender,
            response_for=ResponseFor("x", "1/XX", None, change["document_id"]),
            status_code="03",
            description="",
            timestamp=status.timestamp,
        )
    desk.answer("wrong.edxml", status)
    refused = desk.inbox / "answers" / "refused" / "wrong.edxml"
    until((refused.parent / "wrong.edxml.why.txt").exists)  # filed with its reason last
    reason = (refused.parent / "wrong.edxml.why.txt").read_text(encoding="utf-8")
    assert why in reason
    assert [r["status"] for r in desk.store.outbox.receipts("doc-1")] == ["01"]


def test_a_file_that_is_not_edxml_is_refused_with_its_reason(desk: Desk) -> None:
    answers = desk.inbox / "answers"
    answers.mkdir(exist_ok=True)
    (answers / "junk.edxml").write_bytes(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x/>')
    refused = answers / "refused" / "junk.edxml"
    until((refused.parent / "junk.edxml.why.txt").exists)  # filed with its reason last
    assert refused.exists()
    assert "not a readable edXML message" in (answers / "refused" / "junk.edxml.why.txt").read_text(
        encoding="utf-8"
    )


# ------------------------------------------------------------------ answers to a rejection


def test_an_update_and_a_replacement_name_the_rejected_document(desk: Desk) -> None:
    desk.deliver("doc-1", METADATA)
    rejected = desk.message("st-a", "doc-1")
    update = {**METADATA, "Subject": "góp ý dự thảo Quy chế phối hợp liên ngành"}
    update["Supersedes"] = {"doc_id": "doc-1", "how": "update", "reason": "Sai trích yếu"}
    desk.deliver("doc-1-r1", update)
    message = desk.message("st-a", "doc-1-r1")
    assert message.business.doc_type == 2
    assert message.business.document_id == rejected.document_id
    assert message.business.reason == "Sai trích yếu"
    assert message.document_id != rejected.document_id  # a new message, its own id
    replace = {**METADATA, "Supersedes": {"doc_id": "doc-1", "how": "replace", "reason": "x"}}
    desk.deliver("doc-9", replace)
    replacement = desk.message("st-a", "doc-9").business
    assert replacement.doc_type == 3
    assert [(r.document_id, r.organ_ids) for r in replacement.replacements] == [
        (rejected.document_id, (AGENCY["organ_id"],))
    ]
    for doc_id in ("doc-1-r1", "doc-9"):
        validate((desk.inbox / f"st-a.{doc_id}.edxml").read_bytes())


# ------------------------------------------------------------------ the directory and the config


def test_names_match_whatever_the_tone_placement_never_by_likeness(tmp_path: Path) -> None:
    assert name_key("Ủy ban nhân dân  tỉnh Thanh Hóa") == name_key("UỶ BAN NHÂN DÂN TỈNH THANH HOÁ")
    assert name_key("Sở Tư pháp") != name_key("Sở Tư Pháp tỉnh")
    csv = tmp_path / "agencies.csv"
    csv.write_text(
        "organ_id,name,in_charge,aliases\n"
        "000.00.12.H99,Sở Tư pháp tỉnh Thanh Hóa,,STP Thanh Hóa\n"
        "000.00.13.H99,Sở Tài chính tỉnh Thanh Hóa,,\n"
        "000.00.14.H99,Sở Tài chính tỉnh Thanh Hóa,,\n",
        encoding="utf-8",
    )
    directory = Directory.load(csv)
    found = directory.find("STP Thanh Hoá")
    assert found is not None and found.organ_id == "000.00.12.H99"
    assert directory.find("Sở Tư pháp tỉnh Thanh") is None
    assert directory.find("Sở Tài chính tỉnh Thanh Hóa") is None  # listed twice: neither
    csv.write_text("id,name\n1,x\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="organ_id and name"):
        Directory.load(csv)


def test_the_dms_config_names_the_line_and_the_fix(tmp_path: Path) -> None:
    path = tmp_path / "dms.toml"
    path.write_text(
        '[agency]\norgan_id = "000.00.00.H99"\nname = "VKSND tỉnh Thanh Hóa"\n\n'
        '[edxml]\ninbox = "/srv/inbox"\nzip_attachment = true\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as caught:
        load_dms(path)
    assert f"{path}:7: unknown key 'edxml.zip_attachment'" in str(caught.value)
    assert "did you mean 'zip_attachments'" in str(caught.value)
    path.write_text(
        '[agency]\norgan_id = "000.00.00.H99"\nname = "VKSND"\n[edxml]\ninbox = "/srv/i"\n',
        encoding="utf-8",
    )
    settings = load_dms(path)
    assert settings.dms_organ_ids == ("000.00.00.H99",) and settings.api is None


def test_the_receiver_refuses_the_dms_under_another_topic_root(tmp_path: Path) -> None:
    """``receiver --dms`` with ``--topic-root`` of the receiver of secret
    documents: refused at start (exit 3, the config error), saying why and the
    fix in Vietnamese and English, before it makes a folder or connects."""
    dms = tmp_path / "dms.toml"
    dms.write_text(
        '[agency]\norgan_id = "000.00.00.H99"\nname = "VKSND tỉnh Thanh Hóa"\n'
        f'[edxml]\ninbox = "{tmp_path / "inbox"}"\n',
        encoding="utf-8",
    )
    out = tmp_path / "out"
    done = scanstation(
        "receiver", "--broker", "mqtt://127.0.0.1:9", "--out", str(out), "--dms", str(dms),
        "--topic-root", "vks-mat/v1", timeout=60,
    )  # fmt: skip
    assert done.returncode == 3, done.stderr
    assert "--dms cùng --topic-root vks-mat/v1: văn bản mật không chuyển sang" in done.stderr
    assert "secret documents are not handed to the DMS" in done.stderr
    assert "run the receiver of secret documents without --dms" in done.stderr
    assert "Traceback" not in done.stderr and done.stdout == ""
    assert not out.exists() and not (tmp_path / "inbox").exists()
    # under the stations' own root the DMS is handed its documents
    hand_off = DmsHandOff(load_dms(dms), Connection("mqtt://127.0.0.1:9", "t"), "scanstation/v1")
    assert hand_off.inbox.folder == tmp_path / "inbox" and hand_off.url is None


def test_the_example_dms_config_is_valid() -> None:
    settings = load_dms(Path(__file__).parent.parent / "firmware_config" / "dms.example.toml")
    assert settings.agency.organ_id == "000.00.00.H99" and settings.api is not None
    assert settings.dms_organ_ids == (settings.agency.organ_id,)
