"""Decree 30 metadata in the PDF's XMP, in a way PDF/A allows.

PDF/A accepts properties outside its predefined schemas only when the XMP
also describes them in a PDF/A extension schema (ISO 19005-2, 6.6.2.3). The
station writes its fields (the Phụ lục VI names of
docs/decree30.md#register, plus the registration and
the batch) in its own namespace with that description, so a DMS can read them
from the file alone and a PDF/A validator still passes it. The file is checked
with pikepdf's PDF/A validator after the edit and replaced atomically.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from station.common.fsutil import fsync_dir
from station.errors import OcrError

NAMESPACE = "https://scanstation.vn/ns/decree30/1.0/"
PREFIX = "vbd"
#: property: (XMP value type, description); the Phụ lục VI names (docs/decree30.md#register)
PROPERTIES: dict[str, tuple[str, str]] = {
    "Registration": ("Text", "Registration label (Số đến label) of the incoming document"),
    "BatchId": ("Text", "Scan batch the document came from"),
    "DocId": ("Text", "Station document id"),
    "StationId": ("Text", "Station that digitized the document"),
    "Direction": ("Text", "incoming (văn bản đến) or outgoing (văn bản đi)"),
    "FileCode": ("Text", "Mã hồ sơ"),
    "DocOrdinal": ("Integer", "Số thứ tự văn bản trong hồ sơ"),
    "TypeName": ("Text", "Tên loại văn bản"),
    "CodeNumber": ("Text", "Số của văn bản"),
    "CodeNotation": ("Text", "Ký hiệu của văn bản"),
    "IssuedDate": ("Date", "Ngày, tháng, năm văn bản"),
    "OrganName": ("Text", "Tên cơ quan, tổ chức ban hành văn bản"),
    "Subject": ("Text", "Trích yếu nội dung"),
    "Language": ("Text", "Ngôn ngữ"),
    "PageAmount": ("Integer", "Số trang của văn bản"),
    "Description": ("Text", "Ghi chú"),
    "ArrivalDate": ("Date", "Ngày đến"),
    "ArrivalNumber": ("Text", "Số đến"),
    "SignerCompetence": ("Text", "Thẩm quyền ký (TM., KT., TL., TUQ., Q.)"),
    "SignerPosition": ("Text", "Chức vụ người ký"),
    "SignerName": ("Text", "Họ tên người ký"),
    "Priority": ("Text", "Độ mật, độ khẩn"),
    "ToPlaces": ("Text", "Nơi nhận, cách nhau bởi dấu chấm phẩy"),
    "Addressees": ("Text", "Kính gửi, cách nhau bởi dấu chấm phẩy"),
    "DueDate": ("Date", "Thời hạn giải quyết"),
}

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
#: the prefixes of the extension schema, for tools that rewrite the XMP with
#: lxml (pyHanko when it signs): the properties keep the prefix the schema declares
PREFIXES = {
    PREFIX: NAMESPACE,
    "pdfaExtension": "http://www.aiim.org/pdfa/ns/extension/",
    "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#",
    "pdfaProperty": "http://www.aiim.org/pdfa/ns/property#",
}


def keep_prefixes() -> None:
    """Tell lxml the station's XMP prefixes (a process-wide registry)."""
    from lxml import etree

    for prefix, uri in PREFIXES.items():
        etree.register_namespace(prefix, uri)


def _extension_schema() -> str:
    props = "".join(
        f"<rdf:li rdf:parseType='Resource'><pdfaProperty:name>{name}</pdfaProperty:name>"
        f"<pdfaProperty:valueType>{kind}</pdfaProperty:valueType>"
        "<pdfaProperty:category>external</pdfaProperty:category>"
        f"<pdfaProperty:description>{escape(text)}</pdfaProperty:description></rdf:li>"
        for name, (kind, text) in PROPERTIES.items()
    )
    return (
        "<rdf:Description rdf:about='' "
        "xmlns:pdfaExtension='http://www.aiim.org/pdfa/ns/extension/' "
        "xmlns:pdfaSchema='http://www.aiim.org/pdfa/ns/schema#' "
        "xmlns:pdfaProperty='http://www.aiim.org/pdfa/ns/property#'>"
        "<pdfaExtension:schemas><rdf:Bag><rdf:li rdf:parseType='Resource'>"
        "<pdfaSchema:schema>Scan station Decree 30/2020 metadata</pdfaSchema:schema>"
        f"<pdfaSchema:namespaceURI>{NAMESPACE}</pdfaSchema:namespaceURI>"
        f"<pdfaSchema:prefix>{PREFIX}</pdfaSchema:prefix>"
        f"<pdfaSchema:property><rdf:Seq>{props}</rdf:Seq></pdfaSchema:property>"
        "</rdf:li></rdf:Bag></pdfaExtension:schemas></rdf:Description>"
    )


def _text(value: Any) -> str:
    """A value as XMP text: a list's items joined with "; "."""
    return "; ".join(map(str, value)) if isinstance(value, list | tuple) else str(value)


def _values(values: Mapping[str, Any]) -> str:
    body = "".join(
        f"<{PREFIX}:{name}>{escape(_text(value))}</{PREFIX}:{name}>"
        for name, value in values.items()
        if name in PROPERTIES and value not in (None, "", [])
    )
    return f"<rdf:Description rdf:about='' xmlns:{PREFIX}='{NAMESPACE}'>{body}</rdf:Description>"


def write(pdf_path: Path, values: Mapping[str, Any]) -> None:
    """Add ``values`` (non-null ones with a known name) to the XMP of a PDF/A-2b."""
    import pikepdf
    import pikepdf.pdfa
    from lxml import etree

    with pikepdf.open(pdf_path) as pdf:
        old = bytes(pdf.Root.Metadata.read_bytes()) if "/Metadata" in pdf.Root else b""
        root = etree.fromstring(old) if old.strip() else None
        rdf = root.find(f".//{{{_RDF}}}RDF") if root is not None else None
        if rdf is None:
            raise OcrError(
                f"{pdf_path.name}: the PDF has no XMP metadata to extend",
                f"{pdf_path.name}: tệp PDF không có siêu dữ liệu XMP",
            )
        for desc in list(rdf):
            if (
                NAMESPACE in (desc.nsmap or {}).values()
                or desc.find(".//{http://www.aiim.org/pdfa/ns/extension/}schemas") is not None
            ):
                rdf.remove(desc)  # written before: replace, never duplicate
        for fragment in (_extension_schema(), _values(values)):
            wrapper = f"<rdf:RDF xmlns:rdf='{_RDF}'>{fragment}</rdf:RDF>"
            rdf.append(etree.fromstring(wrapper.encode("utf-8"))[0])
        packet = (
            b'<?xpacket begin="\xef\xbb\xbf" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
            + etree.tostring(root, encoding="utf-8")
            + b'\n<?xpacket end="w"?>'
        )
        stream = pikepdf.Stream(pdf, packet)
        stream.Type = pikepdf.Name.Metadata
        stream.Subtype = pikepdf.Name.XML
        pdf.Root.Metadata = stream
        fd, tmp = tempfile.mkstemp(prefix=".xmp-", suffix=".pdf", dir=pdf_path.parent)
        os.close(fd)
        try:
            pdf.save(tmp, **pikepdf.pdfa.resolve_save_kwargs("2b"))
            problems = pdfa_problems(Path(tmp))
            if problems:
                reasons = "; ".join(problems[:3])
                raise OcrError(
                    f"{pdf_path.name}: not PDF/A-2b after adding metadata: {reasons}",
                    f"{pdf_path.name}: không còn là PDF/A-2b sau khi ghi siêu dữ liệu: {reasons}",
                )
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    Path(tmp).chmod(0o644)
    Path(tmp).replace(pdf_path)
    fsync_dir(pdf_path.parent)


_DESCRIBED = (
    NAMESPACE,
    "http://www.aiim.org/pdfa/ns/extension/",
    "http://www.aiim.org/pdfa/ns/schema#",
    "http://www.aiim.org/pdfa/ns/property#",
    "pdfaExtension:schemas",
)


def pdfa_problems(pdf_path: Path) -> list[str]:
    """Why a file is not PDF/A-2b, from pikepdf's validator; [] when it is.

    pikepdf's validator does not read PDF/A extension schemas, so it reports
    every property of one as not permitted; those reports about the station's
    own schema, which the file describes as ISO 19005-2 6.6.2.3 requires,
    are not problems. Every other finding is.
    """
    import pikepdf.pdfa

    report = pikepdf.pdfa.validate_written(pdf_path, "2b")
    problems = []
    for finding in report.findings:
        ours = finding.rule == "ISO_19005_2:6.6.2.3.1-1" and (
            any(name in finding.message for name in _DESCRIBED) or f" {PREFIX}:" in finding.message
        )
        # pikepdf's validator knows no forms; PDF/A-2 allows a signature field
        # with its appearance (ISO 19005-2 6.4.1, 6.3.3), checked here instead
        form = "/AcroForm" in finding.message and _signature_form_problems(pdf_path) == []
        if not ours and not form:
            problems.append(f"{finding.rule} {finding.where}: {finding.message}")
    return problems + _signature_form_problems(pdf_path)


def _signature_form_problems(pdf_path: Path) -> list[str]:
    """What keeps a form from being the signature fields PDF/A-2b allows."""
    import pikepdf

    problems = []
    with pikepdf.open(pdf_path) as pdf:
        form = pdf.Root.get("/AcroForm")
        if form is None:
            return []
        if bool(form.get("/NeedAppearances", False)):
            problems.append("form: /NeedAppearances must not be true in PDF/A")
        for field in form.get("/Fields", []):
            if field.get("/FT") != pikepdf.Name.Sig:
                problems.append(f"form: field {field.get('/T')} is not a signature field")
            widgets = field.get("/Kids", [field])
            for widget in widgets:
                if "/AP" not in widget:
                    problems.append(f"form: field {field.get('/T')} has no appearance")
                if not int(widget.get("/F", 0)) & 4:
                    problems.append(f"form: field {field.get('/T')} is not printable")
    return problems


def read(pdf_path: Path) -> dict[str, str]:
    """The station's XMP values of a PDF, as strings (for checks and tests)."""
    import pikepdf

    with pikepdf.open(pdf_path) as pdf, pdf.open_metadata() as meta:
        return {
            name: str(meta[f"{{{NAMESPACE}}}{name}"])
            for name in PROPERTIES
            if f"{{{NAMESPACE}}}{name}" in meta
        }
