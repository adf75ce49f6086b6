"""From captured pages to confirmed, queued documents, beside capture.

The capture thread hands each stored page to :meth:`Processor.captured`, which
makes a thumbnail of the raw page at once (the clerk sees it within a second)
and queues the page for cleaning in a worker process (the page step,
:mod:`station.pipeline.page`). One ``batches`` thread takes the results in
order (its steps are the table :attr:`Processor.handlers`): cleaned pages
join the review and the documents are grouped again; when a capture ends and
its pages are clean, the stale documents go to the OCR worker
(:class:`station.pipeline.document.OcrPool`); their fields come back into
the review, with the warnings of :mod:`station.pipeline.duplicates`.
A clean batch counts down (:class:`station.review.countdown.Countdown`);
:meth:`confirm` makes the documents whose pages the clerk changed again, and
:class:`station.pipeline.confirm.Confirmation` registers, writes the final XMP,
records, signs and queues them for delivery. Nothing here waits for OCR:
capture and cleaning go on.

A step that fails for want of room (:class:`~station.errors.DiskFull`, or a
worker's error caused by a full disk) is parked, not dropped: ``on_disk_full``
tells the station, and :meth:`Processor.unpark` takes every parked step up
again, in order, once there is room (a page is cleaned again, a batch read or
confirmed again), so no batch is left ``processing``.
"""

from __future__ import annotations

import io
import logging
import queue
import threading
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from PIL import Image

from station.barcodes.decode import Rules
from station.barcodes.split import SECRECY_QUESTIONS, warning
from station.capture.imageio import read_frames
from station.common import workers
from station.common.clock import VIETNAM
from station.common.fsutil import atomic_write, full_disk
from station.common.hub import Hub
from station.common.supervisor import Supervised
from station.config import PAGE_SIZES_MM
from station.config.remote import Settings
from station.errors import (
    DiskFull,
    InputError,
    NotCompliant,
    StationError,
    StorageError,
    StorageFull,
)
from station.pipeline.confirm import Confirmation
from station.pipeline.document import BatchJob, DocumentJob, Finished, OcrPool
from station.pipeline.duplicates import duplicate_warnings
from station.pipeline.page import PageReport, clean_page, marked, page_rules
from station.pipeline.secret import SecretDesk
from station.records.outgoing_register import OutgoingRegister
from station.records.register import Register
from station.records.secret_register import secrecy_level
from station.review.checks import Finding, Sent, before_confirming, next_numbers
from station.review.countdown import Countdown
from station.review.drafts import Review, ReviewDoc
from station.store import Page, Store
from station.store.originals import Originals

log = logging.getLogger("scanstation.pipeline")

THUMB_WIDTH = 240


def thumbnail(data: bytes, rotation: int = 0, width: int = THUMB_WIDTH) -> bytes:
    """A small JPEG of a page; JPEGs are decoded at 1/8 size (a few ms)."""
    with Image.open(io.BytesIO(data)) as image:
        image.draft("RGB", (width, width * 2))
        small = image.convert("RGB")
        small.thumbnail((width, width * 2))
        if rotation:
            small = small.rotate(-rotation, expand=True)
        out = io.BytesIO()
        small.save(out, "JPEG", quality=80)
    return out.getvalue()


def rotated(source: Path, rotation: int, target: Path) -> Path:
    """The page turned ``rotation`` degrees clockwise, at its resolution."""
    if not rotation:
        return source
    with Image.open(source) as image:
        dpi = image.info.get("dpi", (200, 200))
        turned = image.rotate(-rotation, expand=True)
        out = io.BytesIO()
        turned.save(out, "JPEG", quality=92, subsampling=0, dpi=dpi)
    atomic_write(target, out.getvalue(), mode=0o640)
    return target


def clean_to_files(
    source: Path,
    dpi: int,
    sensitivity: str,
    rules: Rules,
    clean_out: Path,
    thumb_out: Path,
    paper_mm: tuple[float, float] = PAGE_SIZES_MM["A4"],
) -> PageReport:
    """The page step in the worker, its corrected page and thumbnail written;
    ``paper_mm``: the paper of the profile the page was scanned with."""
    frame = next(iter(read_frames(source, dpi)))
    page = clean_page(frame, source.name, sensitivity, rules, paper_mm)
    atomic_write(clean_out, page.data, mode=0o640)
    atomic_write(thumb_out, thumbnail(page.data), mode=0o640)
    return page.report


@dataclass
class _Batch:
    """What the batches thread knows of a batch under way."""

    sent: int = 0
    cleaned: int = 0
    captured: bool = False
    reading: bool = False
    #: asked to read while a reading was under way: read again after it (True:
    #: and confirm)
    read_again: bool | None = None
    confirming: bool = False


Step = tuple[str, tuple[Any, ...]]


class Processor(Supervised):
    def __init__(
        self,
        store: Store,
        review: Review,
        settings: Settings,
        hub: Hub,
        originals: Originals | None = None,
    ) -> None:
        self.stop_event = threading.Event()
        super().__init__("batches", self.loop, self.stop_event)
        self.store = store
        self.review = review
        self.settings = settings
        self.hub = hub
        self.inbox: queue.Queue[Step] = queue.Queue()
        #: steps that failed for want of room, taken up again by :meth:`unpark`
        self.parked: list[Step] = []
        self._parked_lock = threading.Lock()
        self.batches: dict[str, _Batch] = {}
        self.countdown = Countdown(
            review,
            lambda: settings.config.pipeline.auto_confirm_seconds,
            hub.publish,
            lambda batch: not self.findings(batch),
        )
        self.confirmation = Confirmation(store, review, settings, hub)
        self.secrets = SecretDesk(store, review, settings, hub, originals)
        self.cleaner = workers.pool(1)
        self.ocr = OcrPool()
        self.on_error: Callable[[StationError], None] = lambda error: None
        self.on_disk_full: Callable[[DiskFull], None] = lambda error: None
        #: whether the data disk is short of room now (a worker's error then counts as one)
        self.short_of_room: Callable[[], bool] = lambda: False
        #: the steps of the inbox and who does them
        self.handlers: dict[str, Callable[..., None]] = {
            "clean": self._on_clean,
            "cleaned": self._on_cleaned,
            "ended": self._on_ended,
            "read": self._on_read,
            "reread": self._on_reread,
            "confirm": self._on_confirm,
            "resume_countdown": self.countdown.resume,
            "sign_held": self.confirmation.release_held,
            "secret": self._on_secret,
        }

    @property
    def rules(self) -> Rules:
        return page_rules(self.settings.config)

    # ------------------------------------------------------------------ from capture

    def captured(self, review_batch: str, page: Page) -> None:
        """A page is stored (capture thread): thumbnail now, cleaning queued."""
        folder = self.review.folder(review_batch)
        source = self.store.page_path(page)
        try:
            raw = thumbnail(source.read_bytes())
            atomic_write(folder / f"raw-{page.id}.jpg", raw, mode=0o640)
            thumb = f"{review_batch}/raw-{page.id}.jpg"
        except (OSError, ValueError, StorageError) as exc:
            log.warning("no thumbnail for page %s: %s", page.id, exc)
            thumb = None
        self.review.add_page(review_batch, page.id, {"captured": True}, thumb=thumb)
        self.hub.publish("page", batch=review_batch, page=page.id, thumb=thumb, stage="captured")
        self.inbox.put(("clean", (review_batch, page)))

    def capture_ended(self, review_batch: str, capture_batch: str | None) -> None:
        self.inbox.put(("ended", (review_batch, capture_batch)))

    def confirm(self, review_batch: str) -> None:
        self.inbox.put(("confirm", (review_batch,)))

    # ------------------------------------------------------------------ the thread

    def unpark(self) -> None:
        """There is room again: the parked steps go back into the inbox, in order,
        before anything the caller queues after this."""
        with self._parked_lock:
            parked, self.parked = self.parked, []
        for step in parked:
            self.inbox.put(step)

    def loop(self) -> None:
        while not self.stop_event.is_set():
            try:
                kind, args = self.inbox.get(timeout=0.2)
            except queue.Empty:
                self._tick()
                continue
            try:
                self.handlers[kind](*args)
            except Exception as exc:  # one failed step must not stop the pipeline
                full = exc if isinstance(exc, DiskFull) else full_disk(exc, self.review.work)
                if full is None and self.short_of_room():
                    full = StorageFull(
                        f"{kind} failed while the disk is full: {exc}",
                        f"{kind} thất bại khi hết dung lượng lưu trữ: {exc}",
                    )
                if full is not None:
                    self._park(kind, args, full)
                elif isinstance(exc, StationError):
                    log.warning("%s failed: %s", kind, exc.message_en)
                    self.on_error(exc)
                else:
                    log.exception("%s failed", kind)
            self._tick()

    def _park(self, kind: str, args: tuple[Any, ...], error: DiskFull) -> None:
        """Keep a step that failed for want of room, to be done again."""
        log.warning("%s waits for room: %s", kind, error.message_en)
        if kind == "cleaned":  # the page is cleaned again
            review_batch, page, _done = args
            state = self._state(review_batch)
            state.sent -= 1
            state.cleaned -= 1
            kind, args = "clean", (review_batch, page)
        elif kind == "read":  # the batch is read (and confirmed) again
            review_batch, _ids, _done, confirming = args
            kind, args = "reread", (review_batch, confirming)
        elif kind == "confirm":
            self._state(args[0]).confirming = False
        with self._parked_lock:
            self.parked.append((kind, args))
        self.on_disk_full(error)

    def _waiting_for_room(self, review_batch: str) -> bool:
        with self._parked_lock:
            return any(args and args[0] == review_batch for _kind, args in self.parked)

    def _on_reread(self, review_batch: str, confirming: bool) -> None:
        self._read(review_batch, confirming=confirming)

    def close(self) -> None:
        self.stop_event.set()
        if self.is_alive():
            self.join(timeout=10)
        self.cleaner.shutdown(wait=True, cancel_futures=True)
        self.ocr.close()

    def _state(self, batch: str) -> _Batch:
        return self.batches.setdefault(batch, _Batch())

    def _on_clean(self, review_batch: str, page: Page) -> None:
        folder = self.review.folder(review_batch)
        config = self.settings.config
        future = self.cleaner.submit(
            clean_to_files,
            self.store.page_path(page),
            page.dpi,
            config.pipeline.blank_sensitivity,
            self.rules,
            folder / f"p{page.id}.jpg",
            folder / f"t{page.id}.jpg",
            self._paper(page),
        )
        self._state(review_batch).sent += 1
        future.add_done_callback(
            lambda done: self.inbox.put(("cleaned", (review_batch, page, done)))
        )

    def _paper(self, page: Page) -> tuple[float, float]:
        """The paper of the profile the page was scanned with (A4 when that
        profile is no longer configured)."""
        try:
            return self.settings.config.profile(self.store.batch(page.batch_id).profile).paper_mm
        except StationError:
            return PAGE_SIZES_MM["A4"]

    def _on_cleaned(self, review_batch: str, page: Page, done: Future[PageReport]) -> None:
        page_id = page.id
        state = self._state(review_batch)
        state.cleaned += 1
        info: dict[str, Any]
        try:
            info = done.result().as_info()
        except InputError as exc:
            info = {"blank": True, "error": exc.message_en}
            log.warning("page %s could not be cleaned: %s", page_id, exc.message_en)
        self.review.add_page(
            review_batch,
            page_id,
            info,
            clean=f"{review_batch}/p{page_id}.jpg" if "error" not in info else None,
            thumb=f"{review_batch}/t{page_id}.jpg" if "error" not in info else None,
        )
        if self.store.batch(review_batch).state in ("capturing", "captured", "interrupted"):
            self.review.regroup(review_batch, self.rules)
        self.hub.publish(
            "page", batch=review_batch, page=page_id, thumb=f"{review_batch}/t{page_id}.jpg",
            stage="cleaned", blank=bool(info.get("blank")),
        )  # fmt: skip
        self._maybe_read(review_batch)

    def _on_ended(self, review_batch: str, capture_batch: str | None) -> None:
        self._state(review_batch).captured = True
        self._maybe_read(review_batch)

    def _maybe_read(self, review_batch: str) -> None:
        state = self._state(review_batch)
        if not state.captured or state.cleaned < state.sent or state.reading:
            return
        if self._waiting_for_room(review_batch):  # a page still to be cleaned again
            return
        if self.store.batch(review_batch).state == "review":
            self._append_new_pages(review_batch)
        self._follow_cover(review_batch)
        for capture_batch in self.review.capture_batches(review_batch):
            self.store.advance_batch(capture_batch, "processing")
        self._read(review_batch)

    def _follow_cover(self, review_batch: str) -> None:
        """A cover sheet on top of the stack says whether its documents are
        received or sent, whatever was chosen on the screen (docs/outgoing.md)."""
        cover = self.review.cover_direction(review_batch, self.rules)
        if cover and cover != self.store.batch(review_batch).direction:
            log.info("batch %s: a cover sheet makes it %s", review_batch, cover)
            self.store.set_batch_direction(review_batch, cover)
            self.review.relabel(review_batch)

    def _append_new_pages(self, review_batch: str) -> None:
        """Pages scanned again into a batch under review become documents of their own."""
        loose = [p for p in self.review.pages(review_batch) if p.doc_id is None and p.kept]
        if loose:
            self.review.attach(review_batch, [p.page_id for p in loose], self.rules)

    def _read(self, review_batch: str, *, confirming: bool = False) -> None:
        """OCR the stale documents (all of them the first time), in the OCR worker;
        on a connected station, a secret document is stopped first, never read
        (:mod:`station.pipeline.secret`)."""
        if self._stop_secrets(review_batch):
            confirming = self._state(review_batch).confirming = False
        state = self._state(review_batch)
        if state.reading:  # read again (and confirm) once the reading under way ends
            state.read_again = confirming or bool(state.read_again)
            return
        docs = [
            d for d in self.review.documents(review_batch) if (d.stale or not d.pdf) and not held(d)
        ]
        if not docs:
            self.inbox.put(("read", (review_batch, [], None, confirming)))
            return
        config = self.settings.config
        job = BatchJob(
            documents=tuple(self._job(doc) for doc in docs),
            batch_id=review_batch,
            work=self.review.folder(review_batch),
            station_id=config.station.id,
            languages=tuple(config.ocr.languages),
            jobs=ocr_jobs(config.ocr.jobs),
            timeout_s=config.ocr.page_timeout_s,
            min_confidence=config.ocr.min_confidence,
        )
        state.reading = True
        self.hub.publish("batch", batch=review_batch, stage="reading", documents=len(docs))
        future = self.ocr.submit(job)
        ids = [d.doc_id for d in docs]
        future.add_done_callback(
            lambda done: self.inbox.put(("read", (review_batch, ids, done, confirming)))
        )

    def _stop_secrets(self, review_batch: str) -> bool:
        """On a connected station: a document the clerk said is secret (its
        Priority chosen so) is stopped; one whose page carries a secrecy mark,
        read (``info["secrecy"]``) or not, or whose header was read with a
        level, is held and asks the clerk (``secrecy_read``, ``secrecy_unsure``):
        a false alarm only asks, and until answered the document is neither
        read nor sent. Before OCR and after it. True when a document was
        stopped or is held."""
        if not self.secrets.connected:
            return False
        found = False
        for doc in self.review.documents(review_batch):
            on_page, unsure = marked(p.info.get("secrecy") for p in doc.pages)
            in_header = secrecy_level(doc.metadata.get("Priority"))
            if in_header and "Priority" in doc.edited:  # the clerk's own choice
                self._on_secret(doc.doc_id, str(in_header), "clerk")
            elif on_page or in_header:
                level = on_page or str(in_header)
                self.review.add_warning(
                    doc.doc_id, {**warning("secrecy_read", level=level), "level": level}
                )
            elif unsure:
                self.review.add_warning(doc.doc_id, warning("secrecy_unsure"))
            else:
                continue
            found = True
        return found

    def read_again(self, review_batch: str) -> None:
        """Read the documents not read yet (one the clerk said is not secret)."""
        self.inbox.put(("reread", (review_batch, False)))

    def _on_secret(
        self, doc_id: str, level: str, found_by: str, done: threading.Event | None = None
    ) -> None:
        """Stop a secret document; its batch waits for the clerk, who sees why.
        ``done`` is set once it is stopped (the clerk's screen waits for it)."""
        try:
            batch = self.review.document(doc_id).batch_id
            captured = self.review.capture_batches(batch)
            self.secrets.stop(doc_id, level, found_by)
            self.countdown.stop(batch)
            if not self.review.documents(batch):  # nothing else was in the batch
                for capture_batch in captured:
                    self.store.advance_batch(capture_batch, "review")
                    self.store.set_batch_state(capture_batch, "cancelled")
            self.hub.publish("batch", batch=batch, stage="review")
        finally:
            if done is not None:
                done.set()

    def _job(self, doc: ReviewDoc) -> DocumentJob:
        folder = self.review.folder(doc.batch_id)
        pages = tuple(
            rotated(
                self.review.work / str(page.clean),
                page.rotation,
                folder / f"p{page.page_id}-r{page.rotation}.jpg",
            )
            for page in doc.pages
        )
        return DocumentJob(pages, folder / f"{doc.doc_id}.pdf", doc.doc_id, doc.registration)

    def _on_read(
        self,
        review_batch: str,
        ids: list[str],
        done: Future[list[Finished]] | None,
        confirming: bool,
    ) -> None:
        state = self._state(review_batch)
        state.reading = False
        if state.read_again is not None:
            self.inbox.put(("reread", (review_batch, state.read_again)))
            state.read_again = None
        results = done.result() if done is not None else []
        for doc_id, finished in zip(ids, results, strict=True):
            pdf = f"{review_batch}/{doc_id}.pdf"
            read = finished.read
            self.review.set_read(
                doc_id, read.fields, pdf, finished.warnings(), read.readings_json()
            )
        if self._stop_secrets(review_batch) and confirming:
            # a secret document is never sent: back to the clerk, who sees why
            log.warning("batch %s not confirmed: a secret document was stopped", review_batch)
            state.confirming = False
            confirming = False
        self._warn_duplicates(review_batch)
        for capture_batch in self.review.capture_batches(review_batch):
            self.store.advance_batch(capture_batch, "review")
        if confirming and any(finished.problems for finished in results):
            # read again for the confirmation, a file fails its check: for the clerk
            log.warning("batch %s not confirmed: a PDF fails the Decree 30 check", review_batch)
            state.confirming = False
            confirming = False
        if confirming:
            self._finalize(review_batch)
            return
        self.hub.publish("batch", batch=review_batch, stage="review")
        if not self.secrets.stopped_in(review_batch):  # else the batch waits for the clerk
            self.countdown.arm(review_batch)

    def _warn_duplicates(self, review_batch: str) -> None:
        """docs/decree30.md#duplicates: number + symbol + agency already in this batch or on file
        (:mod:`station.pipeline.duplicates`); and a registration label already in
        the register (a label used twice)."""
        docs = self.review.documents(review_batch)
        register = Register(self.store)
        for doc in docs:
            codes = {w["code"] for w in doc.warnings}
            on_file = register.holding(doc.registration) if doc.registration else None
            if on_file and on_file.doc_id != doc.doc_id and "registration_on_file" not in codes:
                self.review.add_warning(
                    doc.doc_id,
                    warning(
                        "registration_on_file",
                        label=on_file.registration,
                        day=f"{on_file.arrival_date:%d/%m/%Y}",
                    ),
                )
        duplicates = duplicate_warnings(docs, review_batch, self.store)
        for doc, found in zip(docs, duplicates, strict=True):
            if found is not None:
                self.review.add_warning(doc.doc_id, found.as_json())

    # ------------------------------------------------------------------ confirming

    def _tick(self) -> None:
        self.confirmation.retry_held()
        for batch in self.countdown.due():
            if self.findings(batch):  # the register changed meanwhile: for the clerk
                log.info("batch %s not confirmed by the countdown: it needs the clerk", batch)
                self.countdown.stop(batch)
                continue
            log.info("batch %s confirmed by the countdown", batch)
            self._on_confirm(batch)

    def findings(self, review_batch: str) -> list[Finding]:
        """What confirming the batch would ask the clerk (:mod:`station.review.checks`)."""
        config = self.settings.config
        outgoing = self.store.batch(review_batch).direction == "outgoing"
        return before_confirming(
            self.review.documents(review_batch),
            Register(self.store, config.incoming.holidays),
            config.pipeline.registration_pattern,
            datetime.now(VIETNAM).date(),
            self.review.labels_elsewhere(review_batch),
            (self.store.outbox.rescan(batch_id=review_batch) or {}).get("doc_id", ""),
            labelled=not outgoing,
            sent=self.sent(review_batch) if outgoing else None,
        )

    def sent(self, review_batch: str) -> Sent:
        """What a batch of sent documents is checked against: the Sổ đi."""
        section = self.settings.config.outgoing
        register = OutgoingRegister(self.store, section.numbering)
        return Sent(register, section.notation, register.pending(review_batch))

    def next_numbers(self, review_batch: str) -> dict[str, str]:
        """ "Dùng số tiếp theo": the number offered to each sent document of
        the batch whose Số is empty (none for received documents)."""
        if self.store.batch(review_batch).direction != "outgoing":
            return {}
        today = datetime.now(VIETNAM).date()
        return next_numbers(self.review.documents(review_batch), self.sent(review_batch), today)

    def _on_confirm(self, review_batch: str) -> None:
        self.countdown.cancel(review_batch)
        state = self._state(review_batch)
        if state.confirming:
            return
        state.confirming = True
        self.hub.publish("batch", batch=review_batch, stage="confirming")
        self._read(review_batch, confirming=True)

    def _finalize(self, review_batch: str) -> None:
        try:
            self.confirmation.finalize(review_batch)
        except NotCompliant:
            # a final file failed its check: back to the clerk, with the warning
            self._state(review_batch).confirming = False
            self.hub.publish("batch", batch=review_batch, stage="review")
            raise
        self._state(review_batch).confirming = False
        self.hub.publish("batch", batch=review_batch, stage="done")
        self.hub.publish("outbox")

    # ------------------------------------------------------------------ for the screens

    def mark_secret(
        self, doc_id: str, level: str, found_by: str = "clerk", wait_s: float = 30.0
    ) -> bool:
        """The clerk's "Văn bản mật" (``found_by`` "clerk"), or the clerk's yes to
        a mark read on a page ("read"): the document is stopped on the batches
        thread; True once it is (within ``wait_s``), so the screen that follows
        shows it gone."""
        done = threading.Event()
        self.inbox.put(("secret", (doc_id, level, found_by, done)))
        return done.wait(wait_s)

    def sign_held(self) -> None:
        self.inbox.put(("sign_held", ()))

    def check_signing(self) -> None:
        self.confirmation.check_signing()

    def signing_status(self) -> dict[str, Any]:
        return self.confirmation.signing_status()

    def resume_countdown(self, review_batch: str) -> None:
        """After a restart: count down again unless the clerk had stopped it."""
        self.inbox.put(("resume_countdown", (review_batch,)))

    def stop_countdown(self, review_batch: str) -> bool:
        """The clerk stopped the countdown (or changed the batch): it stays stopped,
        across restarts, until the batch is read again."""
        return self.countdown.stop(review_batch)

    def confirming(self, review_batch: str) -> bool:
        """Whether the batch is being confirmed now (read, registered, queued)."""
        state = self.batches.get(review_batch)
        return state is not None and state.confirming

    def countdown_left(self, review_batch: str) -> float | None:
        return self.countdown.left(review_batch)


def held(doc: ReviewDoc) -> bool:
    """Whether a document waits for the clerk to say whether it is secret."""
    return any(w["code"] in SECRECY_QUESTIONS for w in doc.warnings)


def ocr_jobs(configured: int) -> int:
    """Tesseract processes: as configured, or all cores but one (capture keeps one)."""
    import os

    return configured or max(1, (os.cpu_count() or 2) - 1)
