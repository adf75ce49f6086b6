"""Validation against the station's own XSD of QCVN 102:2016 messages.

No official XSD is public; docs/edxml/qcvn102-2016.xsd is written from what
public implementations show (docs/edxml/README.md). It describes what the
station writes, strictly: the reader (read.py) takes much more.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Any

from lxml import etree

from station.edxml.read import EdxmlError, parse_tree

SCHEMA: Path = Path(__file__).resolve().parents[2] / "docs" / "edxml" / "qcvn102-2016.xsd"


@cache
def _schema() -> Any:
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    return etree.XMLSchema(etree.parse(str(SCHEMA), parser))


def validate(data: bytes, *, max_bytes: int = 128 * 2**20) -> None:
    """Check ``data`` against :data:`SCHEMA`; :class:`EdxmlError` names the
    line and what is wrong.

    The reader's safety checks run first (size, no DOCTYPE, depth); only then
    is the file parsed into a full tree, with ``huge_tree`` so that a large
    base64 attachment is no "text node too long" (with no DTD there is nothing
    for it to expand)."""
    parse_tree(data, max_bytes=max_bytes)
    parser = etree.XMLParser(
        resolve_entities=False, no_network=True, load_dtd=False, huge_tree=True
    )
    try:
        document = etree.fromstring(bytes(data), parser)
    except etree.LxmlError as exc:  # parse_tree accepted it: not expected
        raise EdxmlError(f"edXML is not valid: {exc}", f"edXML không hợp lệ: {exc}") from None
    schema = _schema()
    if schema.validate(document):
        return
    first = schema.error_log[0]
    raise EdxmlError(
        f"edXML is not valid at line {first.line}: {first.message}",
        f"edXML không hợp lệ ở dòng {first.line}: {first.message}",
        line=first.line,
        errors=[f"{e.line}: {e.message}" for e in schema.error_log],
    )
