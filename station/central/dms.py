"""The hand-off to the agency's DMS in its own standard, edXML (QCVN 102:2016).

For every document the receiver has stored whole (its file and its metadata),
:meth:`DmsGateway.delivered` writes one edXML **document message** into the
inbox (:mod:`station.central.inbox`): the PDF attached, the header fields as
read and checked by the clerk, our agency as the recipient, our register
entry in the attachment's description. It is written before receipt 01 is
published: a receiver that stops in between leaves no receipt, so the
station announces the document again and it is written then.

:meth:`DmsGateway.take_status` takes a **status message** from the DMS (the
inbox's answers folder or the API): it must come from a configured DMS
OrganId, answer a DocumentId we delivered, and carry a status 01-06; it is
then published as the document's receipt on ``doc/{doc_id}/receipt``
(docs/mqtt.md), which the station records and shows.

A secret document (a secrecy mark in its Priority) is never handed over:
secret documents do not leave a connected station, and an independent LAN's
receiver of secret documents takes no ``--dms`` (docs/integration.md).

The field mapping is :func:`document_message`; docs/integration.md has it as
a table.
"""

from __future__ import annotations

import json
import logging
import threading
import unicodedata
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from station.central.agencies import Agency, Directory
from station.central.api import ApiSettings, AxisServer
from station.central.inbox import Inbox, InboxEntry
from station.central.settings import DmsSettings
from station.common.clock import VIETNAM
from station.edxml import (
    MAX_LENGTHS,
    STATUS_CODES,
    Attachment,
    Business,
    DocumentMessage,
    EdxmlError,
    Organ,
    Replacement,
    Signer,
    StatusMessage,
    Trace,
    composite_document_id,
    document_bytes,
    read_message,
)
from station.errors import ConfigError, NotFound
from station.wire import topics
from station.wire.mqtt import Connection

log = logging.getLogger("scanstation.dms")

#: OtherInfo/Priority (QCVN 102:2016): 0 Thường, 1 Khẩn, 2 Thượng khẩn, 3 Hỏa tốc,
#: 4 Hỏa tốc hẹn giờ; the urgency marks of the station's Priority by their folded name
URGENCY_CODES = {"khan": 1, "thuong khan": 2, "hoa toc": 3, "hoa toc hen gio": 4}
#: what an element edXML wants filled says when the station has no value for it
#: (the clerk left it empty): never a guess
UNREAD = "(chưa xác định)"
#: the statuses a DMS may send back for a document we delivered
TAKEN_STATUSES = ("01", "02", "03", "04", "05", "06")
#: BussinessDocType for a station's answer to a rejection (docs/mqtt.md, Supersedes)
SUPERSEDES = {"update": 2, "replace": 3}


def _fold(text: str) -> str:
    bare = "".join(
        c
        for c in unicodedata.normalize("NFD", text.replace("Đ", "D").replace("đ", "d"))
        if not unicodedata.combining(c)
    )
    return " ".join(bare.casefold().split())


def marks(priority: object) -> tuple[bool, int]:
    """(secret, edXML priority) of a document's ``Priority`` ("Mật, Hỏa tốc")."""
    if not isinstance(priority, str):
        return False, 0
    parts = [_fold(p) for p in priority.split(",") if p.strip()]
    secret = any(p.endswith("mat") for p in parts)  # Mật, Tối mật, Tuyệt mật
    return secret, max((URGENCY_CODES.get(p, 0) for p in parts), default=0)


def _day(value: object) -> date | None:
    if not isinstance(value, str):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _text(record: dict[str, Any], key: str) -> str:
    value = record.get(key)
    return unicodedata.normalize("NFC", str(value)).strip() if value not in (None, "") else ""


def _clip(text: str, element: str) -> str:
    """Free text cut to the element's length (QCVN 102 limits), visibly ("…")."""
    limit = MAX_LENGTHS[element]
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _exact(text: str, element: str) -> str:
    """A value that is right whole or not at all (a number, a notation): one
    longer than the element allows is left out, never cut."""
    return text if len(text) <= MAX_LENGTHS[element] else ""


def _required(text: str, element: str) -> str:
    """An element edXML wants filled (OrganName, TypeName, Subject): the value,
    or UNREAD, which no reader takes for a value."""
    return _clip(text, element) if text else UNREAD


def entry_id(station_id: str, doc_id: str) -> str:
    """The inbox id of a station's document: ``{station_id}.{doc_id}``."""
    return f"{station_id}.{doc_id}"


def register_line(record: dict[str, Any]) -> str:
    """Our register entry as the attachment's description carries it."""
    number, arrived = record.get("ArrivalNumber"), _day(record.get("ArrivalDate"))
    parts = []
    if number not in (None, ""):
        parts.append(f"Số đến: {number}")
    if arrived is not None:
        parts.append(f"Ngày đến: {arrived:%d/%m/%Y}")
    registration = record.get("Registration")
    if registration:
        parts.append(f"Mã: {registration}")
    return "; ".join(parts)


@dataclass(frozen=True)
class Delivered:
    """What the gateway knows of a document it wrote: for status checks."""

    entry_id: str
    document_id: str
    station_id: str
    doc_id: str
    sha256: str


def document_message(
    settings: DmsSettings,
    directory: Directory,
    station_id: str,
    doc_id: str,
    record: dict[str, Any],
    pdf: bytes,
    *,
    document_id: str,
    business: Business,
    now: datetime,
) -> DocumentMessage:
    """A delivered document as an edXML document message (the mapping table of
    docs/integration.md)."""
    agency = settings.agency
    ours = Organ(
        organ_id=agency.organ_id,
        organ_name=agency.name,
        in_charge=agency.in_charge,
        address=agency.address,
        email=agency.email,
        telephone=agency.telephone,
        fax=agency.fax,
        website=agency.website,
    )
    if record.get("Direction") == "outgoing":
        # a document this agency signed and sends: from us, to the recipients
        # the directory knows (every one named in Nơi nhận or Kính gửi), or to
        # ourselves for the agency's own filing when it knows none of them
        sender = ours
        recipients = tuple(
            Organ(
                organ_id=agency.organ_id,
                organ_name=agency.name,
                in_charge=_clip(agency.in_charge, "OrganizationInCharge"),
            )
            for agency in recipients_known(directory, record)
        )
        to = recipients or (ours,)
    else:
        sender_name = _text(record, "OrganName")
        known = directory.find(sender_name)
        sender = Organ(
            organ_id=known.organ_id if known else "",
            organ_name=_required(known.name if known else sender_name, "OrganName"),
            in_charge=_clip(known.in_charge, "OrganizationInCharge") if known else "",
        )
        to = (ours,)
    _, priority = marks(record.get("Priority"))
    pages = record.get("PageAmount")
    number = _exact(_text(record, "CodeNumber"), "CodeNumber")
    notation = _exact(_text(record, "CodeNotation"), "CodeNotation")
    name = f"{number}-{notation}".strip("-").replace("/", "-") if number or notation else doc_id
    to_places = record.get("ToPlaces")
    return DocumentMessage(
        sender=sender,
        to=to,
        document_id=document_id,
        code_number=number,
        code_notation=notation,
        place=_clip(_text(record, "Place"), "Place"),
        promulgation_date=_day(record.get("IssuedDate")),
        type_name=_required(_text(record, "TypeName"), "TypeName"),
        subject=_required(_text(record, "Subject"), "Subject"),
        content=_clip(_text(record, "Subject"), "Content"),
        signer=Signer(
            competence=_clip(_text(record, "SignerCompetence"), "Competence"),
            position=_clip(_text(record, "SignerPosition"), "Position"),
            full_name=_exact(_text(record, "SignerName"), "FullName"),
        ),
        due_date=_day(record.get("DueDate")),
        to_places=tuple(
            _clip(unicodedata.normalize("NFC", str(p)).strip(), "ToPlace")
            for p in to_places or ()
            if str(p).strip()
        )
        if isinstance(to_places, list)
        else (),
        priority=priority,
        page_amount=pages if isinstance(pages, int) and not isinstance(pages, bool) else None,
        traces=(
            Trace(organ_id=agency.organ_id, timestamp=now.astimezone(VIETNAM).replace(tzinfo=None)),
        ),
        business=business,
        attachments=(
            Attachment(
                content_id="1",
                name=f"{name}.pdf",
                content_type="application/pdf",
                data=pdf,
                description=register_line(record),
            ),
        ),
    )


def recipients_known(directory: Directory, record: dict[str, Any]) -> list[Agency]:
    """The agencies of an outgoing document's Nơi nhận and Kính gửi lines that
    the directory lists (each once, in the page's order); lines it does not
    know ("Như trên", "Lưu: VT", a person) are left to ToPlaces."""
    found: dict[str, Agency] = {}
    for key in ("Addressees", "ToPlaces"):
        lines = record.get(key)
        for line in lines if isinstance(lines, list) else ():
            agency = directory.find(str(line).strip(" -+•:;,."))
            if agency is not None:
                found.setdefault(agency.organ_id, agency)
    return list(found.values())


class DmsGateway:
    """Delivered documents into the inbox as edXML; the DMS's statuses back as receipts."""

    def __init__(
        self,
        settings: DmsSettings,
        connection: Connection,
        inbox: Inbox,
        directory: Directory | None = None,
        base: str = topics.VERSION,
    ) -> None:
        self.settings = settings
        self.conn = connection
        self.inbox = inbox
        self.directory = directory or Directory()
        self.base = base
        self._lock = threading.Lock()
        #: DocumentId -> what we delivered under it (filled from the inbox on a miss)
        self._known: dict[str, Delivered] = {}
        self._read_all = False

    # ------------------------------------------------------------------ documents

    def delivered(self, station_id: str, doc_id: str, record: dict[str, Any], pdf: Path) -> bool:
        """Write the document's edXML message once; True when it is in the inbox
        (now or before), False when it is not to be handed over (secret) or
        cannot be written (logged). An exception (the inbox's disk) leaves the
        document to be announced again."""
        key = entry_id(station_id, doc_id)
        secret, _ = marks(record.get("Priority"))
        if secret or record.get("secret"):
            log.warning("document %s/%s has a secrecy mark: not handed to the DMS", station_id,
                        doc_id)  # fmt: skip
            return False
        with self._lock:
            try:
                self.inbox.entry(key)
                return True  # announced again: written already
            except NotFound:
                pass
            now = datetime.now(UTC)
            business = self._business(station_id, record)
            data = pdf.read_bytes()
            document_id = self._document_id(station_id, doc_id, record)
            message = document_message(
                self.settings,
                self.directory,
                station_id,
                doc_id,
                record,
                data,
                document_id=document_id,
                business=business,
                now=now,
            )
            try:
                body = document_bytes(message, zip_attachments=self.settings.edxml.zip_attachments)
            except EdxmlError as exc:
                # not a passing fault: the document stays in the receiver's folder,
                # its receipt goes out, and the log says why the DMS has not got it
                log.error("document %s/%s cannot be written as edXML, not handed to the "
                          "DMS: %s", station_id, doc_id, exc)  # fmt: skip
                return False
            info = {
                "station_id": station_id,
                "doc_id": doc_id,
                "sha256": record.get("sha256"),
                "registration": record.get("Registration"),
                "arrival_number": record.get("ArrivalNumber"),
                "arrival_date": record.get("ArrivalDate"),
                "subject": message.subject,
                "from": message.sender.organ_id,
                "from_name": message.sender.organ_name,
                "to": ",".join(organ.organ_id for organ in message.to),
                "direction": record.get("Direction") or "incoming",
                "business_doc_type": business.doc_type,
            }
            entry = self.inbox.put(key, body, document_id, info)
            self._remember(entry)
        log.info("document %s/%s handed to the DMS as %s", station_id, doc_id, document_id)
        return True

    def _document_id(self, station_id: str, doc_id: str, record: dict[str, Any]) -> str:
        """The composite DocumentId (sender OrganId, date, number/notation) when
        every part is known and no other document of ours has it; else a UUID
        of the station's document (the libraries' default; both are accepted)."""
        if record.get("Direction") == "outgoing":  # ours: our OrganId
            known: Agency | None = Agency(self.settings.agency.organ_id, self.settings.agency.name)
        else:
            known = self.directory.find(_text(record, "OrganName"))
        issued = _day(record.get("IssuedDate"))
        number = _exact(_text(record, "CodeNumber"), "CodeNumber")
        notation = _exact(_text(record, "CodeNotation"), "CodeNotation")
        if known and issued and number and notation:
            composite = composite_document_id(known.organ_id, issued, number, notation)
            if self._lookup(composite, reread=False) is None:
                return composite
        return str(uuid.uuid5(uuid.NAMESPACE_URL, f"scanstation:{station_id}/{doc_id}"))

    def _business(self, station_id: str, record: dict[str, Any]) -> Business:
        """New (0), or the station's answer to a rejection: an update (2) of the
        same paper, or its replacement (3) by a new scan."""
        supersedes = record.get("Supersedes")
        if not isinstance(supersedes, dict):
            return Business(doc_type=0, paper=1)
        how, old = supersedes.get("how"), supersedes.get("doc_id")
        reason = str(supersedes.get("reason") or "")[:500]
        if how not in SUPERSEDES or not isinstance(old, str):
            log.warning("ignored a malformed Supersedes from %s: %r", station_id,
                        str(supersedes)[:200])  # fmt: skip
            return Business(doc_type=0, paper=1)
        try:
            earlier = self.inbox.entry(entry_id(station_id, old))
        except NotFound:
            log.warning("%s supersedes %s/%s, which the DMS never had: sent as new", how,
                        station_id, old)  # fmt: skip
            return Business(doc_type=0, paper=1)
        if how == "update":
            return Business(
                doc_type=2,
                reason=reason,
                document_id=earlier.document_id,
                paper=1,
                document_info_changed=True,
            )
        return Business(
            doc_type=3,
            reason=reason,
            paper=1,
            replacements=(Replacement(earlier.document_id, (self.settings.agency.organ_id,)),),
        )

    def _remember(self, entry: InboxEntry) -> None:
        info = entry.info
        self._known[entry.document_id] = Delivered(
            entry.id,
            entry.document_id,
            str(info.get("station_id", "")),
            str(info.get("doc_id", "")),
            str(info.get("sha256", "")),
        )

    def _lookup(self, document_id: str, *, reread: bool = True) -> Delivered | None:
        """What we delivered under ``document_id``. The inbox is read whole the
        first time; later only on a miss with ``reread`` (another receiver of
        the group may have written it), not for every new document's check."""
        found = self._known.get(document_id)
        if found is None and (reread or not self._read_all):
            for entry in self.inbox.entries():
                if entry.document_id not in self._known:
                    self._remember(entry)
            self._read_all = True
            found = self._known.get(document_id)
        return found

    # ------------------------------------------------------------------ statuses

    def take_status(self, data: bytes, source: str) -> tuple[bool, str]:
        """A status message from the DMS: (accepted, why). Accepted ones are
        published as the document's receipt."""
        try:
            message = read_message(data, max_bytes=16 * 2**20)
        except EdxmlError as exc:
            return self._refuse(source, f"not a readable edXML message: {exc}")
        if not isinstance(message, StatusMessage):
            return self._refuse(source, "a document message, not a status message")
        if message.sender.organ_id not in self.settings.dms_organ_ids:
            return self._refuse(
                source,
                f"from {message.sender.organ_id!r}, not the agency's DMS "
                f"({', '.join(self.settings.dms_organ_ids)})",
            )
        code = message.status_code
        if code not in TAKEN_STATUSES:
            meaning = STATUS_CODES.get(code, ("?", "unknown"))[1]
            return self._refuse(source, f"status {code!r} ({meaning}) is not one the station takes")
        with self._lock:
            delivered = self._lookup(message.response_for.document_id)
        if delivered is None:
            return self._refuse(
                source,
                f"ResponseFor names DocumentId {message.response_for.document_id!r}, "
                "not a document delivered here",
            )
        stamp = message.timestamp
        at = (stamp if stamp.tzinfo else stamp.replace(tzinfo=VIETNAM)).astimezone(UTC)
        staff = message.staff
        body = {
            "status": code,
            "sha256": delivered.sha256,
            "at": at.isoformat(timespec="seconds"),
            "description": message.description,
            "from": message.sender.organ_name,
            "staff": ", ".join(p for p in (staff.staff, staff.department) if p),
        }
        self.conn.publish(
            topics.receipt(delivered.station_id, delivered.doc_id, self.base),
            json.dumps(body, ensure_ascii=False).encode(),
            qos=1,
            retain=True,
        )
        log.info("status %s for %s/%s from the DMS (%s)", code, delivered.station_id,
                 delivered.doc_id, source)  # fmt: skip
        return True, f"status {code} for {delivered.station_id}/{delivered.doc_id}"

    @staticmethod
    def _refuse(source: str, why: str) -> tuple[bool, str]:
        log.warning("refused a status message (%s): %s", source, why)
        return False, why


class DmsHandOff:
    """The gateway with its inbox, its answers folder watched and, with an
    ``[api]`` section, the axis-style HTTP API: what ``receiver --dms`` and the
    demo run."""

    def __init__(
        self, settings: DmsSettings, connection: Connection, base: str = topics.VERSION
    ) -> None:
        if base != topics.VERSION:
            raise ConfigError(
                f"--dms with --topic-root {base}: secret documents are not handed to the DMS. "
                "Fix: run the receiver of secret documents without --dms",
                f"--dms cùng --topic-root {base}: văn bản mật không chuyển sang hệ thống quản "
                "lý văn bản. Cách sửa: chạy bộ nhận văn bản mật không có --dms",
            )
        self.settings = settings
        edxml = settings.edxml
        directory = Directory.load(edxml.directory) if edxml.directory else Directory()
        self.inbox = Inbox(edxml.inbox)
        self.gateway = DmsGateway(settings, connection, self.inbox, directory, base)
        self.server: AxisServer | None = None
        if settings.api is not None:
            api = settings.api
            options = ApiSettings(
                listen=api.listen,
                token_file=api.token_file,
                cert_file=api.cert_file,
                key_file=api.key_file,
                client_ca_file=api.client_ca_file,
            )
            self.server = AxisServer(options, self.inbox, self.gateway.take_status)
        self._stop = threading.Event()
        self._watcher: threading.Thread | None = None

    @property
    def url(self) -> str | None:
        """The API's address (None without an ``[api]`` section)."""
        return self.server.url if self.server is not None else None

    def start(self) -> None:
        self._watcher = self.inbox.watch_answers(self.gateway.take_status, self._stop)
        if self.server is not None:
            self.server.start()

    def stop(self) -> None:
        self._stop.set()
        if self.server is not None:
            self.server.stop()
        if self._watcher is not None:
            self._watcher.join(10)
