"""Every type of event a station raises (the ``event`` topic, docs/mqtt.md): one catalogue.

The fleet shows and alerts on these names, so they are part of the contract.
``tests/test_events.py`` checks that the station raises exactly these and that
docs/mqtt.md lists each one.
"""

from __future__ import annotations

#: type -> the severity it is raised with ("warning, then info": a condition
#: raised when it starts and again when it clears)
EVENT_TYPES: dict[str, str] = {
    "scanner.jam": "error",
    "scanner.cover_open": "error",
    "scanner.io_error": "error",
    "scanner.unplugged": "error",
    "scanner.not_found": "error",
    "scanner.error": "error",
    "scanner.no_paper": "warning",
    "scanner.busy": "warning",
    "disk.low": "warning, then info",
    "upload.failing": "warning, then info",
    "backlog.old": "warning, then info",
    "storage.error": "error",
    "storage.full": "error, then info",
    "storage.wal_busy": "warning, then info",
    "thread.failed": "error",
    "ocr.failed": "error",
    "signing.failed": "error",
    "counter.reset.roller": "info",
    "capture.rejected": "warning",
    "capture.duplicate": "warning",
    "secret.detected": "warning",
    "retention.removed": "info",
    "delivery.status": "info",
    "delivery.rejected": "warning",
}
