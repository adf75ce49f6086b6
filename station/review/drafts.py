"""The clerk's review of a batch: cleaned pages grouped into draft documents.

Pages join the review as they are cleaned; while the batch is still being
captured or read, the documents follow the barcode rules (:func:`regroup`).
Once it is ready for review the clerk's changes win: rotate, delete or move a
page, split or merge documents, correct a header field or the registration.
A document whose pages changed is *stale*: its PDF is made again when the batch
is confirmed. Everything is in the store (schema v4), so a restart shows the
review as it was.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from station.barcodes.decode import Rules
from station.barcodes.split import (
    SECRECY_QUESTIONS,
    PageInfo,
    cover_direction,
    page_info,
    sheets_of,
    split,
    warning,
)
from station.common.fsutil import erase
from station.errors import InputError, NotFound
from station.records.register import Register
from station.records.vocabulary import FIELDS, priority_marks
from station.review.fields import EDITABLE, check_field
from station.store import Store


@dataclass(frozen=True)
class ReviewPage:
    page_id: int
    batch_id: str
    position: int
    info: dict[str, Any]
    clean: str | None  # relative to the work folder
    thumb: str | None
    rotation: int
    deleted: bool
    doc_id: str | None
    doc_seq: int | None

    @property
    def kept(self) -> bool:
        return not self.deleted and not self.info.get("blank") and not self.info.get("separator")


#: warnings the clerk cannot dismiss: what they say must be put right
UNDISMISSABLE = frozenset({"pdf_check"})


@dataclass(frozen=True)
class ReviewDoc:
    doc_id: str
    batch_id: str
    seq: int
    registration: str | None
    metadata: dict[str, Any]
    edited: list[str]
    warnings: list[dict[str, Any]]
    pdf: str | None
    stale: bool
    pages: list[ReviewPage]
    #: how each header field was read (station/ocr/readings.py); {} before OCR
    readings: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: the clerk said it is not secret: a secrecy level read is no level
    not_secret: bool = False

    def to_check(self) -> list[str]:
        """Fields the clerk should check ("cần kiểm tra"): left empty or in doubt
        by the reader, and not corrected by the clerk since."""
        return [
            name
            for name, reading in self.readings.items()
            if name not in self.edited and (reading.get("code") or "read" in reading)
        ]


def _page(row: Any) -> ReviewPage:
    return ReviewPage(
        page_id=row["page_id"],
        batch_id=row["batch_id"],
        position=row["position"],
        info=json.loads(row["info"]),
        clean=row["clean"],
        thumb=row["thumb"],
        rotation=row["rotation"],
        deleted=bool(row["deleted"]),
        doc_id=row["doc_id"],
        doc_seq=row["doc_seq"],
    )


class Review:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.work = store.data_dir / "work"

    def folder(self, batch_id: str) -> Path:
        path = self.work / batch_id
        path.mkdir(parents=True, exist_ok=True)
        return path

    # ------------------------------------------------------------------ reading

    def pages(self, batch_id: str) -> list[ReviewPage]:
        rows = self.store.query(
            "SELECT * FROM review_pages WHERE batch_id = ? ORDER BY position", (batch_id,)
        )
        return [_page(r) for r in rows]

    def page(self, page_id: int) -> ReviewPage:
        rows = self.store.query("SELECT * FROM review_pages WHERE page_id = ?", (page_id,))
        if not rows:
            raise NotFound(f"no page {page_id} in a review", f"không có trang {page_id}")
        return _page(rows[0])

    def documents(self, batch_id: str) -> list[ReviewDoc]:
        pages = self.pages(batch_id)
        rows = self.store.query(
            "SELECT * FROM review_docs WHERE batch_id = ? ORDER BY seq", (batch_id,)
        )
        return [self._doc(r, pages) for r in rows]

    def labels_elsewhere(self, batch_id: str) -> list[str]:
        """The registration labels of the documents of every other batch (under
        review, or confirmed already)."""
        rows = self.store.query(
            "SELECT DISTINCT registration FROM review_docs"
            " WHERE batch_id != ? AND registration IS NOT NULL",
            (batch_id,),
        )
        return [row["registration"] for row in rows]

    def capture_batches(self, batch_id: str) -> list[str]:
        """The capture batches whose pages are in this review, the first one first."""
        rows = self.store.query(
            "SELECT p.batch_id, min(r.position) AS first FROM review_pages r"
            " JOIN pages p ON p.id = r.page_id WHERE r.batch_id = ? GROUP BY p.batch_id"
            " ORDER BY first",
            (batch_id,),
        )
        return [r["batch_id"] for r in rows]

    def review_of(self, capture_batch: str) -> str | None:
        """The review a capture batch's pages went to (None: not yet any)."""
        rows = self.store.query(
            "SELECT DISTINCT r.batch_id FROM review_pages r JOIN pages p ON p.id = r.page_id"
            " WHERE p.batch_id = ?",
            (capture_batch,),
        )
        return str(rows[0]["batch_id"]) if rows else None

    def document(self, doc_id: str) -> ReviewDoc:
        rows = self.store.query("SELECT * FROM review_docs WHERE doc_id = ?", (doc_id,))
        if not rows:
            raise NotFound(f"no document {doc_id} in a review", f"không có văn bản {doc_id}")
        return self._doc(rows[0], self.pages(rows[0]["batch_id"]))

    @staticmethod
    def _doc(row: Any, pages: list[ReviewPage]) -> ReviewDoc:
        mine = sorted(
            (p for p in pages if p.doc_id == row["doc_id"] and not p.deleted),
            key=lambda p: (p.doc_seq or 0, p.position),
        )
        return ReviewDoc(
            doc_id=row["doc_id"],
            batch_id=row["batch_id"],
            seq=row["seq"],
            registration=row["registration"],
            metadata=json.loads(row["metadata"]),
            edited=json.loads(row["edited"]),
            warnings=json.loads(row["warnings"]),
            pdf=row["pdf"],
            stale=bool(row["stale"]),
            pages=mine,
            readings=json.loads(row["readings"]),
            not_secret=bool(row["not_secret"]),
        )

    # ------------------------------------------------------------------ pipeline

    def add_page(
        self,
        batch_id: str,
        page_id: int,
        info: dict[str, Any],
        *,
        thumb: str | None = None,
        clean: str | None = None,
    ) -> None:
        """Add a captured page (again: update what is known of it)."""
        with self.store.transaction() as db:
            row = db.execute(
                "SELECT coalesce(max(position), 0) + 1 FROM review_pages WHERE batch_id = ?",
                (batch_id,),
            ).fetchone()
            db.execute(
                "INSERT INTO review_pages (page_id, batch_id, position, info, clean, thumb)"
                " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(page_id) DO UPDATE SET"
                " info = excluded.info, clean = coalesce(excluded.clean, clean),"
                " thumb = coalesce(excluded.thumb, thumb)",
                (page_id, batch_id, row[0], json.dumps(info), clean, thumb),
            )

    def _labelled(self, batch_id: str) -> bool:
        """Whether the batch's documents need a registration label: received
        ones do (their Số đến), sent ones (văn bản đi) do not."""
        return self.store.batch(batch_id).direction == "incoming"

    def clean(self, doc: ReviewDoc) -> bool:
        """Nothing for the clerk to answer: without a warning, and labelled
        when its batch's documents need a label (received ones)."""
        return not doc.warnings and (
            doc.registration is not None or not self._labelled(doc.batch_id)
        )

    def relabel(self, batch_id: str) -> None:
        """The batch changed direction: "no registration label" asked of a
        received document only."""
        labelled = self._labelled(batch_id)
        with self.store.transaction() as db:
            for doc in self.documents(batch_id):
                kept = [w for w in doc.warnings if w["code"] != "no_registration"]
                if labelled and not doc.registration:
                    kept.append(warning("no_registration"))
                db.execute(
                    "UPDATE review_docs SET warnings = ? WHERE doc_id = ?",
                    (json.dumps(kept, ensure_ascii=False), doc.doc_id),
                )

    def cover_direction(self, batch_id: str, rules: Rules) -> str | None:
        """The direction the batch's cover sheet gives it, if it has one."""
        pages = [p for p in self.pages(batch_id) if p.clean is not None]
        return cover_direction(self._infos(pages, rules))

    @staticmethod
    def _infos(pages: list[ReviewPage], rules: Rules) -> list[PageInfo]:
        return [
            page_info(
                page.page_id,
                bool(page.info.get("blank")) or page.deleted,
                page.info.get("barcodes", []),
                rules,
            )
            for page in pages
        ]

    def regroup(self, batch_id: str, rules: Rules) -> list[ReviewDoc]:
        """Documents by the barcode rules (docs/barcodes.md), from the cleaned pages so far."""
        pages = [p for p in self.pages(batch_id) if p.clean is not None]
        documents = split(self._infos(pages, rules), batch_id, labelled=self._labelled(batch_id))
        with self.store.transaction() as db:
            db.execute(
                "UPDATE review_pages SET doc_id = NULL, doc_seq = NULL WHERE batch_id = ?",
                (batch_id,),
            )
            db.execute("DELETE FROM review_docs WHERE batch_id = ?", (batch_id,))
            self._insert(db, batch_id, [(d.doc_id, d) for d in documents], 0)
        return self.documents(batch_id)

    def attach(self, batch_id: str, page_ids: list[int], rules: Rules) -> list[ReviewDoc]:
        """Pages scanned again into a batch under review: new documents after the others."""
        wanted = set(page_ids)
        pages = [p for p in self.pages(batch_id) if p.page_id in wanted and p.clean is not None]
        documents = split(self._infos(pages, rules), batch_id, labelled=self._labelled(batch_id))
        existing = self.documents(batch_id)
        taken = {d.registration for d in existing if d.registration}
        for doc in documents:
            if doc.registration in taken and "registration_repeated" not in {
                w["code"] for w in doc.warnings
            }:
                doc.warnings.append(warning("registration_repeated", label=doc.registration))
        first = self._doc_number(batch_id)
        named = [(f"{batch_id}-{first + n:03d}", d) for n, d in enumerate(documents)]
        with self.store.transaction() as db:
            self._insert(db, batch_id, named, max((d.seq for d in existing), default=0))
        return self.documents(batch_id)

    @staticmethod
    def _insert(db: Any, batch_id: str, documents: list[tuple[str, Any]], after: int) -> None:
        for seq, (doc_id, doc) in enumerate(documents, start=after + 1):
            metadata = {**dict.fromkeys(FIELDS), "PageAmount": len(doc.pages)}
            db.execute(
                "INSERT INTO review_docs (doc_id, batch_id, seq, registration, metadata,"
                " warnings) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    doc_id,
                    batch_id,
                    seq,
                    doc.registration,
                    json.dumps(metadata, ensure_ascii=False),
                    json.dumps(doc.warnings, ensure_ascii=False),
                ),
            )
            for n, page_id in enumerate(doc.pages, start=1):
                db.execute(
                    "UPDATE review_pages SET doc_id = ?, doc_seq = ? WHERE page_id = ?",
                    (doc_id, n, page_id),
                )

    def add_warning(self, doc_id: str, found: dict[str, Any]) -> None:
        doc = self.document(doc_id)
        warnings = [w for w in doc.warnings if w["code"] != found["code"]] + [found]
        with self.store.transaction() as db:
            db.execute(
                "UPDATE review_docs SET warnings = ? WHERE doc_id = ?",
                (json.dumps(warnings, ensure_ascii=False), doc_id),
            )

    def set_read(
        self,
        doc_id: str,
        metadata: dict[str, Any],
        pdf: str,
        warnings: list[dict[str, Any]],
        readings: dict[str, dict[str, Any]] | None = None,
    ) -> None:
        """What OCR read and made, and how; fields the clerk already corrected stay his."""
        doc = self.document(doc_id)
        merged = {**metadata, **{k: doc.metadata.get(k) for k in doc.edited}}
        if doc.not_secret and "Priority" not in doc.edited:
            merged["Priority"] = priority_marks(merged.get("Priority"))[1] or None
        merged["PageAmount"] = len(doc.pages)
        # found again by this reading: duplicates, the file's check
        keep = [w for w in doc.warnings if w["code"] not in ("duplicate", "pdf_check")]
        with self.store.transaction() as db:
            db.execute(
                "UPDATE review_docs SET metadata = ?, pdf = ?, stale = 0, warnings = ?,"
                " readings = ? WHERE doc_id = ?",
                (
                    json.dumps(merged, ensure_ascii=False),
                    pdf,
                    json.dumps(keep + warnings, ensure_ascii=False),
                    json.dumps(readings or {}, ensure_ascii=False),
                    doc_id,
                ),
            )

    # ------------------------------------------------------------------ the clerk

    def rotate(self, page_id: int, quarter_turns: int) -> ReviewPage:
        """Turn a page by quarter turns clockwise; its document becomes stale."""
        page = self.page(page_id)
        rotation = (page.rotation + 90 * quarter_turns) % 360
        with self.store.transaction() as db:
            db.execute(
                "UPDATE review_pages SET rotation = ? WHERE page_id = ?", (rotation, page_id)
            )
            self._stale(db, page.doc_id)
        return self.page(page_id)

    def delete_page(self, page_id: int) -> None:
        page = self.page(page_id)
        with self.store.transaction() as db:
            db.execute(
                "UPDATE review_pages SET deleted = 1, doc_id = NULL, doc_seq = NULL"
                " WHERE page_id = ?",
                (page_id,),
            )
            self._stale(db, page.doc_id)
        if page.doc_id:
            self._renumber(page.doc_id)

    def move_page(self, page_id: int, doc_id: str, index: int) -> None:
        """Put a page at ``index`` (0-based) of a document of the same batch; a
        negative index (the screen's "cuối") or one past the end puts it last."""
        page, target = self.page(page_id), self.document(doc_id)
        if target.batch_id != page.batch_id:
            raise InputError(
                "a page can only move within its batch", "chỉ chuyển trang trong cùng một lô"
            )
        order = [p.page_id for p in target.pages if p.page_id != page_id]
        order.insert(index if 0 <= index <= len(order) else len(order), page_id)
        with self.store.transaction() as db:
            db.execute(
                "UPDATE review_pages SET doc_id = ?, deleted = 0 WHERE page_id = ?",
                (doc_id, page_id),
            )
            for n, pid in enumerate(order, start=1):
                db.execute("UPDATE review_pages SET doc_seq = ? WHERE page_id = ?", (n, pid))
            self._stale(db, doc_id)
            self._stale(db, page.doc_id)
        self._renumber(doc_id)
        if page.doc_id and page.doc_id != doc_id:
            self._renumber(page.doc_id)

    def split_at(self, page_id: int) -> ReviewDoc:
        """A new document from this page to the end of its document."""
        page = self.page(page_id)
        if page.doc_id is None:
            raise InputError("the page is in no document", "trang này không thuộc văn bản nào")
        doc = self.document(page.doc_id)
        at = next(n for n, p in enumerate(doc.pages) if p.page_id == page_id)
        if at == 0:
            raise InputError(
                "this page already starts its document", "trang này đã là trang đầu văn bản"
            )
        new_id = self._new_doc_id(doc.batch_id)
        label = _label_of(doc.pages[at])
        with self.store.transaction() as db:
            db.execute(
                "UPDATE review_docs SET seq = seq + 1 WHERE batch_id = ? AND seq > ?",
                (doc.batch_id, doc.seq),
            )
            metadata = {**dict.fromkeys(FIELDS), "PageAmount": len(doc.pages) - at}
            unlabelled = not label and self._labelled(doc.batch_id)
            warnings = [warning("no_registration")] if unlabelled else []
            db.execute(
                "INSERT INTO review_docs (doc_id, batch_id, seq, registration, metadata,"
                " warnings) VALUES (?, ?, ?, ?, ?, ?)",
                (new_id, doc.batch_id, doc.seq + 1, label, json.dumps(metadata),
                 json.dumps(warnings, ensure_ascii=False)),
            )  # fmt: skip
            for n, moved in enumerate(doc.pages[at:], start=1):
                db.execute(
                    "UPDATE review_pages SET doc_id = ?, doc_seq = ? WHERE page_id = ?",
                    (new_id, n, moved.page_id),
                )
            self._stale(db, doc.doc_id)
        self._renumber(doc.doc_id)
        return self.document(new_id)

    def merge_next(self, doc_id: str) -> ReviewDoc:
        """Append the next document's pages to this one and drop the next."""
        doc = self.document(doc_id)
        following = [d for d in self.documents(doc.batch_id) if d.seq > doc.seq]
        if not following:
            raise InputError("no document after this one", "không có văn bản nào sau văn bản này")
        nxt = following[0]
        with self.store.transaction() as db:
            for n, page in enumerate(nxt.pages, start=len(doc.pages) + 1):
                db.execute(
                    "UPDATE review_pages SET doc_id = ?, doc_seq = ? WHERE page_id = ?",
                    (doc_id, n, page.page_id),
                )
            db.execute("DELETE FROM review_docs WHERE doc_id = ?", (nxt.doc_id,))
            db.execute(
                "UPDATE review_docs SET seq = seq - 1 WHERE batch_id = ? AND seq > ?",
                (doc.batch_id, nxt.seq),
            )
            self._stale(db, doc_id)
        self._renumber(doc_id)
        return self.document(doc_id)

    def set_field(self, doc_id: str, name: str, value: str, *, today: date | None = None) -> Any:
        """Set a header field the clerk corrected (checked as Decree 30 asks)."""
        if name not in EDITABLE:
            raise InputError(f"{name} cannot be edited", f"không sửa được trường {name}")
        checked = check_field(name, value, today or date.today())
        doc = self.document(doc_id)
        metadata = {**doc.metadata, name: checked}
        edited = sorted({*doc.edited, name})
        with self.store.transaction() as db:
            db.execute(
                "UPDATE review_docs SET metadata = ?, edited = ? WHERE doc_id = ?",
                (json.dumps(metadata, ensure_ascii=False), json.dumps(edited), doc_id),
            )
        return checked

    def set_registration(self, doc_id: str, text: str, pattern: str) -> str:
        """Give a document its registration label (Số đến) by hand."""
        label = text.strip().upper()
        if not re.fullmatch(pattern, label):
            raise InputError(
                f"{label!r} is not a registration label (e.g. DEN-2026-000123)",
                f"{label!r} không phải nhãn số đến (ví dụ DEN-2026-000123)",
            )
        doc = self.document(doc_id)
        others = [
            d.doc_id
            for d in self.documents(doc.batch_id)
            if d.registration == label and d.doc_id != doc_id
        ]
        if others:
            raise InputError(
                f"{label} is already used by another document of this batch",
                f"{label} đã dùng cho một văn bản khác trong lô",
            )
        on_file = Register(self.store).holding(label)
        if on_file is not None and on_file.doc_id != doc_id:
            raise InputError(
                f"{label} is already in the register (arrival no. {on_file.number}, "
                f"{on_file.arrival_date:%d/%m/%Y})",
                f"{label} đã có trong sổ đến (số đến {on_file.number}, "
                f"ngày {on_file.arrival_date:%d/%m/%Y})",
            )
        cleared = ("no_registration", "registration_repeated", "registration_on_file")
        warnings = [w for w in doc.warnings if w["code"] not in cleared]
        with self.store.transaction() as db:
            db.execute(
                "UPDATE review_docs SET registration = ?, warnings = ? WHERE doc_id = ?",
                (label, json.dumps(warnings, ensure_ascii=False), doc_id),
            )
        return label

    def dismiss_warning(self, doc_id: str, code: str) -> None:
        """The clerk has seen a warning (a duplicate that is not one) and goes on."""
        doc = self.document(doc_id)
        if code in ("no_registration",):
            raise InputError("assign a registration label instead", "hãy gán nhãn số đến")
        if code in UNDISMISSABLE:
            raise InputError(
                "a PDF that fails the Decree 30 check cannot be sent: scan the page again or "
                "remove it",
                "tệp PDF chưa đạt chuẩn không gửi được: quét lại trang đó hoặc bỏ trang",
            )
        warnings = [w for w in doc.warnings if w["code"] != code]
        with self.store.transaction() as db:
            db.execute(
                "UPDATE review_docs SET warnings = ? WHERE doc_id = ?",
                (json.dumps(warnings, ensure_ascii=False), doc_id),
            )
            if code in SECRECY_QUESTIONS:
                # "không phải văn bản mật": the marks are not asked about again,
                # and a level read in the header is no level
                for page in doc.pages:
                    if page.info.get("secrecy"):
                        info = {**page.info, "secrecy": {**page.info["secrecy"], "cleared": True}}
                        db.execute(
                            "UPDATE review_pages SET info = ? WHERE page_id = ?",
                            (json.dumps(info), page.page_id),
                        )
                # the clerk's word: no reading puts a level back (set_read)
                urgency = priority_marks(doc.metadata.get("Priority"))[1]
                metadata = {**doc.metadata, "Priority": urgency or None}
                db.execute(
                    "UPDATE review_docs SET metadata = ?, not_secret = 1 WHERE doc_id = ?",
                    (json.dumps(metadata, ensure_ascii=False), doc_id),
                )
                if urgency != (doc.metadata.get("Priority") or ""):
                    self._stale(db, doc_id)  # its PDF's XMP said secret

    def drop_empty(self, batch_id: str) -> None:
        """Remove documents left without pages."""
        for doc in self.documents(batch_id):
            if not doc.pages:
                with self.store.transaction() as db:
                    db.execute("DELETE FROM review_docs WHERE doc_id = ?", (doc.doc_id,))
        with self.store.transaction() as db:
            for seq, doc in enumerate(self.documents(batch_id), start=1):
                db.execute("UPDATE review_docs SET seq = ? WHERE doc_id = ?", (seq, doc.doc_id))

    def erase_document(self, doc_id: str) -> list[int]:
        """A document that must not stay on the station (a secret one): the files
        of its pages in the work folder (corrected pages, thumbnails, turned
        copies) and its PDF overwritten and removed, its rows deleted. The pages
        of no document among and right after its pages go with it: blank sides
        (a blank back shows the front through), separators, and pages the clerk
        deleted. Returns the ids of those pages, whose captured files the
        store erases."""
        doc = self.document(doc_id)
        pages = self.pages(doc.batch_id)
        # a page of no document (doc_id None): blank, separator, deleted by the clerk
        mine = {pages[i].page_id for i in sheets_of(doc_id, [p.doc_id for p in pages])}
        folder = self.work / doc.batch_id
        names = re.compile(
            rf"^\.?(?:raw-|p|t)(?:{'|'.join(map(str, sorted(mine)))})(?:-r\d+)?\.jpg(?:\.tmp)?$"
            if mine
            else r"^$"
        )
        doomed = [f for f in folder.iterdir() if names.match(f.name)] if folder.is_dir() else []
        doomed += [folder / f"{doc_id}.pdf", folder / f".{doc_id}.pdf.tmp"]
        for path in doomed:
            erase(path)
        with self.store.transaction() as db:
            db.execute("DELETE FROM review_docs WHERE doc_id = ?", (doc_id,))
            db.executemany(
                "DELETE FROM review_pages WHERE page_id = ?", [(page_id,) for page_id in mine]
            )
        self.drop_empty(doc.batch_id)
        return sorted(mine)

    # ------------------------------------------------------------------ helpers

    @staticmethod
    def _stale(db: Any, doc_id: str | None) -> None:
        if doc_id:
            db.execute("UPDATE review_docs SET stale = 1 WHERE doc_id = ?", (doc_id,))

    def _renumber(self, doc_id: str) -> None:
        doc = self.document(doc_id)
        with self.store.transaction() as db:
            for n, page in enumerate(doc.pages, start=1):
                db.execute(
                    "UPDATE review_pages SET doc_seq = ? WHERE page_id = ?", (n, page.page_id)
                )
            metadata = {**doc.metadata, "PageAmount": len(doc.pages)}
            db.execute(
                "UPDATE review_docs SET metadata = ? WHERE doc_id = ?",
                (json.dumps(metadata, ensure_ascii=False), doc_id),
            )
        if not doc.pages:
            self.drop_empty(doc.batch_id)

    def _doc_number(self, batch_id: str) -> int:
        """The next free document number of a batch (ids are never reused)."""
        rows = self.store.query(
            "SELECT doc_id FROM review_docs WHERE batch_id = ? UNION"
            " SELECT doc_id FROM review_pages WHERE batch_id = ? AND doc_id IS NOT NULL",
            (batch_id, batch_id),
        )
        numbers = [
            int(r["doc_id"].rsplit("-", 1)[1])
            for r in rows
            if r["doc_id"] and r["doc_id"].rsplit("-", 1)[1].isdigit()
        ]
        return max(numbers, default=0) + 1

    def _new_doc_id(self, batch_id: str) -> str:
        return f"{batch_id}-{self._doc_number(batch_id):03d}"


def _label_of(page: ReviewPage) -> str | None:
    """The page's registration label (``info["registrations"]``, read by the rules)."""
    labels = page.info.get("registrations") or []
    return str(labels[0]) if labels else None
