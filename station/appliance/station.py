"""The station at work: capture, pipeline, review, delivery and telemetry wired
together, and the one place the UI asks for anything.

:class:`Station` owns the parts and their threads (``capture``, ``batches``,
``uplink``, ``telemetry``, ``storage``, the triggers) and stops them with one
event. Every thread is supervised (station/common/supervisor.py): a loop that fails is
logged, raised as the event ``thread.failed`` and run again after a pause. A
full disk stops capture cleanly (station/appliance/storage.py) and :meth:`Station.storage_back`
takes the work up again once there is room. Every change the clerk makes goes
through it, so it can stop a countdown and tell every open screen
(:class:`station.common.hub.Hub`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from station.appliance.scanner import LazySource, model_name
from station.appliance.stats import ScannerState, Stats
from station.appliance.storage import StorageGuard
from station.barcodes.split import SECRECY_QUESTIONS
from station.capture import Source
from station.capture.session import CaptureResult
from station.capture.triggers import (
    ButtonPoller,
    CaptureService,
    GpioButton,
    HotFolderWatcher,
    TriggerHub,
    TriggerRequest,
)
from station.common.clock import VIETNAM
from station.common.direction import DIRECTIONS
from station.common.hub import Hub
from station.common.logring import LogRing
from station.common.supervisor import Supervised, reporter, supervised
from station.config import Config
from station.config.remote import Settings
from station.errors import (
    DiskFull,
    InputError,
    NotFound,
    StationError,
)
from station.pipeline.live import Processor, thumbnail
from station.records.outgoing_register import OutgoingEntry, OutgoingRegister
from station.records.register import Entry, Register
from station.records.secret_register import SecretRegister, checked_level, secrecy_level
from station.records.vocabulary import priority_marks
from station.review.checks import Finding, Unanswered
from station.review.drafts import Review, ReviewDoc
from station.review.fields import EDITABLE, check_field
from station.store import Event, OutboxItem, Page, Periods, Retention, Store
from station.store.originals import Originals
from station.store.retention import interval
from station.uplink.link import StationLink

log = logging.getLogger("scanstation.station")


class Station:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        *,
        source: Source | None = None,
        connect: bool = True,
    ) -> None:
        config = settings.config
        self.settings = settings
        self.store = store
        self.hub = Hub()
        self.stop_event = threading.Event()
        #: how a failed loop is reported: the event thread.failed, and the screens
        self.report_crash = reporter(store, self.hub)
        self.storage = StorageGuard(
            store, self.hub, self.stop_event, self.storage_back, on_crash=self.report_crash
        )
        self.scanner = ScannerState(device=config.scanner.device)
        self.review = Review(store)
        #: a hot folder's originals (its .done/), erased with the station's copies
        self.originals: Originals | None = None
        if config.scanner.device.startswith("folder:"):
            from station.capture.folder import hot_folder

            hot = hot_folder(config.scanner.device)
            self.originals = Originals(store, hot) if hot is not None else None
        #: the files of batches past their retention go (station/store/retention.py)
        self.retention = Retention(store, self.review.work, self.originals)
        self.processor = Processor(store, self.review, settings, self.hub, self.originals)
        self.processor.on_error = self._pipeline_failed
        self.processor.on_disk_full = self.storage.full
        self.processor.short_of_room = self.storage.nearly_full
        self.processor.on_crash = self.report_crash
        self.triggers = TriggerHub()
        self.source: Source = source or LazySource(config.scanner.device, self.scanner)
        if source is not None:
            self.scanner.set("ready", device=source.name, model=model_name(source))
        self.link = StationLink.build(store, settings, self.scanner) if connect else None
        if self.link is not None:
            self.link.on_crash = self.report_crash
            for sender in self.link.senders:
                sender.on_receipt = self._receipt
            self.link.telemetry.on_disk_full = self.storage.full
        self.stats = self.link.stats if self.link else Stats(store, settings, self.scanner)
        self.stats.signing = self.processor.signing_status
        self.capture = CaptureService(
            config,
            store,
            self.source,
            self.triggers,
            self.stop_event,
            on_start=self._capture_started,
            on_page=self._page_captured,
            on_result=self._capture_ended,
            paused=self.storage.paused,
            on_notice=self._notice,
            direction=lambda: self.direction,
        )
        self.capture.on_crash = self.report_crash
        #: capture batches a full disk stopped, taken up again by storage_back
        self._stalled: set[str] = set()
        self.helpers: list[Supervised] = []
        #: capture batch -> the review it feeds
        self.targets: dict[str, str] = {}
        self._current: str | None = None
        self.last_batch: str | None = None
        #: what the next batch is: the scan screen's choice ([station] default_direction)
        self.direction: str = config.station.default_direction
        self.logs = LogRing()
        self.trigger_threads: list[Supervised] = []
        self.gpio: GpioButton | None = None
        self.hot_watcher: HotFolderWatcher | None = None
        #: one corrected copy at a time ("Gửi lại" tapped twice sends one)
        self._answering = threading.Lock()
        settings.listeners.append(self._config_changed)

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> None:
        logging.getLogger().addHandler(self.logs)
        for name in ("scanstation", "station"):  # the diagnostics screen shows INFO
            logger = logging.getLogger(name)
            if logger.getEffectiveLevel() > logging.INFO:
                logger.setLevel(logging.INFO)
        self.store.recover()
        self.processor.start()
        self.capture.start()
        self.storage.thread.start()
        if self.link is not None:
            self.link.start()
        if isinstance(self.source, LazySource):
            self._helper("scanner-probe", self.source.probe)
        self._start_triggers()
        if self.settings.config.signing.enabled:
            self._helper("signing-check", self.processor.check_signing)
        self._helper("retention", self._keep_within_retention)
        self._resume()

    def _helper(self, name: str, task: Callable[[], object]) -> None:
        """A one-off task in its own supervised thread (run again if it fails)."""
        thread = supervised(name, task, self.stop_event, on_crash=self.report_crash)
        thread.start()
        self.helpers.append(thread)

    def _start_triggers(self) -> None:
        """The scanner's own buttons, a GPIO button and a hot folder, as configured."""
        scanner = self.settings.config.scanner
        if scanner.device.startswith("folder:"):
            from station.capture.folder import FolderSource

            folder = FolderSource.from_device(scanner.device)
            if folder.hot:
                watcher = HotFolderWatcher(
                    folder.pending,
                    self.triggers,
                    self.stop_event,
                    busy=self.capture.busy,
                    paused=lambda: self.storage.paused() is not None,
                )
                watcher.on_crash = self.report_crash
                watcher.start()
                self.trigger_threads.append(watcher)
                self.hot_watcher = watcher
        elif scanner.poll_buttons:
            poller = ButtonPoller(
                self.source.read_sensors,
                self.triggers,
                self.stop_event,
                buttons=scanner.button_sensors,
                interval_s=scanner.button_poll_ms / 1000,
            )
            poller.on_crash = self.report_crash
            poller.start()
            self.trigger_threads.append(poller)
        if scanner.gpio_pin is not None:
            self.gpio = GpioButton(scanner.gpio_pin, self.triggers)

    def stop(self) -> None:
        self.stop_event.set()
        self.storage.wake.set()
        self.capture.join(timeout=30)
        for thread in [*self.trigger_threads, self.storage.thread, *self.helpers]:
            thread.join(timeout=5)
        if self.gpio is not None:
            self.gpio.close()
        self.processor.close()
        if self.link is not None:
            self.link.stop()
        self.source.close()
        logging.getLogger().removeHandler(self.logs)

    def alive(self) -> bool:
        loops = [
            self.capture.is_alive(),
            self.processor.is_alive(),
            self.storage.thread.is_alive(),
            *(thread.is_alive() for thread in self.trigger_threads),
        ]
        if self.link is not None:
            loops.append(self.link.alive())
        return all(loops)

    def _resume(self) -> None:
        """After a restart or a power cut: every batch goes on where it stopped.
        A capture cut off (its pages are kept) has its pages cleaned and goes to
        review; a batch cut off while being read or confirmed is taken up again.
        A secret document's erasure cut off is finished first."""
        self.processor.secrets.finish_interrupted()
        for batch in self.store.batches():
            if batch.state in ("interrupted", "captured") and self.store.pages(batch.id):
                target = self.review.review_of(batch.id) or batch.id
                self.targets[batch.id] = target
                cleaned = {p.page_id for p in self.review.pages(target) if p.clean}
                for page in self.store.pages(batch.id):
                    if page.id not in cleaned:
                        self.processor.captured(target, page)
                self.processor.capture_ended(target, batch.id)
                self.last_batch = target
                continue
            if batch.state in ("processing", "confirmed") and self.review.pages(batch.id):
                self.processor.batches.pop(batch.id, None)
                if batch.state == "confirmed":
                    self.processor.confirm(batch.id)
                else:
                    self.processor.capture_ended(batch.id, None)
            if batch.state in ("review", "processing"):
                self.last_batch = batch.id
            if batch.state == "review":
                self.processor.resume_countdown(batch.id)

    def retention_periods(self) -> Periods:
        """How long files are kept, as configured now."""
        config = self.settings.config
        return Periods(
            received=timedelta(hours=config.uplink.retention_hours),
            cancelled=timedelta(hours=config.station.cancelled_retention_hours),
        )

    def _keep_within_retention(self) -> None:
        """At start, then every :func:`~station.store.retention.interval`: the
        files of the batches past their retention are erased; an open screen of
        such a batch shows where its pages were."""
        while not self.stop_event.is_set():
            periods = self.retention_periods()
            for removal in self.retention.run(periods, stop=self.stop_event):
                self.hub.publish("batch", batch=removal.batch_id, stage="removed")
            self.stop_event.wait(interval(periods))

    def _config_changed(self, config: Config) -> None:
        self.capture.config = config
        self.store.min_free_bytes = config.station.min_free_mb * 2**20
        self.storage.wake.set()  # a lower floor may be room enough

    # ------------------------------------------------------------------ a full disk

    def storage_back(self) -> bool:
        """There is room again: what a restart would do for the work the full
        disk stopped. Batches left ``capturing`` are closed as ``interrupted``
        (half-written page files cleared), one without pages is cancelled, every
        stored page of a stopped batch goes on to the review, the pipeline takes
        up its parked steps, and the hot folder is watched again at once.
        False while a batch is still being captured (looked at again later); a
        write that fails for want of room raises, and the store stays full."""
        if self.capture.busy.is_set():
            return False
        self.store.recover()
        for batch in self.store.batches("interrupted"):
            if not self.store.pages(batch.id) and batch.id not in self.targets:
                self.store.set_batch_state(batch.id, "cancelled")
        self.processor.unpark()
        for batch_id in sorted(self._stalled):
            target = self.targets.get(batch_id, batch_id)
            reviewed = {p.page_id for p in self.review.pages(target)}
            for page in self.store.pages(batch_id):
                if page.id not in reviewed:
                    self.processor.captured(target, page)
            self.processor.capture_ended(target, batch_id)
            self._stalled.discard(batch_id)
        if self.hot_watcher is not None:
            self.hot_watcher.batch_ended(failed=False)
        self.scanner.set("ready")
        self.hub.publish("scanner", status="ready")
        return True

    # ------------------------------------------------------------------ capture

    def scan(self, profile: str | None = None, *, into: str | None = None) -> bool:
        """Press the button: a new batch, or more pages into a batch under review."""
        full = self.storage.paused()
        if full is not None:
            raise full
        if into is not None and self.store.batch(into).state != "review":
            raise InputError(
                "pages can only be added to a batch under review",
                "chỉ thêm trang vào lô đang xem lại",
            )
        if profile is not None:
            self.settings.config.profile(profile)  # an unknown profile is refused now
        if self.capture.busy.is_set():
            return False
        if into is not None:
            self.processor.stop_countdown(into)
        return self.triggers.fire("ui", profile, into or "")

    def _capture_started(self, request: TriggerRequest) -> None:
        self._current = None
        self.scanner.set("scanning")
        self.hub.publish("scanner", status="scanning")

    def _page_captured(self, request: TriggerRequest, page: Page) -> None:
        self._current = page.batch_id
        new = page.batch_id not in self.targets
        target = self.targets.setdefault(page.batch_id, request.detail or page.batch_id)
        if target == page.batch_id:
            self.last_batch = target
            if new and self.store.outbox.bind_rescan(target) is not None:
                log.info("batch %s replaces a refused document (Quét lại)", target)
        self.processor.captured(target, page)

    def _capture_ended(self, outcome: CaptureResult | StationError) -> None:
        batch_id, self._current = self._current, None
        if isinstance(outcome, DiskFull):
            # the scanner is fine: the store is full; its pages wait for room
            self.scanner.set("ready")
            self.storage.full(outcome)
            self.hub.publish("scanner", status="ready", error=outcome.to_json())
            if self.hot_watcher is not None:
                self.hot_watcher.batch_ended(True)
            if batch_id is not None:
                self._stalled.add(batch_id)
            return
        if isinstance(outcome, StationError):
            self.scanner.failed(outcome)
            self.hub.publish("scanner", status=self.scanner.status, error=outcome.to_json())
        else:
            self.scanner.set("ready")
            self.hub.publish("scanner", status="ready")
        # the pages captured before a fault are kept: they go on to the review,
        # and the clerk scans the rest into it once the fault is cleared
        if self.hot_watcher is not None:
            self.hot_watcher.batch_ended(isinstance(outcome, StationError))
        if batch_id is not None:
            self.processor.capture_ended(self.targets[batch_id], batch_id)

    def _notice(self, event: Event) -> None:
        """A file refused or already scanned: every open screen shows it."""
        message = {"vi": event.message_vi, "en": event.message_en}
        self.hub.publish("notice", id=event.id, type=event.type, message=message)

    def _pipeline_failed(self, error: StationError) -> None:
        self.hub.publish("error", error=error.to_json())

    # ------------------------------------------------------------------ the clerk

    def _changed(self, batch_id: str) -> None:
        self.processor.stop_countdown(batch_id)
        self.hub.publish("batch", batch=batch_id, stage="edited")

    def _editable(self, batch_id: str) -> None:
        if self.store.batch(batch_id).state != "review" or (
            self.processor.batches.get(batch_id, None)
            and (self.processor.batches[batch_id].confirming)
        ):
            raise InputError("this batch can no longer be changed", "lô này không còn sửa được nữa")

    def rotate(self, page_id: int, quarter_turns: int) -> None:
        page = self.review.page(page_id)
        self._editable(page.batch_id)
        page = self.review.rotate(page_id, quarter_turns)
        if page.clean:
            small = thumbnail((self.review.work / page.clean).read_bytes(), page.rotation)
            name = f"{page.batch_id}/t{page.page_id}-r{page.rotation}.jpg"
            (self.review.work / name).write_bytes(small)
            self.review.add_page(page.batch_id, page_id, page.info, thumb=name)
        self._changed(page.batch_id)

    def delete_page(self, page_id: int) -> None:
        page = self.review.page(page_id)
        self._editable(page.batch_id)
        self.review.delete_page(page_id)
        self._changed(page.batch_id)

    def move_page(self, page_id: int, doc_id: str, index: int) -> None:
        page = self.review.page(page_id)
        self._editable(page.batch_id)
        self.review.move_page(page_id, doc_id, index)
        self._changed(page.batch_id)

    def split_at(self, page_id: int) -> ReviewDoc:
        page = self.review.page(page_id)
        self._editable(page.batch_id)
        doc = self.review.split_at(page_id)
        self._changed(page.batch_id)
        return doc

    def merge_next(self, doc_id: str) -> ReviewDoc:
        doc = self.review.document(doc_id)
        self._editable(doc.batch_id)
        merged = self.review.merge_next(doc_id)
        self._changed(doc.batch_id)
        return merged

    def set_field(self, doc_id: str, name: str, value: str) -> Any:
        """A field the clerk corrected; a secrecy mark chosen in Priority on a
        connected station stops the document (:meth:`mark_secret`)."""
        doc = self.review.document(doc_id)
        self._editable(doc.batch_id)
        checked = self.review.set_field(doc_id, name, value)
        self._changed(doc.batch_id)
        level = secrecy_level(str(checked or "")) if name == "Priority" else None
        if level and self.processor.secrets.connected:
            self.processor.mark_secret(doc_id, level)
        return checked

    def mark_secret(self, doc_id: str, level: str) -> None:
        """ "Văn bản mật": the clerk says the document is secret. On a connected
        station it is stopped, erased and registered apart
        (:mod:`station.pipeline.secret`); on an independent LAN it keeps its mark."""
        doc = self.review.document(doc_id)
        self._editable(doc.batch_id)
        checked_level(level)
        if self.processor.secrets.connected:
            # the clerk's yes to a mark read on the page, or the clerk's own word
            asked = any(w["code"] == "secrecy_read" for w in doc.warnings)
            self.processor.mark_secret(doc_id, level, "read" if asked else "clerk")
            return
        urgency = priority_marks(doc.metadata.get("Priority"))[1]
        self.review.set_field(doc_id, "Priority", ", ".join(m for m in (level, urgency) if m))
        self._changed(doc.batch_id)

    def secret_seen(self, entry_id: int, author: str = "") -> None:
        """The clerk read the notice of a stopped secret document (and typed the
        issuing agency the station had not read)."""
        SecretRegister(self.store).seen(entry_id, author)
        self.hub.publish("secret")

    def set_direction(self, direction: str) -> None:
        """The scan screen's "Văn bản đến" / "Văn bản đi": what the next batch is,
        from the screen, the scanner's button or the hot folder."""
        if direction not in DIRECTIONS:
            raise InputError(f"no direction {direction!r}", f"không có loại {direction!r}")
        self.direction = direction
        self.hub.publish("scanner", status=self.scanner.status, direction=direction)

    def set_batch_direction(self, batch_id: str, direction: str) -> None:
        """A batch under review is received documents or sent ones after all."""
        self._editable(batch_id)
        if direction not in DIRECTIONS:
            raise InputError(f"no direction {direction!r}", f"không có loại {direction!r}")
        self.store.set_batch_direction(batch_id, direction)
        self.review.relabel(batch_id)
        self._changed(batch_id)

    def set_registration(self, doc_id: str, text: str) -> str:
        doc = self.review.document(doc_id)
        self._editable(doc.batch_id)
        label = self.review.set_registration(
            doc_id, text, self.settings.config.pipeline.registration_pattern
        )
        self._changed(doc.batch_id)
        return label

    def dismiss_warning(self, doc_id: str, code: str) -> None:
        doc = self.review.document(doc_id)
        self._editable(doc.batch_id)
        self.review.dismiss_warning(doc_id, code)
        self._changed(doc.batch_id)
        if code in SECRECY_QUESTIONS:  # not secret: read now, as the others were
            self.processor.read_again(doc.batch_id)

    def confirm(self, batch_id: str, despite: bool = False) -> None:
        """ "Xác nhận và gửi": nothing blocking (:mod:`station.review.checks`), and the
        questions answered ("Vẫn gửi?": ``despite``)."""
        self._editable(batch_id)
        docs = self.review.documents(batch_id)
        if not docs:
            raise InputError("the batch has no documents", "lô không có văn bản nào")
        findings = self.findings(batch_id)
        blocking = [f for f in findings if f.blocking]
        if blocking:
            raise InputError(
                "; ".join(f.en for f in blocking),
                "; ".join(f.vi for f in blocking),
                findings=[f.as_json() for f in blocking],
            )
        if findings and not despite:
            raise Unanswered(findings)
        self.processor.confirm(batch_id)

    def findings(self, batch_id: str) -> list[Finding]:
        """What confirming the batch would ask about, blocking findings first."""
        return self.processor.findings(batch_id)

    def stop_countdown(self, batch_id: str) -> bool:
        return self.processor.stop_countdown(batch_id)

    def retry(self, doc_id: str) -> None:
        """Send a document now (the sender otherwise waits for its next round);
        a document waiting for its signature is signed again first."""
        if self.store.outbox.item(doc_id).state == "held":
            self.processor.sign_held()
        elif self.link is not None:
            self.link.deliver_now()
        self.hub.publish("outbox")

    # ------------------------------------------------------------------ refused documents

    def _receipt(self, doc_id: str, status: str) -> None:
        """A receipt or DMS status recorded: the screens show it."""
        self.hub.publish("outbox", doc=doc_id, status=status)

    def resend(self, doc_id: str, form: dict[str, str]) -> OutboxItem:
        """ "Gửi lại": a refused document corrected by the clerk (``form``: the
        fields as typed) goes out as a new document that updates it. Each field
        is checked as in the review; errors come back by field (``errors``)."""
        with self._answering:
            item = self.store.outbox.answerable(doc_id)
            if not item.path.is_file():
                raise InputError(
                    f"the file of {doc_id} is no longer kept at the station: scan it again",
                    f"trạm không còn giữ tệp của văn bản {doc_id}: hãy quét lại",
                )
            today = datetime.now(VIETNAM).date()
            changes: dict[str, Any] = {}
            errors: dict[str, dict[str, str]] = {}
            for name in EDITABLE:
                if name not in form:
                    continue
                try:
                    value = check_field(name, form[name], today)
                except InputError as exc:
                    errors[name] = {"vi": exc.message_vi, "en": exc.message_en}
                    continue
                if name == "Priority" and secrecy_level(str(value or "")):
                    errors[name] = {
                        "vi": "văn bản mật không được gửi tới hệ thống quản lý văn bản",
                        "en": "a secret document is never sent to the document system",
                    }
                    continue
                if value != item.metadata.get(name):
                    changes[name] = value
            if errors:
                raise InputError(
                    "; ".join(f"{k}: {e['en']}" for k, e in errors.items()),
                    "; ".join(f"{k}: {e['vi']}" for k, e in errors.items()),
                    errors=errors,
                )
            new_id = self.store.outbox.revision_for(doc_id)
            copy = self.processor.confirmation.reissue(item, changes, new_id)
        log.info("%s sent again as %s (corrected: %s)", doc_id, new_id, ", ".join(changes) or "-")
        if self.link is not None:
            self.link.deliver_now()
        self.hub.publish("outbox", answered=doc_id)
        return copy

    def plan_rescan(self, doc_id: str) -> None:
        """ "Quét lại": the next batch scanned replaces the refused document."""
        self.store.outbox.plan_rescan(doc_id)
        self.hub.publish("outbox", rescan=doc_id)

    def cancel_rescan(self, doc_id: str) -> None:
        self.store.outbox.cancel_rescan(doc_id)
        self.hub.publish("outbox", rescan=doc_id)
        for batch in self.store.batches("review"):
            self.hub.publish("batch", batch=batch.id, stage="edited")

    # ------------------------------------------------------------------ views

    # ------------------------------------------------------------------ the register

    @property
    def register(self) -> Register:
        """The incoming register, with the configured days off."""
        return Register(self.store, self.settings.config.incoming.holidays)

    def update_register(self, doc_id: str, changes: dict[str, str]) -> Entry:
        """The clerk's later columns (recipient, passed on, signed for, notes)."""
        entry = self.register.update(doc_id, changes, datetime.now(VIETNAM).date())
        self.hub.publish("register", doc=doc_id)
        return entry

    @property
    def outgoing(self) -> OutgoingRegister:
        """The outgoing register, numbered as configured."""
        return OutgoingRegister(self.store, self.settings.config.outgoing.numbering)

    def update_outgoing(self, doc_id: str, changes: dict[str, str]) -> OutgoingEntry:
        """The clerk's later columns of the Sổ đi, and whether it went by post."""
        entry = self.outgoing.update(doc_id, changes, datetime.now(VIETNAM).date())
        self.hub.publish("register", doc=doc_id)
        return entry

    def status(self) -> dict[str, Any]:
        summary = self.store.outbox.summary()["counts"]
        config = self.settings.config
        return {
            "scanner": self.scanner.as_dict(),
            "busy": self.capture.busy.is_set(),
            "storage": self.storage.as_dict(),
            "profile": config.scanner.default_profile,
            "profiles": sorted(config.scanner.profiles),
            # what the next batch is: "incoming" (văn bản đến) or "outgoing" (văn bản đi)
            "direction": self.direction,
            "to_send": summary["held"] + summary["queued"] + summary["sent"],
            "held": summary["held"],
            "signing": self.processor.signing_status(),
            "awaiting_receipt": summary["announced"],
            "broker_connected": bool(self.link and self.link.connection.connected.is_set()),
            "last_batch": self.last_batch,
            "review": [
                {"id": b.id, "created_at": b.created_at} for b in self.store.batches("review")
            ],
            "network": config.security.network,
            # documents the agency's system refused, until the clerk answers them
            "rejected": [
                {"doc_id": item.doc_id, "registration": item.metadata.get("Registration")}
                for item in self.store.outbox.unanswered()
            ],
            # "Quét lại": the next batch scanned replaces a refused document
            "rescan": self.store.outbox.rescan(waiting=True),
            # stopped secret documents whose notice the clerk has not acknowledged
            "secret_stopped": [
                {
                    "id": e.id,
                    "number": e.number,
                    "year": e.year,
                    "level": e.level,
                    "author": e.author,
                }
                for e in SecretRegister(self.store).unseen()
            ],
        }

    def outbox(self, limit: int = 200) -> list[dict[str, Any]]:
        """Documents handed to delivery, newest first, with progress and receipts."""
        return self.store.outbox.listing(limit)

    def work_file(self, relative: str) -> Path:
        """A file under the work folder (thumbnails, pages); nothing outside it."""
        root = self.review.work.resolve()
        try:
            path = (root / relative).resolve()
            if path.is_relative_to(root) and path.is_file():
                return path
        except (ValueError, OSError):  # a NUL byte, a name too long…
            pass
        raise NotFound("no such file", "không có tệp này")
