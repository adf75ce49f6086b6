"""edXML (QCVN 102:2016/BTTTT): the messages Vietnamese document-management
systems exchange on the national document axis. The format only: typed
messages (model), bytes out (write), bytes in (read), and the station's XSD
(schema). See docs/edxml/README.md."""

from station.edxml.model import (
    DOC_NEW,
    DOC_REPLACE,
    DOC_REVOKE,
    DOC_UPDATE,
    LEGACY_NAMESPACE,
    MAX_LENGTHS,
    NAMESPACE,
    PRIORITIES,
    STATUS_CODES,
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
    composite_document_id,
    strip_cid,
)
from station.edxml.read import EdxmlError, read_message
from station.edxml.schema import SCHEMA, validate
from station.edxml.write import document_bytes, status_bytes

__all__ = [
    "DOC_NEW",
    "DOC_REPLACE",
    "DOC_REVOKE",
    "DOC_UPDATE",
    "LEGACY_NAMESPACE",
    "MAX_LENGTHS",
    "NAMESPACE",
    "PRIORITIES",
    "SCHEMA",
    "STATUS_CODES",
    "Attachment",
    "Business",
    "DocumentMessage",
    "EdxmlError",
    "Organ",
    "Receiver",
    "Replacement",
    "ResponseFor",
    "Signer",
    "StaffInfo",
    "StatusMessage",
    "Trace",
    "composite_document_id",
    "document_bytes",
    "read_message",
    "status_bytes",
    "strip_cid",
    "validate",
]
