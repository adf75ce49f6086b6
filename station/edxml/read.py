"""Reading edXML messages: lenient on shape, strict on safety.

Shape: elements are found by namespace URI and local name, whatever their
prefix and order; ``cid:`` is dropped on both sides before a Reference and its
Attachment are paired; an attachment may be zipped (one entry, declared
``application/zip`` or under the file's own type) or raw, its base64 wrapped
or not; dates may be ``yyyy/MM/dd`` or ``dd/MM/yyyy``; every
text is NFC. Missing optional elements give the model's defaults.

Safety: the size is checked before parsing; a DOCTYPE (and so any entity
declaration, internal or external) is refused outright; nothing is fetched
(``no_network``, no DTD loading, no entity expansion); ``huge_tree`` stays off;
nesting and element count are bounded; each attachment and their sum are
bounded after unzipping, read in bounded steps. The XML goes through lxml's
parser-target interface into a small tree of our own, so a large base64
attachment is no "huge text node" for libxml2. Every refusal is an
:class:`EdxmlError`.
"""

from __future__ import annotations

import base64
import binascii
import io
import lzma
import mimetypes
import re
import zipfile
import zlib
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from lxml import etree

from station.edxml.model import (
    LEGACY_NAMESPACE,
    NAMESPACE,
    Attachment,
    Business,
    DocumentMessage,
    Organ,
    Receiver,
    Replacement,
    ResponseFor,
    Signer,
    StaffInfo,
    StatusMessage,
    Trace,
    strip_cid,
)
from station.edxml.text import nfc, parse_date, parse_timestamp
from station.errors import InputError

#: Deepest nesting of a message we read (ours is 8 deep).
MAX_DEPTH = 32
#: Most elements in a message (a message with a few hundred recipients has some thousands).
MAX_ELEMENTS = 200_000
#: Sum of all attachments of a message once unzipped.
MAX_TOTAL_ATTACHMENT_BYTES = 256 * 2**20

_ZIP_TYPES = frozenset({"application/zip", "application/x-zip-compressed", "application/x-zip"})
_ZIP_ENTRY = re.compile(r"[^/\\\x00-\x1f]{1,255}")
_BLANKS = {ord(c): None for c in " \t\r\n"}
#: Python's own table only, not the system's: the same answer on every machine.
_TYPES = mimetypes.MimeTypes(filenames=())


class EdxmlError(InputError):
    """An edXML message that cannot be read (or written): malformed, of
    another format, or hostile."""

    code = "input.edxml"


def _refuse(en: str, vi: str, **detail: Any) -> EdxmlError:
    return EdxmlError(f"edXML refused: {en}", f"edXML bị từ chối: {vi}", **detail)


class _Stop(Exception):
    """Raised inside the parser target to stop parsing with a refusal."""

    def __init__(self, error: EdxmlError) -> None:
        super().__init__(error.message_en)
        self.error = error


@dataclass(eq=False)
class _Node:
    ns: str
    name: str
    parts: list[str] = field(default_factory=list)
    children: list[_Node] = field(default_factory=list)

    def text(self) -> str:
        return nfc("".join(self.parts).strip())

    def all(self, name: str) -> list[_Node]:
        return [c for c in self.children if c.name == name and c.ns in (NAMESPACE, "")]

    def one(self, name: str) -> _Node | None:
        found = self.all(name)
        return found[0] if found else None

    def need(self, name: str) -> _Node:
        found = self.one(name)
        if found is None:
            raise _refuse(
                f"<{self.name}> has no <{name}>",
                f"<{self.name}> thiếu phần tử <{name}>",
                element=name,
            )
        return found

    def get(self, name: str) -> str:
        found = self.one(name)
        return "" if found is None else found.text()


class _Builder:
    """lxml parser target building :class:`_Node` trees, refusing DTDs."""

    def __init__(self) -> None:
        self.stack: list[_Node] = []
        self.root: _Node | None = None
        self.count = 0
        self.namespaces: set[str] = set()

    def doctype(self, name: str, pubid: str | None, system: str | None) -> None:
        raise _Stop(
            _refuse(
                "it declares a DOCTYPE (entities and DTDs are not accepted)",
                "tệp có khai báo DOCTYPE (không chấp nhận thực thể và DTD)",
            )
        )

    def start(self, tag: str, attrib: Any, nsmap: Any = None) -> None:
        self.count += 1
        if len(self.stack) >= MAX_DEPTH or self.count > MAX_ELEMENTS:
            raise _Stop(
                _refuse(
                    f"more than {MAX_DEPTH} levels or {MAX_ELEMENTS} elements",
                    f"lồng quá {MAX_DEPTH} cấp hoặc quá {MAX_ELEMENTS} phần tử",
                )
            )
        ns, _, name = tag[1:].rpartition("}") if tag.startswith("{") else ("", "", tag)
        self.namespaces.add(ns)
        node = _Node(ns, name)
        if self.stack:
            self.stack[-1].children.append(node)
        else:
            self.root = node
        self.stack.append(node)

    def end(self, tag: str) -> None:
        self.stack.pop()

    def data(self, text: str) -> None:
        if self.stack:
            self.stack[-1].parts.append(text)

    def close(self) -> _Node | None:
        return self.root


def parse_tree(data: bytes, *, max_bytes: int = 64 * 2**20) -> tuple[_Node, set[str]]:
    """The element tree of ``data`` and the namespaces it uses, or EdxmlError."""
    if not isinstance(data, bytes | bytearray | memoryview):
        raise _refuse("not bytes", "không phải dữ liệu nhị phân")
    data = bytes(data)
    if len(data) > max_bytes:
        raise _refuse(
            f"{len(data)} bytes, more than the {max_bytes} allowed",
            f"{len(data)} byte, vượt giới hạn {max_bytes}",
            size=len(data),
        )
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise _refuse(
            "it declares a DOCTYPE or an entity (not accepted)",
            "tệp có khai báo DOCTYPE hoặc thực thể (không chấp nhận)",
        )
    builder = _Builder()
    parser = etree.XMLParser(
        target=builder,
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )
    try:
        root = etree.fromstring(data, parser)
    except _Stop as stop:
        raise stop.error from None
    except (etree.LxmlError, ValueError, TypeError, UnicodeError, LookupError) as exc:
        line = getattr(exc, "lineno", None) or getattr(exc, "position", (None,))[0]
        where = f" (line {line})" if line else ""
        raise _refuse(
            f"not well-formed XML{where}: {exc}",
            f"không phải XML hợp lệ{where}: {exc}",
            line=line,
        ) from None
    if not isinstance(root, _Node):
        raise _refuse("no XML element in it", "không có phần tử XML nào")
    return root, builder.namespaces


def read_message(
    data: bytes,
    *,
    max_bytes: int = 64 * 2**20,
    max_attachment_bytes: int = 64 * 2**20,
    max_total_attachment_bytes: int = MAX_TOTAL_ATTACHMENT_BYTES,
) -> DocumentMessage | StatusMessage:
    """The message in ``data`` (an ``.edxml`` file), or :class:`EdxmlError`.

    ``max_bytes`` bounds the file, ``max_attachment_bytes`` each attachment
    once unzipped and ``max_total_attachment_bytes`` their sum."""
    root, namespaces = parse_tree(data, max_bytes=max_bytes)
    if root.ns != NAMESPACE or root.name != "edXML":
        if LEGACY_NAMESPACE in namespaces:
            raise _refuse(
                f"this is the older e-doc.vn format ({LEGACY_NAMESPACE}); only QCVN 102:2016 "
                f"({NAMESPACE}) is read",
                f"đây là định dạng e-doc.vn cũ ({LEGACY_NAMESPACE}); chỉ đọc định dạng "
                f"QCVN 102:2016 ({NAMESPACE})",
            )
        found = f"{{{root.ns}}}{root.name}" if root.ns else root.name
        raise _refuse(
            f"the root element is {found}, not edXML in the namespace {NAMESPACE}",
            f"phần tử gốc là {found}, không phải edXML thuộc không gian tên {NAMESPACE}",
        )
    envelope = root.need("edXMLEnvelope")
    header = envelope.need("edXMLHeader")
    head = header.need("MessageHeader")
    if head.one("StatusCode") is not None:
        return _status(head)
    return _document(root, envelope, header, head, max_attachment_bytes, max_total_attachment_bytes)


# -- values ----------------------------------------------------------------


def _int(node: _Node, name: str, default: int | None) -> int | None:
    text = node.get(name)
    if not text:
        return default
    try:
        return int(text)
    except ValueError:
        raise _refuse(
            f"<{name}> is {text[:40]!r}, not a whole number",
            f"<{name}> là {text[:40]!r}, không phải số nguyên",
            element=name,
        ) from None


def _number(node: _Node, name: str, default: int) -> int:
    value = _int(node, name, default)
    return default if value is None else value


def _flag(node: _Node, name: str) -> bool:
    text = node.get(name).lower()
    return text in ("1", "true")


def _date(node: _Node, name: str) -> date | None:
    text = node.get(name)
    try:
        return parse_date(text)
    except ValueError:
        raise _refuse(
            f"<{name}> is {text[:40]!r}, not a date (yyyy/MM/dd)",
            f"<{name}> là {text[:40]!r}, không phải ngày (yyyy/MM/dd)",
            element=name,
        ) from None


def _timestamp(node: _Node, name: str) -> datetime:
    text = node.get(name)
    try:
        return parse_timestamp(text)
    except ValueError:
        raise _refuse(
            f"<{name}> is {text[:40]!r}, not a time (yyyy/MM/dd HH:mm:ss)",
            f"<{name}> là {text[:40]!r}, không phải thời điểm (yyyy/MM/dd HH:mm:ss)",
            element=name,
        ) from None


def _organ(node: _Node) -> Organ:
    return Organ(
        organ_id=node.get("OrganId"),
        organ_name=node.get("OrganName"),
        in_charge=node.get("OrganizationInCharge"),
        address=node.get("OrganAdd"),
        email=node.get("Email"),
        telephone=node.get("Telephone"),
        fax=node.get("Fax"),
        website=node.get("Website"),
    )


def _staff(node: _Node) -> StaffInfo:
    return StaffInfo(
        department=node.get("Department"),
        staff=node.get("Staff"),
        mobile=node.get("Mobile"),
        email=node.get("Email"),
    )


def _response_for(node: _Node) -> ResponseFor:
    return ResponseFor(
        organ_id=node.get("OrganId"),
        code=node.get("Code"),
        promulgation_date=_date(node, "PromulgationDate"),
        document_id=node.get("DocumentId"),
    )


def _texts(node: _Node | None, name: str) -> tuple[str, ...]:
    if node is None:
        return ()
    return tuple(child.text() for child in node.all(name))


# -- status ----------------------------------------------------------------


def _status(head: _Node) -> StatusMessage:
    code = head.get("StatusCode")
    if not code.isdigit() or len(code) > 2:
        raise _refuse(
            f"<StatusCode> is {code[:40]!r}, not a two-digit code",
            f"<StatusCode> là {code[:40]!r}, không phải mã hai chữ số",
            element="StatusCode",
        )
    staff = head.one("StaffInfo")
    return StatusMessage(
        sender=_organ(head.need("From")),
        response_for=_response_for(head.need("ResponseFor")),
        status_code=code.zfill(2),
        description=head.get("Description"),
        timestamp=_timestamp(head, "Timestamp"),
        staff=StaffInfo() if staff is None else _staff(staff),
    )


# -- document --------------------------------------------------------------


def _document(
    root: _Node,
    envelope: _Node,
    header: _Node,
    head: _Node,
    max_attachment_bytes: int,
    max_total_attachment_bytes: int,
) -> DocumentMessage:
    code = head.one("Code") or _Node(NAMESPACE, "Code")
    promulgation = head.one("PromulgationInfo") or _Node(NAMESPACE, "PromulgationInfo")
    doc_type = head.one("DocumentType") or _Node(NAMESPACE, "DocumentType")
    signer = head.one("SignerInfo") or _Node(NAMESPACE, "SignerInfo")
    other = head.one("OtherInfo") or _Node(NAMESPACE, "OtherInfo")
    traces = header.one("TraceHeaderList") or _Node(NAMESPACE, "TraceHeaderList")
    return DocumentMessage(
        sender=_organ(head.need("From")),
        to=tuple(_organ(node) for node in head.all("To")),
        document_id=head.get("DocumentId"),
        code_number=code.get("CodeNumber"),
        code_notation=code.get("CodeNotation"),
        place=promulgation.get("Place"),
        promulgation_date=_date(promulgation, "PromulgationDate"),
        type_name=doc_type.get("TypeName"),
        subject=head.get("Subject"),
        doc_type=_number(doc_type, "Type", 1),
        type_detail=_int(doc_type, "TypeDetail", None),
        content=head.get("Content"),
        signer=Signer(
            competence=signer.get("Competence"),
            position=signer.get("Position"),
            full_name=signer.get("FullName"),
        ),
        due_date=_date(head, "DueDate"),
        to_places=_texts(head.one("ToPlaces"), "Place"),
        priority=_number(other, "Priority", 0),
        sphere=other.get("SphereOfPromulgation"),
        typer_notation=other.get("TyperNotation"),
        promulgation_amount=_int(other, "PromulgationAmount", None),
        page_amount=_int(other, "PageAmount", None),
        appendixes=_texts(other.one("Appendixes"), "Appendix"),
        response_for=tuple(_response_for(node) for node in head.all("ResponseFor")),
        steering_type=_number(head, "SteeringType", 0),
        traces=tuple(
            Trace(organ_id=node.get("OrganId"), timestamp=_timestamp(node, "Timestamp"))
            for node in traces.all("TraceHeader")
        ),
        business=_business(traces.one("Bussiness") or traces.one("Business")),
        attachments=_attachments(root, envelope, max_attachment_bytes, max_total_attachment_bytes),
    )


def _business(node: _Node | None) -> Business:
    if node is None:
        return Business()
    info = node.one("BussinessDocumentInfo")
    receivers: tuple[Receiver, ...] = ()
    if info is not None:
        listed = info.one("ReceiverList")
        receivers = tuple(
            Receiver(organ_id=r.get("OrganId"), receiver_type=_number(r, "ReceiverType", 1))
            for r in (listed.all("Receiver") if listed is not None else [])
        )
    replacements = node.one("ReplacementInfoList")
    staff = node.one("StaffInfo")
    return Business(
        doc_type=_number(node, "BussinessDocType", 0),
        reason=node.get("BussinessDocReason"),
        document_id=node.get("DocumentId"),
        paper=_number(node, "Paper", 1),
        staff=None if staff is None else _staff(staff),
        document_info_changed=info is not None and _flag(info, "DocumentInfo"),
        receivers_changed=info is not None and _flag(info, "DocumentReceiver"),
        replacements=tuple(
            Replacement(
                document_id=r.get("DocumentId"),
                organ_ids=_texts(r.one("OrganIdList"), "OrganId"),
            )
            for r in (replacements.all("ReplacementInfo") if replacements is not None else [])
        ),
        receivers=receivers,
    )


# -- attachments -----------------------------------------------------------


def _attachments(
    root: _Node, envelope: _Node, max_bytes: int, max_total: int
) -> tuple[Attachment, ...]:
    body = envelope.one("edXMLBody")
    manifest = body.one("edXMLManifest") if body is not None else None
    references: dict[str, _Node] = {}
    for reference in manifest.all("Reference") if manifest is not None else []:
        references.setdefault(strip_cid(reference.get("ContentId")), reference)
    items = [
        item
        for holder in (*root.all("AttachmentEncoded"), *envelope.all("AttachmentEncoded"))
        for item in holder.all("Attachment")
    ]
    found: list[Attachment] = []
    seen: set[str] = set()
    total = 0
    for item in items:
        cid = strip_cid(item.get("ContentId"))
        if cid in seen:
            raise _refuse(
                f"two attachments have the ContentId {cid!r}",
                f"hai tệp đính kèm cùng ContentId {cid!r}",
            )
        seen.add(cid)
        reference = references.get(cid) or _Node(NAMESPACE, "Reference")
        name = item.get("AttachmentName") or reference.get("AttachmentName")
        declared = (item.get("ContentType") or reference.get("ContentType")).lower()
        data = _decode(item, cid, max_bytes)
        zipped = declared in _ZIP_TYPES
        if not name.lower().endswith(".zip") and (zipped or _wrapped(data)):
            entry, data = _unzip(data, cid, min(max_bytes, max_total - total))
            if not declared or zipped:
                declared = _guess(name) or _guess(entry) or "application/octet-stream"
        elif len(data) > max_bytes:
            raise _too_big(cid, max_bytes)
        total += len(data)
        if total > max_total:
            raise _too_big(cid, max_total)
        found.append(
            Attachment(
                content_id=cid,
                name=name,
                content_type=declared or _guess(name) or "application/octet-stream",
                data=data,
                description=item.get("Description") or reference.get("Description"),
            )
        )
    missing = sorted(set(references) - seen)
    if missing:
        raise _refuse(
            f"the manifest lists {', '.join(missing)} but no such attachment is in the message",
            f"danh mục liệt kê {', '.join(missing)} nhưng tệp đính kèm không có trong gói tin",
        )
    return tuple(found)


def _guess(name: str) -> str:
    return _TYPES.guess_type(name, strict=False)[0] or ""


def _too_big(cid: str, limit: int) -> EdxmlError:
    return _refuse(
        f"attachment {cid!r} is larger than {limit} bytes",
        f"tệp đính kèm {cid!r} lớn hơn {limit} byte",
        content_id=cid,
    )


def _decode(item: _Node, cid: str, max_bytes: int) -> bytes:
    node = item.one("ContentTransferEncoded")
    encoded = "".join(node.parts).translate(_BLANKS) if node is not None else ""
    # a zipped file that did not compress is a little larger than the file
    if len(encoded) // 4 * 3 > max_bytes + max_bytes // 512 + 4096:
        raise _too_big(cid, max_bytes)
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise _refuse(
            f"attachment {cid!r} is not valid base64 (cut short or damaged)",
            f"tệp đính kèm {cid!r} không phải base64 hợp lệ (bị cắt hoặc hỏng)",
            content_id=cid,
        ) from None


_ZIP_ERRORS = (
    zipfile.BadZipFile,
    zipfile.LargeZipFile,
    OSError,
    EOFError,
    ValueError,
    NotImplementedError,
    RuntimeError,
    zlib.error,
    lzma.LZMAError,
)


def _wrapped(data: bytes) -> bool:
    """Whether a payload declared under the file's own type is that file in a
    zip of one entry (as one gateway sends), rather than the file itself (a
    .docx or .odt is a zip of many entries; a PDF is no zip)."""
    if data[:4] != b"PK\x03\x04":
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return len(archive.infolist()) == 1
    except _ZIP_ERRORS:
        return False


def _unzip(data: bytes, cid: str, limit: int) -> tuple[str, bytes]:
    """The one entry of a zipped attachment, read at most ``limit`` bytes."""

    def bad(en: str, vi: str) -> EdxmlError:
        return _refuse(f"attachment {cid!r}: {en}", f"tệp đính kèm {cid!r}: {vi}", content_id=cid)

    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            entries = archive.infolist()
            if len(entries) != 1:
                raise bad(
                    f"the zip holds {len(entries)} entries, not one",
                    f"tệp zip chứa {len(entries)} mục, không phải một",
                )
            entry = entries[0]
            name = entry.filename
            if (
                not _ZIP_ENTRY.fullmatch(name)
                or name in (".", "..")
                or entry.is_dir()
                or ":" in name
            ):
                raise bad(
                    f"the zip entry is named {name[:80]!r} (a path, not a file name)",
                    f"mục trong tệp zip tên {name[:80]!r} (đường dẫn, không phải tên tệp)",
                )
            if entry.flag_bits & 0x1:
                raise bad("the zip is encrypted", "tệp zip được mã hóa")
            if entry.file_size > limit:
                raise _too_big(cid, limit)
            with archive.open(entry) as stream:
                content = stream.read(limit + 1)
            if len(content) > limit:
                raise _too_big(cid, limit)
            return name, content
    except EdxmlError:
        raise
    except _ZIP_ERRORS as exc:
        raise bad(f"not a readable zip ({exc})", f"tệp zip không đọc được ({exc})") from None
