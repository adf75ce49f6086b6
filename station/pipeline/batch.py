"""The typed records of a batch between the stages, and their ``batch.json`` form.

A page (:class:`BatchPage`: the page step's report and where it came from), a
document (:class:`BatchDocument`) and a warning (:class:`Warning`). The JSON
they make is the contract of docs/batch.md, key for key.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from station.barcodes.split import low_resolution, warning
from station.pipeline.page import PageReport
from station.records.vocabulary import FIELDS


def empty_metadata(pages: int | None = None) -> dict[str, Any]:
    """Decree 30 metadata of a document; null until the header is read (never guessed)."""
    return {**dict.fromkeys(FIELDS), "PageAmount": pages}


@dataclass(frozen=True)
class Warning:
    code: str
    vi: str
    en: str

    @classmethod
    def of(cls, code: str, **values: str) -> Warning:
        """A warning of docs/batch.md by its code, with its values filled in."""
        return cls.from_json(warning(code, **values))

    @classmethod
    def from_json(cls, found: dict[str, Any]) -> Warning:
        return cls(found["code"], found["message"]["vi"], found["message"]["en"])

    def as_json(self) -> dict[str, Any]:
        return {"code": self.code, "message": {"vi": self.vi, "en": self.en}}


@dataclass
class BatchPage:
    input: str  # the input file's name
    index: int  # the frame in that file
    report: PageReport
    doc_id: str | None = None
    #: a sheet of a document withheld as secret (docs/batch.md#secret-documents),
    #: with that document's level (None: a mark seen but not read)
    secret: bool = False
    level: str | None = None

    def withhold(self, level: str | None) -> None:
        """A sheet of a secret document: nothing of it beyond where it is and the mark."""
        self.secret = True
        self.level = level

    def as_json(self) -> dict[str, Any]:
        if self.secret:
            return {"input": self.input, "index": self.index, "doc_id": self.doc_id,
                    "secret": True, "level": self.level}  # fmt: skip
        return {
            "input": self.input,
            "index": self.index,
            "skew_deg": self.report.skew_deg,
            "orientation_deg": self.report.orientation_deg,
            "blank": self.report.blank,
            "separator": self.report.separator,
            "barcodes": self.report.barcodes,
            "dpi": self.report.dpi,
            "low_resolution": low_resolution(self.report.dpi),
            "secrecy": self.report.secrecy,
            "doc_id": self.doc_id,
            "secret": False,
        }


@dataclass
class BatchDocument:
    doc_id: str
    registration: str | None
    positions: list[int]  # its pages, 1-based positions in the batch
    pages: list[tuple[str, int]]  # its pages as (input, index)
    metadata: dict[str, Any]
    warnings: list[Warning] = field(default_factory=list)
    pdf: str | None = None
    #: how each header field was read (docs/batch.md#readings)
    readings: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: withheld as secret on a connected machine (docs/batch.md#secret-documents),
    #: with its level (None: a mark seen on a page but not read)
    secret: bool = False
    level: str | None = None

    def withhold(self, level: str | None) -> None:
        """A secret document: nothing of it beyond its pages and its mark."""
        self.secret = True
        self.level = level
        self.registration = None
        self.pdf = None
        self.metadata = {}
        self.readings = {}
        self.warnings = []

    def as_json(self) -> dict[str, Any]:
        pages = [{"input": name, "index": index} for name, index in self.pages]
        if self.secret:
            return {"doc_id": self.doc_id, "secret": True, "level": self.level, "pages": pages,
                    "pdf": None}  # fmt: skip
        return {
            "doc_id": self.doc_id,
            "secret": False,
            "registration": self.registration,
            "pdf": self.pdf,
            "pages": pages,
            "metadata": self.metadata,
            "readings": self.readings,
            "warnings": [w.as_json() for w in self.warnings],
        }


@dataclass
class Batch:
    batch_id: str
    pages: list[BatchPage] = field(default_factory=list)
    documents: list[BatchDocument] = field(default_factory=list)
    #: received (incoming) or sent (outgoing) documents (docs/outgoing.md)
    direction: str = "incoming"

    def as_json(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "direction": self.direction,
            "pages": [p.as_json() for p in self.pages],
            "documents": [d.as_json() for d in self.documents],
        }
