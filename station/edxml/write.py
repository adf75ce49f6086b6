"""Writing edXML messages as the official VNPT/VPCP samples show them.

- Both the default namespace and the ``edXML:`` prefix are bound to the QCVN
  namespace; the elements of the envelope carry the prefix, the root and the
  ``AttachmentEncoded`` part do not (but ``edXML:ContentTransferEncoded``), as
  in the samples: some consumers look elements up by their prefixed name.
- Elements in the order the VNPT library emits them (docs/edxml/README.md).
- UTF-8 without BOM, CRLF line ends, indented; every attachment in base64 on
  one line, zipped (one entry, ``application/zip``) unless told not to.
- No XML-DSig ``Signature`` block: the station does not sign edXML messages
  (the PDF inside is signed); see docs/edxml/README.md.

Every value is checked against what docs/edxml/qcvn102-2016.xsd allows; a
message that would not validate raises :class:`EdxmlError` naming the field.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import uuid
import zipfile
from collections.abc import Iterable
from datetime import date
from pathlib import PurePosixPath
from typing import Any

from lxml import etree

from station.edxml.model import (
    DOC_REPLACE,
    DOC_UPDATE,
    MAX_LENGTHS,
    NAMESPACE,
    PRIORITIES,
    STATUS_CODES,
    Attachment,
    Business,
    DocumentMessage,
    Organ,
    ResponseFor,
    StaffInfo,
    StatusMessage,
)
from station.edxml.read import EdxmlError
from station.edxml.text import for_wire, format_date, format_timestamp

ZIP_TYPE = "application/zip"
#: Bound to the ``edXML`` prefix while the tree is built, then replaced by the
#: QCVN namespace in the root's declaration: lxml cannot be told which of two
#: prefixes of one namespace to use, the samples use both.
_PREFIXED = "urn:x-scanstation:edxml-prefix"
_DECLARED = f'xmlns:edXML="{_PREFIXED}"'.encode()
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)
_CONTENT_ID = re.compile(r"[!-~]+")
_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")


def document_bytes(msg: DocumentMessage, *, zip_attachments: bool = True) -> bytes:
    """The document message as the bytes of an ``.edxml`` file."""
    _check_document(msg)
    root = _root()
    envelope = _sub(root, "edXMLEnvelope")
    header = _sub(envelope, "edXMLHeader")
    head = _sub(header, "MessageHeader")
    _organ(head, "From", msg.sender)
    for organ in msg.to:
        _organ(head, "To", organ)
    _text(head, "DocumentId", msg.document_id)
    code = _sub(head, "Code")
    _text(code, "CodeNumber", msg.code_number)
    _text(code, "CodeNotation", msg.code_notation)
    promulgation = _sub(head, "PromulgationInfo")
    _text(promulgation, "Place", msg.place)
    _date(promulgation, "PromulgationDate", msg.promulgation_date)
    doc_type = _sub(head, "DocumentType")
    _text(doc_type, "Type", str(msg.doc_type))
    if msg.type_detail is not None:
        _text(doc_type, "TypeDetail", str(msg.type_detail))
    _text(doc_type, "TypeName", msg.type_name)
    _text(head, "Subject", msg.subject)
    _text(head, "Content", msg.content)
    signer = _sub(head, "SignerInfo")
    _text(signer, "Competence", msg.signer.competence)
    _text(signer, "Position", msg.signer.position)
    _text(signer, "FullName", msg.signer.full_name)
    _date(head, "DueDate", msg.due_date)
    other = _sub(head, "OtherInfo")
    _text(other, "Priority", str(msg.priority))
    _text(other, "SphereOfPromulgation", msg.sphere)
    _text(other, "TyperNotation", msg.typer_notation)
    if msg.promulgation_amount is not None:
        _text(other, "PromulgationAmount", str(msg.promulgation_amount))
    if msg.page_amount is not None:
        _text(other, "PageAmount", str(msg.page_amount))
    if msg.appendixes:
        _texts(_sub(other, "Appendixes"), "Appendix", msg.appendixes)
    for response in msg.response_for:
        _response_for(head, response)
    _text(head, "SteeringType", str(msg.steering_type))
    _texts(_sub(head, "ToPlaces"), "Place", msg.to_places)

    traces = _sub(header, "TraceHeaderList")
    for trace in msg.traces:
        entry = _sub(traces, "TraceHeader")
        _text(entry, "OrganId", trace.organ_id)
        _text(entry, "Timestamp", format_timestamp(trace.timestamp))
    _business(traces, msg.business)

    manifest = _sub(_sub(envelope, "edXMLBody"), "edXMLManifest")
    manifest.set("version", "1.0")
    encoded = _sub(root, "AttachmentEncoded", prefixed=False)
    for attachment in msg.attachments:
        content_type, payload = _payload(attachment, zip_attachments)
        cid = f"cid:{attachment.content_id}"
        reference = _sub(manifest, "Reference")
        _text(reference, "ContentId", cid)
        _text(reference, "ContentType", content_type)
        _text(reference, "Description", attachment.description)
        _text(reference, "AttachmentName", attachment.name)
        item = _sub(encoded, "Attachment", prefixed=False)
        _text(item, "ContentId", cid, prefixed=False)
        _text(item, "AttachmentName", attachment.name, prefixed=False)
        _text(item, "Description", attachment.description, prefixed=False)
        _text(item, "ContentType", content_type, prefixed=False)
        _sub(item, "ContentTransferEncoded").text = base64.b64encode(payload).decode("ascii")
    return _serialize(root)


def status_bytes(msg: StatusMessage) -> bytes:
    """The status message as the bytes of an ``.edxml`` file."""
    if msg.status_code not in STATUS_CODES:
        raise _invalid("StatusCode", msg.status_code, f"one of {', '.join(STATUS_CODES)}")
    _check_organ("From", msg.sender)
    _check_length("OrganId", msg.response_for.organ_id)
    root = _root()
    head = _sub(_sub(_sub(root, "edXMLEnvelope"), "edXMLHeader"), "MessageHeader")
    _organ(head, "From", msg.sender)
    _response_for(head, msg.response_for)
    _staff(head, msg.staff)
    _text(head, "StatusCode", msg.status_code)
    _text(head, "Description", msg.description)
    _text(head, "Timestamp", format_timestamp(msg.timestamp))
    return _serialize(root)


# -- checks ---------------------------------------------------------------


def _invalid(element: str, value: object, expected: str) -> EdxmlError:
    shown = repr(value)
    shown = shown if len(shown) <= 80 else shown[:77] + "..."
    return EdxmlError(
        f"edXML cannot be written: {element} = {shown}, expected {expected}",
        f"Không ghi được edXML: {element} = {shown}, cần {expected}",
        element=element,
    )


def _check_length(element: str, value: str) -> None:
    limit = MAX_LENGTHS[element]
    if len(for_wire(value)) > limit:
        raise _invalid(element, value, f"at most {limit} characters")


def _check_organ(role: str, organ: Organ) -> None:
    for element, value in _organ_fields(organ):
        _check_length(element, value)
    if not for_wire(organ.organ_name):
        raise _invalid(f"{role}/OrganName", organ.organ_name, "a name")


def _check_document(msg: DocumentMessage) -> None:
    _check_organ("From", msg.sender)
    if not msg.to:
        raise _invalid("To", (), "at least one recipient")
    for organ in msg.to:
        _check_organ("To", organ)
    for element, value in (
        ("CodeNumber", msg.code_number),
        ("CodeNotation", msg.code_notation),
        ("Place", msg.place),
        ("TypeName", msg.type_name),
        ("Subject", msg.subject),
        ("Content", msg.content),
        ("Competence", msg.signer.competence),
        ("Position", msg.signer.position),
        ("FullName", msg.signer.full_name),
        ("SphereOfPromulgation", msg.sphere),
        ("TyperNotation", msg.typer_notation),
        *(("ToPlace", place) for place in msg.to_places),
        *(("AttachmentName", a.name) for a in msg.attachments),
    ):
        _check_length(element, value)
    for element, value, text in (
        ("Subject", msg.subject, "a summary"),
        ("DocumentId", msg.document_id, "an identifier"),
        ("TypeName", msg.type_name, "a type name"),
    ):
        if not for_wire(value):
            raise _invalid(element, value, text)
    _check_range("Type", msg.doc_type, range(1, 3))
    _check_range("Priority", msg.priority, range(len(PRIORITIES)))
    _check_range("SteeringType", msg.steering_type, range(3))
    _check_range("BussinessDocType", msg.business.doc_type, range(4))
    _check_range("Paper", msg.business.paper, range(2))
    for element, number in (
        ("TypeDetail", msg.type_detail),
        ("PromulgationAmount", msg.promulgation_amount),
        ("PageAmount", msg.page_amount),
    ):
        if number is not None:
            _check_range(element, number, range(2**16))
    for receiver in msg.business.receivers:
        _check_range("ReceiverType", receiver.receiver_type, range(2))
    organ_ids = [
        *(trace.organ_id for trace in msg.traces),
        *(response.organ_id for response in msg.response_for),
        *(receiver.organ_id for receiver in msg.business.receivers),
        *(organ for r in msg.business.replacements for organ in r.organ_ids),
    ]
    for organ_id in organ_ids:
        _check_length("OrganId", organ_id)
    for replacement in msg.business.replacements:
        if not for_wire(replacement.document_id) or not replacement.organ_ids:
            raise _invalid("ReplacementInfo", replacement, "a DocumentId and at least one OrganId")
    seen: set[str] = set()
    for attachment in msg.attachments:
        if not _CONTENT_ID.fullmatch(attachment.content_id) or attachment.content_id in seen:
            raise _invalid("ContentId", attachment.content_id, "a unique, non-empty id")
        seen.add(attachment.content_id)
        if not for_wire(attachment.name) or not for_wire(attachment.content_type):
            raise _invalid("AttachmentName", attachment.name, "a file name and a content type")


def _check_range(element: str, value: int, allowed: range) -> None:
    if value not in allowed:
        raise _invalid(element, value, f"{allowed.start}..{allowed.stop - 1}")


# -- tree -----------------------------------------------------------------


def _root() -> Any:
    return etree.Element(f"{{{NAMESPACE}}}edXML", nsmap={None: NAMESPACE, "edXML": _PREFIXED})


def _sub(parent: Any, name: str, *, prefixed: bool = True) -> Any:
    return etree.SubElement(parent, f"{{{_PREFIXED if prefixed else NAMESPACE}}}{name}")


def _text(parent: Any, name: str, value: str, *, prefixed: bool = True) -> None:
    _sub(parent, name, prefixed=prefixed).text = for_wire(value)


def _texts(parent: Any, name: str, values: Iterable[str]) -> None:
    for value in values:
        _text(parent, name, value)


def _date(parent: Any, name: str, value: date | None) -> None:
    if value is not None:
        _text(parent, name, format_date(value))


def _organ_fields(organ: Organ) -> tuple[tuple[str, str], ...]:
    return (
        ("OrganId", organ.organ_id),
        ("OrganizationInCharge", organ.in_charge),
        ("OrganName", organ.organ_name),
        ("OrganAdd", organ.address),
        ("Email", organ.email),
        ("Telephone", organ.telephone),
        ("Fax", organ.fax),
        ("Website", organ.website),
    )


def _organ(parent: Any, role: str, organ: Organ) -> None:
    element = _sub(parent, role)
    for name, value in _organ_fields(organ):
        _text(element, name, value)


def _response_for(parent: Any, response: ResponseFor) -> None:
    element = _sub(parent, "ResponseFor")
    _text(element, "OrganId", response.organ_id)
    _text(element, "Code", response.code)
    _date(element, "PromulgationDate", response.promulgation_date)
    _text(element, "DocumentId", response.document_id)


def _staff(parent: Any, staff: StaffInfo) -> None:
    element = _sub(parent, "StaffInfo")
    _text(element, "Department", staff.department)
    _text(element, "Staff", staff.staff)
    _text(element, "Mobile", staff.mobile)
    _text(element, "Email", staff.email)


def _business(parent: Any, business: Business) -> None:
    element = _sub(parent, "Bussiness")
    _text(element, "DocumentId", business.document_id)
    _text(element, "BussinessDocType", str(business.doc_type))
    _text(element, "BussinessDocReason", business.reason)
    _text(element, "Paper", str(business.paper))
    if (
        business.doc_type == DOC_UPDATE
        or business.receivers
        or business.document_info_changed
        or business.receivers_changed
    ):
        info = _sub(element, "BussinessDocumentInfo")
        _text(info, "DocumentInfo", str(int(business.document_info_changed)))
        _text(info, "DocumentReceiver", str(int(business.receivers_changed)))
        receivers = _sub(info, "ReceiverList")
        for receiver in business.receivers:
            entry = _sub(receivers, "Receiver")
            _text(entry, "OrganId", receiver.organ_id)
            _text(entry, "ReceiverType", str(receiver.receiver_type))
    if business.doc_type == DOC_REPLACE or business.replacements:
        replacements = _sub(element, "ReplacementInfoList")
        for replacement in business.replacements:
            entry = _sub(replacements, "ReplacementInfo")
            _text(entry, "DocumentId", replacement.document_id)
            _texts(_sub(entry, "OrganIdList"), "OrganId", replacement.organ_ids)
    if business.staff is not None:
        _staff(element, business.staff)


def _payload(attachment: Attachment, zip_attachments: bool) -> tuple[str, bytes]:
    """The content type and bytes on the wire. A zip file stays as it is (a
    reader takes a ``.zip`` attachment for the file itself)."""
    if not zip_attachments or attachment.name.lower().endswith(".zip"):
        return attachment.content_type, attachment.data
    # one entry named <uuid><ext>, as the VNPT library does; the uuid derives
    # from the content so that the same message gives the same bytes
    digest = hashlib.sha256(attachment.data).digest()
    suffix = PurePosixPath(attachment.name).suffix
    suffix = suffix if _SUFFIX.fullmatch(suffix) else ""
    entry = str(uuid.UUID(bytes=digest[:16], version=4)) + suffix
    info = zipfile.ZipInfo(entry, date_time=_ZIP_TIME)
    info.compress_type = zipfile.ZIP_DEFLATED
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(info, attachment.data)
    return ZIP_TYPE, out.getvalue()


def _serialize(root: Any) -> bytes:
    body: bytes = etree.tostring(root, encoding="UTF-8", pretty_print=True)
    body = body.replace(_DECLARED, f'xmlns:edXML="{NAMESPACE}"'.encode(), 1)
    return b'<?xml version="1.0" encoding="UTF-8"?>\r\n' + body.replace(b"\n", b"\r\n")
