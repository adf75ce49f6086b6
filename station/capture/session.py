"""The capture loop: frames from a source into the store, one durable page at a time.

A page is reported (``on_page``) only after it is fsync'd and recorded. A scanner
fault (jam, cover open, unplugged) or a full disk ends the batch as
``interrupted`` with every page captured so far kept, records an event, and
raises the typed error; the clerk clears the fault and resumes the batch or
closes it as it is. On a disk so full that even this cannot be written, the
batch is left ``capturing`` and the original error is raised: the station
closes the batch once space returns (:meth:`station.appliance.station.Station.storage_back`),
as a restart would.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass

from station.capture import Source, notices
from station.common.logsafe import printable
from station.config import Profile
from station.errors import NoDocuments, StationError, StorageError
from station.store import Batch, Event, Page, Store

log = logging.getLogger(__name__)

PageCallback = Callable[[Page], None]
NoticeCallback = Callable[[Event], None]


@dataclass(frozen=True)
class CaptureResult:
    batch: Batch
    pages: list[Page]


def record_error(store: Store, error: StationError, **detail: object) -> None:
    """Record a failure as an event, if it is one the fleet should see."""
    if error.event_type is None:
        return
    store.events.add(
        error.event_type,
        error.severity,
        error.message_vi,
        error.message_en,
        {**error.detail, **detail},
    )


def _stored_in(store: Store, source: str, frame: int) -> str | None:
    """The batch that holds this frame of a source already, if one does."""
    rows = store.query(
        "SELECT batch_id FROM pages WHERE source = ? AND frame = ? LIMIT 1", (source, frame)
    )
    return str(rows[0]["batch_id"]) if rows else None


def _abandon(store: Store, batch_id: str, error: StationError) -> None:
    store.set_batch_state(
        batch_id, "interrupted", error_code=error.code, error_message=error.message_en
    )
    store.set_batch_state(batch_id, "cancelled")
    record_error(store, error, batch=batch_id, pages=0)


def _interrupt(store: Store, batch_id: str, error: StationError, pages: int) -> None:
    store.set_batch_state(
        batch_id, "interrupted", error_code=error.code, error_message=error.message_en
    )
    record_error(store, error, batch=batch_id, pages=pages)


def _interrupt_internal(store: Store, batch_id: str) -> None:
    store.set_batch_state(batch_id, "interrupted", error_code="internal")


def _closing(batch_id: str, step: Callable[..., object], *args: object) -> None:
    """Record how a failed batch ended, unless the store cannot be written now
    (the disk is full): the error that stopped the batch is what is raised."""
    try:
        step(*args)
    except StorageError as exc:
        log.warning("batch %s left capturing: %s", batch_id, exc.message_en)


def capture_batch(
    store: Store,
    source: Source,
    profile_name: str,
    profile: Profile,
    *,
    trigger: str = "cli",
    direction: str = "incoming",
    on_page: PageCallback | None = None,
    stop: threading.Event | None = None,
    resume: str | None = None,
    on_notice: NoticeCallback | None = None,
) -> CaptureResult:
    """Capture one batch (or continue the interrupted batch ``resume``).

    What the clerk should hear of on the way (a hot-folder file refused or
    already scanned, :mod:`station.capture.notices`) is recorded as an event
    and handed to ``on_notice``."""
    stop = stop or threading.Event()
    if resume is not None:
        batch = store.set_batch_state(resume, "capturing")
    else:
        batch = store.create_batch(source.name, profile_name, trigger, direction)
    pages: list[Page] = []
    told: set[str] = set()

    def record(notice: notices.Notice) -> None:
        event = store.events.add(
            notice.type,
            notice.severity,
            notice.message_vi,
            notice.message_en,
            {**notice.detail, "batch": batch.id},
        )
        if on_notice is not None:
            on_notice(event)

    try:
        with notices.listening(record):
            for frame in source.frames(profile, stop):
                if frame.source:
                    earlier = _stored_in(store, frame.source, frame.frame)
                    if earlier is not None:
                        # the same bytes as a file captured before (or this file read
                        # again after a crash): not stored twice, and the clerk is told
                        log.info(
                            "%s frame %d already stored in batch %s",
                            printable(frame.input_name),
                            frame.frame,
                            earlier,
                        )
                        if frame.source not in told:
                            told.add(frame.source)
                            notices.tell(notices.duplicate(frame.input_name, earlier))
                        continue
                page = store.add_page(
                    batch.id,
                    frame.data,
                    ext=frame.ext,
                    input_name=frame.input_name,
                    frame=frame.frame,
                    side=frame.side,
                    width=frame.width,
                    height=frame.height,
                    dpi=frame.dpi,
                    source=frame.source,
                )
                pages.append(page)
                if on_page is not None:
                    on_page(page)
    except NoDocuments as exc:
        if pages or resume is not None:
            # the feeder ran empty after pages: the normal end of a batch
            log.info("batch %s: feeder empty after %d pages", batch.id, len(pages))
        else:
            _closing(batch.id, _abandon, store, batch.id, exc)
            raise
    except StationError as exc:
        if not pages and resume is None:
            # nothing was captured (scanner missing, busy, cover open): no batch to keep
            _closing(batch.id, _abandon, store, batch.id, exc)
        else:
            _closing(batch.id, _interrupt, store, batch.id, exc, len(pages))
        raise
    except BaseException:
        _closing(batch.id, _interrupt_internal, store, batch.id)
        raise
    if stop.is_set():
        batch = store.set_batch_state(batch.id, "interrupted", error_code="stopped")
    else:
        batch = store.set_batch_state(batch.id, "captured")
        if not pages and resume is None:
            # every frame read was already stored (a hot-folder file read again
            # after a crash): nothing new, so no batch is left waiting
            batch = store.set_batch_state(batch.id, "cancelled")
    return CaptureResult(batch, store.pages(batch.id))
