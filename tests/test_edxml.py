"""edXML (QCVN 102:2016): what the station writes validates against its XSD and
reads back equal; messages in the shapes public samples show are read; hostile
ones are refused with an EdxmlError."""

from __future__ import annotations

import base64
import io
import re
import time
import unicodedata
import zipfile
from dataclasses import fields, is_dataclass, replace
from datetime import UTC, date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from station import edxml
from station.edxml import (
    DOC_REPLACE,
    DOC_REVOKE,
    DOC_UPDATE,
    MAX_LENGTHS,
    NAMESPACE,
    SCHEMA,
    STATUS_CODES,
    Attachment,
    Business,
    DocumentMessage,
    EdxmlError,
    Organ,
    Receiver,
    Replacement,
    ResponseFor,
    Signer,
    StaffInfo,
    StatusMessage,
    Trace,
    composite_document_id,
    document_bytes,
    read_message,
    status_bytes,
    validate,
)
from station.edxml.text import for_wire
from station.errors import InputError

VPCP = Organ(
    "000.00.00.G22",
    "Văn phòng Chính phủ",
    in_charge="Chính phủ",
    address="16 Lê Hồng Phong, Ba Đình, Hà Nội",
    email="vpcp@chinhphu.vn",
    telephone="080 43162",
    fax="080 44130",
    website="chinhphu.vn",
)
NGHE_AN = Organ("000.00.00.H41", "UBND tỉnh Nghệ An", in_charge="UBND Tỉnh Nghệ An")
CAO_BANG = Organ("000.00.00.H14", "UBND tỉnh Cao Bằng")
#: a PDF-looking file, compressible like a real one
PDF = b"%PDF-1.4\n" + b"1 0 obj << /Type /Catalog >> endobj\n" * 200 + b"%%EOF\n"
DOC_ID = composite_document_id("000.00.00.G22", date(2015, 9, 30), "7816", "VPCP-TTĐT")


def _document(**changes: object) -> DocumentMessage:
    message = DocumentMessage(
        sender=VPCP,
        to=(NGHE_AN, CAO_BANG),
        document_id=DOC_ID,
        code_number="7816",
        code_notation="VPCP-TTĐT",
        place="Hà Nội",
        promulgation_date=date(2015, 9, 30),
        type_name="Công văn",
        subject="V/v kết nối liên thông văn bản điện tử",
        type_detail=0,
        content="V/v kết nối liên thông văn bản điện tử",
        signer=Signer("KT. BỘ TRƯỞNG, CHỦ NHIỆM", "PHÓ CHỦ NHIỆM", "Nguyễn Văn Tám"),
        due_date=date(2015, 10, 15),
        to_places=("Như trên;", "Lưu: VT, TTĐT (2b)."),
        priority=1,
        sphere="Liên thông văn bản quốc gia",
        typer_notation="TVC",
        promulgation_amount=2,
        page_amount=22,
        appendixes=("Phụ lục I: Danh sách đơn vị",),
        response_for=(ResponseFor("000.00.00.H41", "15/UBND-VX", date(2015, 9, 1), "abc-1"),),
        steering_type=1,
        traces=(Trace("000.00.00.G22", datetime(2015, 9, 30, 14, 5, 9)),),
        business=Business(staff=StaffInfo("Văn thư", "Trần Thị Hoa", "0912345678", "vt@x.vn")),
        attachments=(
            Attachment("1", "7816-VPCP-TTĐT.pdf", "application/pdf", PDF, "Văn bản"),
            Attachment("cid:2", "phu-luc.pdf", "application/pdf", PDF[:300], "Phụ lục"),
        ),
    )
    return replace(message, **changes)  # type: ignore[arg-type]


def _status(code: str) -> StatusMessage:
    return StatusMessage(
        sender=NGHE_AN,
        response_for=ResponseFor("000.00.00.G22", "7816/VPCP-TTĐT", date(2015, 9, 30), DOC_ID),
        status_code=code,
        description="Văn bản thiếu trang 3" if code in ("02", "13", "16") else "",
        timestamp=datetime(2015, 10, 1, 8, 30, 0),
        staff=StaffInfo("Văn phòng", "Lê Văn An", "0987654321", "an@nghean.gov.vn"),
    )


def _local_names(data: bytes, parent: str) -> list[str]:
    root = etree.fromstring(data, etree.XMLParser(huge_tree=True))
    (node,) = root.iter(f"{{{NAMESPACE}}}{parent}")
    return [etree.QName(child).localname for child in node]


# -- writing ---------------------------------------------------------------


@pytest.mark.parametrize("zipped", [True, False], ids=["zipped", "raw"])
def test_a_document_round_trips_through_the_xsd(zipped: bool) -> None:
    message = _document()
    data = document_bytes(message, zip_attachments=zipped)
    validate(data)
    assert read_message(data) == message


@pytest.mark.parametrize("code", sorted(STATUS_CODES))
def test_every_status_round_trips_through_the_xsd(code: str) -> None:
    message = _status(code)
    data = status_bytes(message)
    validate(data)
    assert read_message(data) == message
    assert _local_names(data, "MessageHeader") == [
        "From", "ResponseFor", "StaffInfo", "StatusCode", "Description", "Timestamp",
    ]  # fmt: skip
    assert f"<edXML:StatusCode>{code}</edXML:StatusCode>".encode() in data
    assert b"AttachmentEncoded" not in data and b"TraceHeaderList" not in data


def test_an_update_and_a_replacement_round_trip() -> None:
    update = _document(
        business=Business(
            doc_type=DOC_UPDATE,
            reason="Sửa trích yếu",
            document_id=DOC_ID,
            document_info_changed=True,
            receivers_changed=True,
            receivers=(Receiver("000.00.00.H14", 0), Receiver("000.00.00.H53", 1)),
        )
    )
    data = document_bytes(update)
    validate(data)
    assert read_message(data) == update
    assert _local_names(data, "Bussiness") == [
        "DocumentId", "BussinessDocType", "BussinessDocReason", "Paper", "BussinessDocumentInfo",
    ]  # fmt: skip
    replacement = _document(
        business=Business(
            doc_type=DOC_REPLACE,
            reason="Thay văn bản ban hành nhầm",
            document_id=DOC_ID,
            paper=0,
            replacements=(Replacement(DOC_ID, ("000.00.00.H41", "000.00.00.H14")),),
            staff=StaffInfo(staff="Trần Thị Hoa"),
        )
    )
    data = document_bytes(replacement)
    validate(data)
    assert read_message(data) == replacement
    assert _local_names(data, "Bussiness")[-2:] == ["ReplacementInfoList", "StaffInfo"]
    revocation = _document(business=Business(doc_type=DOC_REVOKE, reason="Ban hành nhầm"))
    assert read_message(document_bytes(revocation)) == revocation


#: what OCR and clerks type: Vietnamese in both forms, blanks, controls, markup
_TEXT = st.text(
    st.sampled_from([*"aăâđeêoôơuưyAĐ019 /-,.&<>\"'\t\n\r\x0c\x01\u0301\u0323\u00a0", "ệ"]),
    max_size=10,
)
_NAME = st.text(st.sampled_from([*"aăđêơưABĐ019"]), min_size=1, max_size=10)
_DAY = st.dates(date(1, 1, 1), date(9999, 12, 31))
_TIME = st.datetimes(datetime(1, 1, 1), datetime(9999, 12, 31)).map(
    lambda t: t.replace(microsecond=0)
)
_ORGAN = st.builds(Organ, _TEXT, _NAME, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT, _TEXT)
_STAFF = st.builds(StaffInfo, _TEXT, _TEXT, _TEXT, _TEXT)
_RESPONSE = st.builds(ResponseFor, _TEXT, _TEXT, st.none() | _DAY, _TEXT)
_SMALL = st.none() | st.integers(0, 65535)


def _cleaned(value: object) -> object:
    """A model as the wire keeps it: every text as the writer writes it."""
    if isinstance(value, str):
        return for_wire(value)
    if isinstance(value, tuple):
        return tuple(_cleaned(v) for v in value)
    if is_dataclass(value) and not isinstance(value, type):
        changes = {f.name: _cleaned(getattr(value, f.name)) for f in fields(value)}
        return replace(value, **changes)
    return value


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    message=st.builds(
        DocumentMessage,
        sender=_ORGAN,
        to=st.lists(_ORGAN, min_size=1, max_size=3).map(tuple),
        document_id=_NAME,
        code_number=_TEXT,
        code_notation=_TEXT,
        place=_TEXT,
        promulgation_date=st.none() | _DAY,
        type_name=_NAME,
        subject=_NAME,
        doc_type=st.integers(1, 2),
        type_detail=_SMALL,
        content=_TEXT,
        signer=st.builds(Signer, _TEXT, _TEXT, _TEXT),
        due_date=st.none() | _DAY,
        to_places=st.lists(_TEXT, max_size=3).map(tuple),
        priority=st.integers(0, 4),
        sphere=_TEXT,
        typer_notation=_TEXT,
        promulgation_amount=_SMALL,
        page_amount=_SMALL,
        appendixes=st.lists(_TEXT, max_size=2).map(tuple),
        response_for=st.lists(_RESPONSE, max_size=2).map(tuple),
        steering_type=st.integers(0, 2),
        traces=st.lists(st.builds(Trace, _TEXT, _TIME), max_size=2).map(tuple),
        business=st.builds(
            Business,
            doc_type=st.integers(0, 3),
            reason=_TEXT,
            document_id=_TEXT,
            paper=st.integers(0, 1),
            staff=st.none() | _STAFF,
            document_info_changed=st.booleans(),
            receivers_changed=st.booleans(),
            receivers=st.lists(st.builds(Receiver, _NAME, st.integers(0, 1)), max_size=2).map(
                tuple
            ),
            replacements=st.lists(
                st.builds(Replacement, _NAME, st.lists(_NAME, min_size=1, max_size=2).map(tuple)),
                max_size=2,
            ).map(tuple),
        ),
        attachments=st.lists(
            st.builds(
                Attachment,
                st.just("1"),
                _NAME.map(lambda name: name + ".pdf"),
                st.just("application/pdf"),
                # a file that is itself a zip of many entries (a .docx), or starts like one
                st.binary(max_size=64)
                | st.just(b"PK\x03\x04 not a zip")
                | st.builds(lambda: _two_entries()),
                _TEXT,
            ),
            max_size=1,
        ).map(tuple),
    ),
    zipped=st.booleans(),
)
def test_any_document_round_trips_as_the_wire_keeps_its_text(
    message: DocumentMessage, zipped: bool
) -> None:
    data = document_bytes(message, zip_attachments=zipped)
    validate(data)
    assert read_message(data) == _cleaned(message)


@settings(max_examples=40, deadline=None)
@given(
    message=st.builds(
        StatusMessage,
        _ORGAN,
        _RESPONSE,
        st.sampled_from(sorted(STATUS_CODES)),
        _TEXT,
        _TIME,
        _STAFF,
    )
)
def test_any_status_round_trips_as_the_wire_keeps_its_text(message: StatusMessage) -> None:
    data = status_bytes(message)
    validate(data)
    assert read_message(data) == _cleaned(message)


def test_the_written_document_has_the_shape_of_the_official_samples() -> None:
    data = document_bytes(_document())
    assert data.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\r\n<edXML ')
    assert not data.startswith(b"\xef\xbb\xbf")
    assert b"\n" not in data.replace(b"\r\n", b"")
    root_tag = data.split(b"\r\n")[1]
    assert f'xmlns="{NAMESPACE}"'.encode() in root_tag
    assert f'xmlns:edXML="{NAMESPACE}"'.encode() in root_tag
    for prefixed in (b"edXMLEnvelope", b"MessageHeader", b"TraceHeaderList", b"Bussiness",
                     b"edXMLManifest", b"Reference", b"ContentTransferEncoded"):  # fmt: skip
        assert b"<edXML:" + prefixed in data
    for plain in (b"<AttachmentEncoded>", b"<Attachment>", b"<ContentId>cid:1</ContentId>"):
        assert plain in data
    assert _local_names(data, "MessageHeader") == [
        "From", "To", "To", "DocumentId", "Code", "PromulgationInfo", "DocumentType", "Subject",
        "Content", "SignerInfo", "DueDate", "OtherInfo", "ResponseFor", "SteeringType", "ToPlaces",
    ]  # fmt: skip
    assert _local_names(data, "From") == [
        "OrganId", "OrganizationInCharge", "OrganName", "OrganAdd", "Email", "Telephone", "Fax",
        "Website",
    ]  # fmt: skip
    assert b"<edXML:PromulgationDate>2015/09/30<" in data
    assert b"<edXML:Timestamp>2015/09/30 14:05:09<" in data
    assert b"Signature" not in data
    # attachments: base64 on one line, zipped with one entry, paired by cid:N
    payloads = re.findall(rb"<edXML:ContentTransferEncoded>([^<]*)<", data)
    assert len(payloads) == 2 and all(b"\r" not in p and b"\n" not in p for p in payloads)
    with zipfile.ZipFile(io.BytesIO(base64.b64decode(payloads[0]))) as archive:
        (entry,) = archive.infolist()
        assert entry.filename.endswith(".pdf") and archive.read(entry) == PDF
    assert data.count(b"<edXML:ContentType>application/zip<") == 2
    assert data.count(b"<ContentType>application/zip<") == 2
    assert re.findall(rb"<edXML:ContentId>([^<]*)<", data) == [b"cid:1", b"cid:2"]
    assert document_bytes(_document()) == data, "the same message gives the same bytes"
    raw = document_bytes(_document(), zip_attachments=False)
    assert base64.b64encode(PDF) in raw and b"application/zip" not in raw


def test_an_aware_time_is_written_as_local_wall_time(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TZ", "Asia/Ho_Chi_Minh")
    time.tzset()
    try:
        at = datetime(2024, 5, 2, 1, 30, 0, tzinfo=UTC)
        data = status_bytes(replace(_status("01"), timestamp=at))
    finally:
        monkeypatch.undo()
        time.tzset()
    assert b"<edXML:Timestamp>2024/05/02 08:30:00<" in data


def test_the_writer_writes_nfc_and_drops_what_xml_cannot_carry() -> None:
    decomposed = unicodedata.normalize("NFD", "V/v tăng cường quản lý\x0c")
    data = document_bytes(_document(subject=decomposed))
    assert "V/v tăng cường quản lý".encode() in data
    assert unicodedata.normalize("NFD", "ă").encode() not in data
    validate(data)
    assert read_message(data).subject == "V/v tăng cường quản lý"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("changes", "element"),
    [
        ({"subject": "x" * 501}, "Subject"),
        ({"subject": "  "}, "Subject"),
        ({"code_number": "123456789012"}, "CodeNumber"),
        ({"priority": 5}, "Priority"),
        ({"doc_type": 18}, "Type"),
        ({"to": ()}, "To"),
        ({"sender": Organ("x" * 36, "A")}, "OrganId"),
        ({"attachments": (Attachment("1", "a.pdf", "application/pdf", b""),) * 2}, "ContentId"),
        ({"business": Business(doc_type=4)}, "BussinessDocType"),
    ],
)
def test_the_writer_refuses_what_the_xsd_would(changes: dict[str, object], element: str) -> None:
    with pytest.raises(EdxmlError) as caught:
        document_bytes(_document(**changes))
    assert caught.value.detail["element"] == element
    assert caught.value.message_vi.startswith("Không ghi được edXML")


def test_the_writer_refuses_an_unknown_status_code() -> None:
    with pytest.raises(EdxmlError):
        status_bytes(_status("07"))


def test_the_xsd_lengths_are_the_writers() -> None:
    xs = "{http://www.w3.org/2001/XMLSchema}"
    tree = etree.parse(str(SCHEMA))
    lengths = {
        node.get("name")[2:]: int(node.find(f"{xs}restriction/{xs}maxLength").get("value"))
        for node in tree.iter(f"{xs}simpleType")
        if node.get("name").startswith("t.")
    }
    assert lengths == MAX_LENGTHS


def test_validate_names_the_line_and_the_fault() -> None:
    data = document_bytes(_document()).replace(
        b"<edXML:Priority>1</edXML:Priority>", b"<edXML:Priority>9</edXML:Priority>"
    )
    with pytest.raises(EdxmlError) as caught:
        validate(data)
    line = data[: data.index(b"<edXML:Priority>9")].count(b"\n") + 1
    assert caught.value.detail["line"] == line and "Priority" in caught.value.message_en
    swapped = document_bytes(_document()).replace(b"<edXML:Subject>", b"<edXML:Subjekt>")
    with pytest.raises(EdxmlError, match="Subjekt"):
        validate(swapped.replace(b"</edXML:Subject>", b"</edXML:Subjekt>"))


def test_the_readme_names_every_element_the_writer_writes() -> None:
    readme = (SCHEMA.parent / "README.md").read_text(encoding="utf-8")
    written = set()
    for data in (document_bytes(_document()), status_bytes(_status("02"))):
        root = etree.fromstring(data)
        written |= {etree.QName(node).localname for node in root.iter()}
    update = _document(business=Business(doc_type=DOC_UPDATE, receivers=(Receiver("x", 1),)))
    replacement = _document(business=Business(replacements=(Replacement("d", ("x",)),)))
    for message in (update, replacement):
        written |= {
            etree.QName(n).localname for n in etree.fromstring(document_bytes(message)).iter()
        }
    spans = [span for line in readme.splitlines() for span in re.findall(r"`([^`]+)`", line)]
    named = {word for span in spans for word in re.findall(r"\w+", span)}
    assert sorted(written - named) == []


def test_the_model_keeps_content_ids_without_cid() -> None:
    assert Attachment("cid:209", "a", "b", b"").content_id == "209"
    assert Attachment(" CID:209 ", "a", "b", b"").content_id == "209"
    assert DOC_ID == "000.00.00.G22,2015/09/30,7816/VPCP-TTĐT"
    assert edxml.__all__ and all(hasattr(edxml, name) for name in edxml.__all__)


# -- reading the shapes others write -----------------------------------------

#: spec order (VPCP test file), default namespace only, a raw PDF, base64
#: wrapped at 76 characters, a UUID DocumentId, no Bussiness, a decomposed
#: name, ContentId without cid: on the Attachment side, dd/MM/yyyy dates
SPEC_ORDER = """<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">
 <edXMLEnvelope>
  <edXMLHeader>
   <MessageHeader>
    <From><OrganId>000.00.00.H41</OrganId><OrganName>{name}</OrganName></From>
    <To><OrganId>000.00.00.G22</OrganId><OrganName>Văn phòng Chính phủ</OrganName></To>
    <Code><CodeNumber>15</CodeNumber><CodeNotation>UBND-VX</CodeNotation></Code>
    <PromulgationInfo><Place>Nghệ An</Place><PromulgationDate>30/10/2020</PromulgationDate></PromulgationInfo>
    <DocumentType><Type>1</Type><TypeName>Công văn</TypeName></DocumentType>
    <Subject>V/v báo cáo</Subject>
    <Content>V/v báo cáo</Content>
    <SignerInfo><Competence>TM. UBND</Competence><Position>CHỦ TỊCH</Position><FullName>Nguyễn Xuân</FullName></SignerInfo>
    <DueDate></DueDate>
    <ToPlaces><Place>Như trên</Place><Place>Lưu VT</Place></ToPlaces>
    <OtherInfo><Priority>2</Priority><SphereOfPromulgation/><TyperNotation>NX</TyperNotation><PromulgationAmount>1</PromulgationAmount><PageAmount>3</PageAmount></OtherInfo>
    <SteeringType>0</SteeringType>
    <DocumentId>9b2f6c0e-3d41-4a55-9c77-1f2e3d4c5b6a</DocumentId>
   </MessageHeader>
   <TraceHeaderList><TraceHeader><OrganId>000.00.00.H41</OrganId><Timestamp>2020/10/30 09:15:00</Timestamp></TraceHeader></TraceHeaderList>
  </edXMLHeader>
  <edXMLBody><edXMLManifest version="1.0">
   <Reference><ContentId>cid:209</ContentId><ContentType>application/pdf</ContentType><Description/><AttachmentName>bao-cao.pdf</AttachmentName></Reference>
  </edXMLManifest></edXMLBody>
 </edXMLEnvelope>
 <AttachmentEncoded>
  <Attachment><ContentId>209</ContentId><AttachmentName>bao-cao.pdf</AttachmentName><ContentType>application/pdf</ContentType>
   <ContentTransferEncoded>{payload}</ContentTransferEncoded>
  </Attachment>
 </AttachmentEncoded>
</edXML>
"""


def test_a_message_in_spec_order_with_a_raw_wrapped_attachment_is_read() -> None:
    wrapped = base64.encodebytes(PDF).decode()
    name = unicodedata.normalize("NFD", "UBND tỉnh Nghệ An")
    data = SPEC_ORDER.format(name=name, payload=wrapped).replace("\n", "\r\n").encode()
    message = read_message(data)
    assert isinstance(message, DocumentMessage)
    assert message.sender == Organ("000.00.00.H41", "UBND tỉnh Nghệ An")
    assert message.document_id == "9b2f6c0e-3d41-4a55-9c77-1f2e3d4c5b6a"
    assert message.promulgation_date == date(2020, 10, 30) and message.due_date is None
    assert message.to_places == ("Như trên", "Lưu VT") and message.priority == 2
    assert (message.promulgation_amount, message.page_amount) == (1, 3)
    assert message.business == Business()
    assert message.traces == (Trace("000.00.00.H41", datetime(2020, 10, 30, 9, 15)),)
    assert message.attachments == (Attachment("209", "bao-cao.pdf", "application/pdf", PDF),)


#: the official samples' shape (prefix edXML, Signature unprefixed), with the
#: Bussiness part of an update or a replacement, no attachment
OPERATION = """<?xml version="1.0" encoding="UTF-8"?>
<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016" xmlns:edXML="http://www.mic.gov.vn/TBT/QCVN_102_2016">
  <edXML:edXMLEnvelope>
    <edXML:edXMLHeader>
      <edXML:MessageHeader>
        <edXML:From><edXML:OrganId>000.00.00.G22</edXML:OrganId><edXML:OrganizationInCharge/><edXML:OrganName>Văn phòng Chính phủ</edXML:OrganName><edXML:OrganAdd/><edXML:Email/><edXML:Telephone/><edXML:Fax/><edXML:Website/></edXML:From>
        <edXML:To><edXML:OrganId>000.00.00.H41</edXML:OrganId><edXML:OrganName>UBND tỉnh Nghệ An</edXML:OrganName></edXML:To>
        <edXML:DocumentId>000.00.00.G22,2019/01/16,120/VPCP-KSTT</edXML:DocumentId>
        <edXML:Code><edXML:CodeNumber>120</edXML:CodeNumber><edXML:CodeNotation>VPCP-KSTT</edXML:CodeNotation></edXML:Code>
        <edXML:PromulgationInfo><edXML:Place>Hà Nội</edXML:Place><edXML:PromulgationDate>2019/01/16</edXML:PromulgationDate></edXML:PromulgationInfo>
        <edXML:DocumentType><edXML:Type>1</edXML:Type><edXML:TypeDetail>0</edXML:TypeDetail><edXML:TypeName>Công văn</edXML:TypeName></edXML:DocumentType>
        <edXML:Subject>V/v cập nhật</edXML:Subject>
        <edXML:Content>V/v cập nhật</edXML:Content>
        <edXML:SignerInfo><edXML:Competence/><edXML:Position/><edXML:FullName/></edXML:SignerInfo>
        <edXML:DueDate/>
        <edXML:OtherInfo><edXML:Priority>0</edXML:Priority><edXML:SphereOfPromulgation/><edXML:TyperNotation/><edXML:PromulgationAmount>1</edXML:PromulgationAmount><edXML:PageAmount>1</edXML:PageAmount><edXML:Direction>false</edXML:Direction></edXML:OtherInfo>
        <edXML:SteeringType>1</edXML:SteeringType>
        <edXML:ToPlaces/>
      </edXML:MessageHeader>
      <edXML:TraceHeaderList>
        <edXML:TraceHeader><edXML:OrganId>000.00.00.G22</edXML:OrganId><edXML:Timestamp>2019/01/16 10:20:30</edXML:Timestamp></edXML:TraceHeader>
        <edXML:Bussiness>{business}</edXML:Bussiness>
      </edXML:TraceHeaderList>
      <Signature><SignedInfo/><SignatureValue>AAAA</SignatureValue><KeyInfo><X509Data/></KeyInfo></Signature>
    </edXML:edXMLHeader>
    <edXML:edXMLBody><edXML:edXMLManifest version="1.0"/></edXML:edXMLBody>
  </edXML:edXMLEnvelope>
  <AttachmentEncoded/>
</edXML>
"""
TARGET = "000.00.00.G22,2019/01/10,98/VPCP-KSTT"
UPDATE = f"""
  <edXML:DocumentId>{TARGET}</edXML:DocumentId>
  <edXML:BussinessDocType>2</edXML:BussinessDocType>
  <edXML:BussinessDocReason>Cập nhật nơi nhận</edXML:BussinessDocReason>
  <edXML:Paper>0</edXML:Paper>
  <edXML:BussinessDocumentInfo>
    <edXML:DocumentInfo>0</edXML:DocumentInfo>
    <edXML:DocumentReceiver>1</edXML:DocumentReceiver>
    <edXML:ReceiverList>
      <edXML:Receiver><edXML:OrganId>000.00.00.H14</edXML:OrganId><edXML:ReceiverType>1</edXML:ReceiverType></edXML:Receiver>
      <edXML:Receiver><edXML:ReceiverType>0</edXML:ReceiverType><edXML:OrganId>000.00.00.H53</edXML:OrganId></edXML:Receiver>
    </edXML:ReceiverList>
  </edXML:BussinessDocumentInfo>
  <edXML:StaffInfo><edXML:Department>Văn thư</edXML:Department><edXML:Staff>Hoa</edXML:Staff><edXML:Mobile/><edXML:Email/></edXML:StaffInfo>
"""
REPLACEMENT = f"""
  <edXML:BussinessDocType>3</edXML:BussinessDocType>
  <edXML:DocumentId>{TARGET}</edXML:DocumentId>
  <edXML:ReplacementInfoList>
    <edXML:ReplacementInfo>
      <edXML:DocumentId>{TARGET}</edXML:DocumentId>
      <edXML:OrganIdList><edXML:OrganId>000.00.00.H41</edXML:OrganId><edXML:OrganId>000.00.00.H14</edXML:OrganId></edXML:OrganIdList>
    </edXML:ReplacementInfo>
  </edXML:ReplacementInfoList>
  <edXML:BussinessDocReason>Thay thế văn bản ban hành nhầm</edXML:BussinessDocReason>
  <edXML:Paper>1</edXML:Paper>
"""


def test_an_update_and_a_replacement_written_by_others_are_read() -> None:
    update = read_message(OPERATION.format(business=UPDATE).encode())
    assert isinstance(update, DocumentMessage)
    assert update.business == Business(
        doc_type=DOC_UPDATE,
        reason="Cập nhật nơi nhận",
        document_id=TARGET,
        paper=0,
        staff=StaffInfo("Văn thư", "Hoa"),
        receivers_changed=True,
        receivers=(Receiver("000.00.00.H14", 1), Receiver("000.00.00.H53", 0)),
    )
    assert update.due_date is None and update.type_detail == 0 and update.steering_type == 1
    assert update.to == (Organ("000.00.00.H41", "UBND tỉnh Nghệ An"),) and update.attachments == ()
    replacement = read_message(OPERATION.format(business=REPLACEMENT).encode())
    assert isinstance(replacement, DocumentMessage)
    assert replacement.business == Business(
        doc_type=DOC_REPLACE,
        reason="Thay thế văn bản ban hành nhầm",
        document_id=TARGET,
        replacements=(Replacement(TARGET, ("000.00.00.H41", "000.00.00.H14")),),
    )
    # what we would send back validates
    validate(document_bytes(replacement))


def _zipped(data: bytes, entry: str = "0f9e.pdf") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(entry, data)
    return out.getvalue()


def _other_prefix(payload: bytes, content_type: str = "application/pdf") -> bytes:
    """Our own message re-spelt by a producer with another prefix, a
    signature in the XML-DSig namespace and a zipped payload under the original
    MIME type (as one gateway does)."""
    data = document_bytes(_document(attachments=()))
    data = data.replace(b"edXML:", b"q:").replace(b"xmlns:q=", b"xmlns:q=", 1)
    data = data.replace(b'xmlns:edXML="', b'xmlns:q="', 1)
    data = data.replace(b'<edXML xmlns="' + NAMESPACE.encode() + b'" ', b"<q:edXML ", 1)
    data = data.replace(b"</edXML>", b"</q:edXML>")
    signature = (
        b'<Signature xmlns="http://www.w3.org/2000/09/xmldsig#"><SignedInfo/>'
        b"<SignatureValue>AAAA</SignatureValue></Signature></q:edXMLHeader>"
    )
    data = data.replace(b"</q:edXMLHeader>", signature)
    manifest = (
        b"<q:Reference><q:ContentId>cid:7</q:ContentId><q:ContentType>"
        + content_type.encode()
        + b"</q:ContentType><q:AttachmentName>van-ban.pdf</q:AttachmentName></q:Reference>"
        b"</q:edXMLManifest>"
    )
    data = data.replace(b'<q:edXMLManifest version="1.0"/>', b'<q:edXMLManifest version="1.0">')
    data = data.replace(b"</q:edXMLBody>", manifest + b"</q:edXMLBody>")
    encoded = (
        b"<q:AttachmentEncoded><q:Attachment><q:ContentTransferEncoded>"
        + base64.b64encode(payload)
        + b"</q:ContentTransferEncoded><q:ContentId>CID:7</q:ContentId>"
        + "<q:Description>Văn bản</q:Description>".encode()
        + b"</q:Attachment></q:AttachmentEncoded></q:edXML>"
    )
    return data.replace(b"<AttachmentEncoded/>", b"").replace(b"</q:edXML>", encoded)


def test_any_prefix_a_foreign_signature_and_a_zip_under_the_original_type_are_read() -> None:
    data = _other_prefix(_zipped(PDF))
    assert b"<q:MessageHeader>" in data and b"xmlns:edXML" not in data
    assert b"<q:Reference>" in data and b"<AttachmentEncoded" not in data
    message = read_message(data)
    assert isinstance(message, DocumentMessage)
    assert message.subject == _document().subject and message.to == (NGHE_AN, CAO_BANG)
    assert message.attachments == (
        Attachment("7", "van-ban.pdf", "application/pdf", PDF, "Văn bản"),
    )
    # application/zip: the type comes from the file name
    zipped_type = read_message(_other_prefix(_zipped(PDF), "application/zip"))
    assert zipped_type.attachments[0].content_type == "application/pdf"  # type: ignore[union-attr]


def test_a_status_in_another_order_with_only_the_prefix_is_read() -> None:
    data = status_bytes(_status("05"))
    data = data.replace(f' xmlns="{NAMESPACE}"'.encode(), b"")
    data = data.replace(b"<edXML ", b"<edXML:edXML ").replace(b"</edXML>", b"</edXML:edXML>")
    head = re.search(rb"(<edXML:MessageHeader>)(.*)(</edXML:MessageHeader>)", data, re.S)
    assert head is not None
    parts = re.findall(rb"<edXML:(\w+)>.*?</edXML:\1>", head.group(2), re.S)
    assert parts == [b"From", b"ResponseFor", b"StaffInfo", b"StatusCode", b"Description",
                     b"Timestamp"]  # fmt: skip
    chunks = [re.search(rb"<edXML:%s>.*?</edXML:%s>" % (p, p), head.group(2), re.S) for p in parts]
    shuffled = b"".join(c.group(0) for c in reversed(chunks) if c is not None)
    data = data.replace(head.group(2), shuffled)
    assert read_message(data) == _status("05")


def test_a_status_code_written_as_one_digit_is_padded() -> None:
    data = status_bytes(_status("03")).replace(b">03<", b">3<")
    message = read_message(data)
    assert isinstance(message, StatusMessage) and message.status_code == "03"


# -- hostile input -----------------------------------------------------------

BILLION_LAUGHS = (
    b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + b"".join(
        b'<!ENTITY lol%d "%s">' % (i, (b"&lol%d;" % (i - 1) if i > 1 else b"&lol;") * 10)
        for i in range(1, 10)
    )
    + b']><edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016">&lol9;</edXML>'
)
XXE = (
    b'<?xml version="1.0"?><!DOCTYPE edXML [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
    b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"><edXMLEnvelope><edXMLHeader>'
    b"<MessageHeader><From><OrganName>&xxe;</OrganName></From><ResponseFor/>"
    b"<StatusCode>01</StatusCode><Timestamp>2020/01/01 00:00:00</Timestamp></MessageHeader>"
    b"</edXMLHeader></edXMLEnvelope></edXML>"
)
EXTERNAL_DTD = (
    b'<?xml version="1.0"?><!DOCTYPE edXML SYSTEM "http://127.0.0.1:9/x.dtd">'
    b'<edXML xmlns="http://www.mic.gov.vn/TBT/QCVN_102_2016"/>'
)
#: the same in UTF-16, where a byte search for the DOCTYPE finds nothing
XXE_UTF16 = XXE.replace(b'<?xml version="1.0"?>', b'<?xml version="1.0" encoding="UTF-16"?>')
XXE_UTF16 = XXE_UTF16.decode().encode("utf-16")
LEGACY = (
    b'<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">'
    b'<SOAP-ENV:Header><edXMLHeader xmlns="http://www.e-doc.vn/Schema/"/></SOAP-ENV:Header>'
    b"</SOAP-ENV:Envelope>"
)


def _attachment_message(encoded: bytes, name: str = "a.pdf") -> bytes:
    data = document_bytes(_document(attachments=(Attachment("1", name, "application/pdf", b"x"),)))
    return re.sub(
        rb"(<edXML:ContentTransferEncoded>)[^<]*(<)",
        lambda m: m.group(1) + encoded + m.group(2),
        data,
    )


def _bomb() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a.pdf", bytes(65 * 2**20))
    return out.getvalue()


def _two_entries() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("a.pdf", PDF)
        archive.writestr("b.pdf", PDF)
    return out.getvalue()


HOSTILE = {
    "billion laughs": (BILLION_LAUGHS, "DOCTYPE"),
    "xxe file": (XXE, "DOCTYPE"),
    "xxe utf-16": (XXE_UTF16, "DOCTYPE"),
    "external dtd": (EXTERNAL_DTD, "DOCTYPE"),
    "wrong namespace": (
        document_bytes(_document()).replace(NAMESPACE.encode(), b"http://example.org/edxml"),
        "not edXML in the namespace",
    ),
    "no namespace": (b"<edXML><edXMLEnvelope/></edXML>", "not edXML in the namespace"),
    "legacy e-doc.vn": (LEGACY, "older e-doc.vn format"),
    "non-XML": (b"%PDF-1.4\n\x00\x01binary", "not well-formed XML"),
    "empty": (b"", "not well-formed XML"),
    "truncated": (document_bytes(_document())[:900], "not well-formed XML"),
    "undefined entity": (b'<edXML xmlns="' + NAMESPACE.encode() + b'">&x;</edXML>', "XML"),
    "deep nesting": (
        b'<edXML xmlns="' + NAMESPACE.encode() + b'">' + b"<a>" * 100 + b"</a>" * 100 + b"</edXML>",
        "levels",
    ),
    "no header": (b'<edXML xmlns="' + NAMESPACE.encode() + b'"/>', "edXMLEnvelope"),
    "zip bomb": (_attachment_message(base64.b64encode(_bomb())), "larger than"),
    "zip with two entries": (_attachment_message(base64.b64encode(_two_entries())), "2 entries"),
    "zip path trick": (_attachment_message(base64.b64encode(_zipped(PDF, "../../x.pdf"))), "path"),
    "damaged zip": (_attachment_message(base64.b64encode(_zipped(PDF)[:200])), "zip"),
    "truncated base64": (_attachment_message(base64.b64encode(PDF)[:-3]), "base64"),
    "not base64": (_attachment_message(b"%%%%"), "base64"),
    "reference without attachment": (
        document_bytes(_document()).split(b"<AttachmentEncoded>")[0] + b"</edXML>",
        "no such attachment",
    ),
    "bad date": (
        document_bytes(_document()).replace(b">2015/09/30<", b">30 thang 9<", 1),
        "PromulgationDate",
    ),
    "bad number": (
        document_bytes(_document()).replace(b"<edXML:Priority>1<", b"<edXML:Priority>x<"),
        "Priority",
    ),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_messages_are_refused_with_a_clear_reason(case: str) -> None:
    data, reason = HOSTILE[case]
    with pytest.raises(EdxmlError) as caught:
        read_message(data)
    error = caught.value
    assert isinstance(error, InputError) and error.exit_code == 8
    assert reason in error.message_en, error.message_en
    assert error.message_vi != error.message_en and error.message_vi.startswith("edXML bị từ chối")
    assert "root:" not in error.message_en  # /etc/passwd was never read


def test_a_70_mb_message_is_refused_before_parsing() -> None:
    data = b"<edXML>" + b" " * (70 * 2**20) + b"</edXML>"
    with pytest.raises(EdxmlError, match="more than the 67108864 allowed"):
        read_message(data)


def test_an_attachment_over_its_limit_is_refused_raw_or_zipped() -> None:
    data = document_bytes(_document())
    assert read_message(data, max_attachment_bytes=len(PDF)) == _document()
    for raw in (True, False):
        data = document_bytes(_document(), zip_attachments=raw)
        with pytest.raises(EdxmlError, match="larger than"):
            read_message(data, max_attachment_bytes=len(PDF) - 1)
    with pytest.raises(EdxmlError, match="larger than"):
        read_message(data, max_total_attachment_bytes=len(PDF))


def test_validate_refuses_hostile_input_like_the_reader() -> None:
    for data in (BILLION_LAUGHS, XXE, b"\x00"):
        with pytest.raises(EdxmlError):
            validate(data)
