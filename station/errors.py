"""One error hierarchy for the whole station.

Every error the station raises on purpose is a :class:`StationError`. It carries
an exit code (stable, documented in docs/cli.md), a short machine code, and a
message in Vietnamese and English. One boundary per interface turns them into
CLI exit codes, JSON API errors and MQTT events; nothing else catches them.
"""

from __future__ import annotations

from typing import Any, ClassVar


class StationError(Exception):
    """Base class: a failure the station understands and can explain."""

    exit_code: ClassVar[int] = 1
    code: ClassVar[str] = "error"
    #: Event type published when this error happens in the daemon (None: no event).
    event_type: ClassVar[str | None] = None
    severity: ClassVar[str] = "error"

    def __init__(self, message_en: str, message_vi: str | None = None, **detail: Any) -> None:
        super().__init__(message_en)
        self.message_en = message_en
        self.message_vi = message_vi or message_en
        self.detail: dict[str, Any] = detail

    def __reduce__(self) -> tuple[Any, ...]:
        # both messages and the detail survive a trip from a worker process
        return (type(self), (self.message_en, self.message_vi), self.__dict__)

    def user_message(self) -> str:
        """One line for a person: Vietnamese first, English after."""
        if self.message_vi == self.message_en:
            return self.message_en
        return f"{self.message_vi} / {self.message_en}"

    def to_json(self) -> dict[str, Any]:
        return {
            "error": self.user_message(),
            "code": self.code,
            "message": {"vi": self.message_vi, "en": self.message_en},
        }


class UsageError(StationError):
    exit_code = 2
    code = "usage"


class ConfigError(StationError):
    exit_code = 3
    code = "config"


class DependencyError(StationError):
    exit_code = 4
    code = "dependency"


class ScannerError(StationError):
    """Base of everything the scanner can report."""

    exit_code = 5
    code = "scanner"
    event_type: ClassVar[str | None] = "scanner.error"


class DeviceNotFound(ScannerError):
    code = "scanner.not_found"
    event_type = "scanner.not_found"


class DeviceBusy(ScannerError):
    code = "scanner.busy"
    event_type = "scanner.busy"
    severity = "warning"


class PaperJam(ScannerError):
    code = "scanner.jam"
    event_type = "scanner.jam"


class CoverOpen(ScannerError):
    code = "scanner.cover_open"
    event_type = "scanner.cover_open"


class NoDocuments(ScannerError):
    """The feeder is empty before the first page of a batch."""

    exit_code = 6
    code = "scanner.no_paper"
    event_type = "scanner.no_paper"
    severity = "warning"


class ScannerIOError(ScannerError):
    code = "scanner.io_error"
    event_type = "scanner.io_error"


class DeviceUnplugged(ScannerError):
    code = "scanner.unplugged"
    event_type = "scanner.unplugged"


class ScannerOptionError(ScannerError):
    """A profile asks for something the scanner cannot do."""

    code = "scanner.option"
    event_type = None


class StorageError(StationError):
    exit_code = 7
    code = "storage"
    event_type: ClassVar[str | None] = "storage.error"


class DiskFull(StorageError):
    """No room to store more: free space below ``[station] min_free_mb`` (this
    class), or the disk really full (:class:`StorageFull`). Capture stops and
    goes on by itself once there is room (station/appliance/storage.py)."""

    code = "storage.disk_low"
    event_type: ClassVar[str | None] = "disk.low"


class StorageFull(DiskFull):
    """A write of the spool, the work folder or the database failed for want of
    space (ENOSPC, EDQUOT, SQLite's "database or disk is full"). Its event,
    ``storage.full``, is raised once by the station's storage guard when it
    starts and when it clears, not by every write that fails."""

    code = "storage.full"
    event_type: ClassVar[str | None] = None


class StoreDamaged(StorageError):
    """The store's database fails its integrity check: the station does not
    start on it (docs/store.md, "A damaged store")."""

    exit_code = 13
    code = "storage.damaged"


class InputError(StationError):
    """An input file that cannot be used: corrupt, unsupported, hostile."""

    exit_code = 8
    code = "input"


class InputNotFaithful(InputError):
    """A readable PDF whose pages do not hold what it shows (a dynamic XFA form,
    or every page empty): rendering it would deliver blank pages."""

    code = "input.not_faithful"


class NotFound(StationError):
    exit_code = 9
    code = "not_found"


class NotCompliant(StationError):
    """A PDF that does not meet the Decree 30 digitization standard."""

    exit_code = 10
    code = "verify.failed"


class OcrError(StationError):
    """OCR or PDF/A conversion of a document failed."""

    exit_code = 11
    code = "ocr"
    event_type = "ocr.failed"


class SigningError(StationError):
    """The agency's signature could not be made (token, PIN, key, time stamp server)."""

    exit_code = 12
    code = "signing"
    event_type = "signing.failed"


class Interrupted(StationError):
    exit_code = 130
    code = "interrupted"
    severity = "info"
