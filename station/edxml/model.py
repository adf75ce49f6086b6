"""The edXML messages (QCVN 102:2016/BTTTT) as typed, frozen values.

Two kinds travel: a :class:`DocumentMessage` (a document with its header fields
and its files) and a :class:`StatusMessage` (a DMS's answer about a document it
received). Field names follow the elements of docs/edxml/README.md; the
writer (write.py) turns them into bytes, the reader (read.py) back.

Text in these values is what a person reads: the writer normalizes it to NFC
and the reader does too, so a value read back equals the value written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

#: The one namespace of QCVN 102:2016 messages (default and ``edXML:`` prefix alike).
NAMESPACE = "http://www.mic.gov.vn/TBT/QCVN_102_2016"
#: The older e-doc.vn format (a SOAP envelope with MIME parts): refused by the reader.
LEGACY_NAMESPACE = "http://www.e-doc.vn/Schema/"

#: Business operations of a document message (``Bussiness/BussinessDocType``).
DOC_NEW, DOC_REVOKE, DOC_UPDATE, DOC_REPLACE = 0, 1, 2, 3

#: Status codes seen on the national axis: code -> (Vietnamese, English) meaning.
STATUS_CODES: dict[str, tuple[str, str]] = {
    "01": ("Đã đến", "Received by the DMS, not yet handled by the clerk"),
    "02": ("Từ chối", "Refused by the clerk; the reason is in the description"),
    "03": ("Đã tiếp nhận", "Accepted and entered in the incoming register"),
    "04": ("Phân công", "Handling assigned by the leadership"),
    "05": ("Đang xử lý", "Being processed"),
    "06": ("Hoàn thành", "Processing finished"),
    "13": ("Lấy lại", "The sender asks to recall the document"),
    "15": ("Đồng ý lấy lại/cập nhật", "The recipient agrees to the recall or update"),
    "16": ("Từ chối lấy lại/cập nhật", "The recipient refuses the recall or update"),
}

#: Priority (``OtherInfo/Priority``): 0..4.
PRIORITIES: dict[int, str] = {
    0: "Thường",
    1: "Khẩn",
    2: "Thượng khẩn",
    3: "Hỏa tốc",
    4: "Hỏa tốc hẹn giờ",
}

#: The longest text the writer puts in each element (characters). Where an
#: independent DMS database model gives a length it is used (a real column);
#: otherwise Bkav's validator's. docs/edxml/qcvn102-2016.xsd holds the same
#: figures (a test checks they agree) and docs/edxml/README.md their sources.
MAX_LENGTHS: dict[str, int] = {
    "OrganId": 35,
    "OrganizationInCharge": 500,
    "OrganName": 200,
    "OrganAdd": 250,
    "Email": 100,
    "Telephone": 50,
    "Fax": 50,
    "Website": 100,
    "CodeNumber": 11,
    "CodeNotation": 50,
    "Place": 50,
    "ToPlace": 150,
    "TypeName": 100,
    "Subject": 500,
    "Content": 500,
    "Competence": 100,
    "Position": 100,
    "FullName": 50,
    "SphereOfPromulgation": 100,
    "TyperNotation": 10,
    "AttachmentName": 500,
}


def composite_document_id(organ_id: str, promulgation: date, number: str, notation: str) -> str:
    """The DocumentId as the official samples build it:
    ``<sender OrganId>,<yyyy/MM/dd>,<số>/<ký hiệu>``, e.g.
    ``000.00.00.G22,2015/09/30,7816/VPCP-TTĐT``."""
    return f"{organ_id},{promulgation:%Y/%m/%d},{number}/{notation}"


def strip_cid(content_id: str) -> str:
    """A ContentId without its ``cid:`` prefix (any case, surrounding blanks
    dropped): the two sides of an attachment are paired on this."""
    value = content_id.strip()
    if value[:4].lower() == "cid:":
        value = value[4:].strip()
    return value


@dataclass(frozen=True)
class Organ:
    """An organ (cơ quan) as in ``From`` and ``To``. ``organ_id`` is its code
    per QCVN 102 / QĐ 20/2020 (may be empty when not known)."""

    organ_id: str
    organ_name: str
    in_charge: str = ""
    address: str = ""
    email: str = ""
    telephone: str = ""
    fax: str = ""
    website: str = ""


@dataclass(frozen=True)
class Signer:
    """``SignerInfo``: signing authority (e.g. "KT. BỘ TRƯỞNG"), title, name."""

    competence: str = ""
    position: str = ""
    full_name: str = ""


@dataclass(frozen=True)
class StaffInfo:
    """The person handling a document: ``StaffInfo``."""

    department: str = ""
    staff: str = ""
    mobile: str = ""
    email: str = ""


@dataclass(frozen=True)
class ResponseFor:
    """The document a message answers, revokes or reports on. ``code`` is the
    whole "số/ký hiệu" (e.g. ``7816/VPCP-TTĐT``)."""

    organ_id: str
    code: str
    promulgation_date: date | None
    document_id: str


@dataclass(frozen=True)
class Replacement:
    """One ``ReplacementInfo``: the document replaced, at which organs."""

    document_id: str
    organ_ids: tuple[str, ...]


@dataclass(frozen=True)
class Receiver:
    """One ``Receiver`` of an update's ``ReceiverList``: ``receiver_type`` 1 =
    added to the recipients, 0 = removed."""

    organ_id: str
    receiver_type: int


@dataclass(frozen=True)
class Business:
    """``TraceHeaderList/Bussiness`` (the standard's spelling): what the
    message does (``doc_type``: 0 new, 1 revoke, 2 update, 3 replace), to which
    document (``document_id``), and whether a paper copy exists (``paper``)."""

    doc_type: int = DOC_NEW
    reason: str = ""
    document_id: str = ""
    paper: int = 1
    staff: StaffInfo | None = None
    document_info_changed: bool = False
    receivers_changed: bool = False
    replacements: tuple[Replacement, ...] = ()
    receivers: tuple[Receiver, ...] = ()


@dataclass(frozen=True)
class Attachment:
    """One file of a document message. ``data`` is the file itself (never
    the zip the wire may carry); ``content_id`` is kept without ``cid:``."""

    content_id: str
    name: str
    content_type: str
    data: bytes = field(repr=False)
    description: str = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "content_id", strip_cid(self.content_id))


@dataclass(frozen=True)
class Trace:
    """One ``TraceHeader``: an organ the message passed, at a local time
    (naive, as written: the format carries no UTC offset; the writer turns an
    aware time into this machine's local time)."""

    organ_id: str
    timestamp: datetime


@dataclass(frozen=True)
class DocumentMessage:
    """A document message ("edoc")."""

    sender: Organ
    to: tuple[Organ, ...]
    document_id: str
    code_number: str
    code_notation: str
    place: str
    promulgation_date: date | None
    type_name: str
    subject: str
    doc_type: int = 1
    type_detail: int | None = None
    content: str = ""
    signer: Signer = Signer()
    due_date: date | None = None
    to_places: tuple[str, ...] = ()
    priority: int = 0
    sphere: str = ""
    typer_notation: str = ""
    promulgation_amount: int | None = None
    page_amount: int | None = None
    appendixes: tuple[str, ...] = ()
    response_for: tuple[ResponseFor, ...] = ()
    steering_type: int = 0
    traces: tuple[Trace, ...] = ()
    business: Business = Business()
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True)
class StatusMessage:
    """A status message: ``status_code`` (see :data:`STATUS_CODES`) about the
    document ``response_for``, sent by ``sender`` at ``timestamp`` (local)."""

    sender: Organ
    response_for: ResponseFor
    status_code: str
    description: str
    timestamp: datetime
    staff: StaffInfo = StaffInfo()
