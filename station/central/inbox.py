"""The DMS inbox: one ``.edxml`` file per delivered document, and an answers folder.

The central side hands every delivered document to the agency's document
management system (DMS) as one edXML file; the DMS takes it from the folder
or through the axis-style API (:mod:`station.central.api`), which reads the
same folder. The bytes are opaque here: building and reading edXML is the
gateway's business.

Layout of ``INBOX/``::

    INBOX/{id}.edxml              the documents, the only files a DMS polling the folder sees
    INBOX/.entries/{id}.json      what was put: document_id, created, size, sha256, info
    INBOX/.acks/{id}.json         the DMS's acknowledgement (done|fail|processing) and its history
    INBOX/.entries/.lock          serialises puts and acknowledgements (flock)
    INBOX/answers/NAME.edxml      status messages the DMS drops
    INBOX/answers/done/           … taken and accepted (NAME.why.txt when there is a note)
    INBOX/answers/refused/        … refused, with NAME.why.txt holding the reason

A document is written to a dot-temp file in the same folder, fsynced, then
hard-linked to its name (a link fails when the name exists, so two receivers
sharing the folder never overwrite each other) and the folder is fsynced: a
DMS watching the folder sees the whole file or nothing. The record is written
after the file, the same way, so a crash in between is repaired by the next
put of the same bytes. A document the DMS moved or deleted from the folder
counts as taken (state ``done``) unless the DMS acknowledged otherwise; its
record stays, so putting it again does not hand it over a second time.

A status file in ``answers/`` is taken once it has stopped changing for a
whole poll (a DMS should still write it under a dot-name and rename it, as we
do); it is claimed by renaming it to a dot-name first, so of several
receivers sharing the folder only one handles it.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station.common.fsutil import (
    atomic_write,
    fsync_dir,
    sha256_file,
    storage_error,
    write_synced,
)
from station.common.logsafe import printable
from station.common.supervisor import CrashReport, supervised
from station.errors import NotFound, StorageError, UsageError

log = logging.getLogger("scanstation.inbox")

__all__ = [
    "ACK_STATES",
    "MAX_STATUS_BYTES",
    "Answer",
    "Inbox",
    "InboxConflict",
    "InboxEntry",
    "StatusSink",
    "safe_entry_id",
]

#: a status message: (data, source) -> (accepted, why); source is ``api`` or ``folder:NAME``
StatusSink = Callable[[bytes, str], tuple[bool, str]]

SUFFIX = ".edxml"
#: an entry's id: the file's stem; never a dot-name, never a path
ENTRY_ID = re.compile(r"^[A-Za-z0-9_-][A-Za-z0-9._-]{0,199}$")
STATES = ("new", "done", "fail", "processing")
#: what a DMS may acknowledge (the axis's updateStatus values)
ACK_STATES = ("done", "fail", "processing")
#: the largest status message taken, from the folder or the API
MAX_STATUS_BYTES = 16 * 1024 * 1024
#: how long a status file must stay unchanged before it is taken: a writer
#: that pauses (a slow share, a busy machine) is not taken mid-file
SETTLE_S = 2.0
#: the largest info object kept with an entry (serialised)
MAX_INFO_BYTES = 64 * 1024
#: acknowledgements kept per entry
MAX_HISTORY = 20
#: a status file that fails this many times in the sink is refused
MAX_TRIES = 5
#: a claim left this long (a receiver stopped while handling it) is put back
STALE_CLAIM_S = 3600.0
MAX_WHY_CHARS = 4000

_CLAIM = re.compile(r"^\.(?P<name>.+)\.\d+\.\d+\.taking$")


class InboxConflict(StorageError):
    """A different document is already in the inbox under this id."""

    code = "inbox.conflict"
    event_type = None


@dataclass(frozen=True)
class InboxEntry:
    id: str
    document_id: str
    created: datetime
    size: int
    sha256: str
    #: the DMS's acknowledgement: new | done | fail | processing
    state: str
    #: what the caller gave: station_id, doc_id, arrival_number, arrival_date, subject, …
    info: dict[str, Any]
    #: when the state last changed (None while new)
    state_at: datetime | None = None


@dataclass(frozen=True)
class Answer:
    """What became of one status file of the answers folder."""

    name: str
    accepted: bool
    why: str
    moved_to: Path


def safe_entry_id(entry_id: object) -> str:
    """``entry_id`` when it may name an entry, else UsageError."""
    if not isinstance(entry_id, str) or not ENTRY_ID.fullmatch(entry_id):
        raise UsageError(
            f"not a valid inbox id: {printable(entry_id, 80)!r} (letters, digits, . _ -)",
            f"Mã văn bản trong hộp thư không hợp lệ: {printable(entry_id, 80)!r} (chữ, số, . _ -)",
        )
    return entry_id


class Inbox:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.records = folder / ".entries"
        self.acks = folder / ".acks"
        self.answers = folder / "answers"
        for path in (self.records, self.acks, self.answers / "done", self.answers / "refused"):
            path.mkdir(parents=True, exist_ok=True)
        self._lock_file = self.records / ".lock"
        self._thread_lock = threading.Lock()
        self._cache_lock = threading.Lock()
        #: records never change once written: read each once
        self._cache: dict[str, dict[str, Any]] = {}
        #: the answers seen on the latest poll: name -> (size, mtime)
        self._seen: dict[str, tuple[int, int]] = {}
        self._failures: dict[str, int] = {}

    # ------------------------------------------------------------------ documents

    def path(self, entry_id: str) -> Path:
        return self.folder / f"{safe_entry_id(entry_id)}{SUFFIX}"

    def put(self, entry_id: str, data: bytes, document_id: str, info: dict[str, Any]) -> InboxEntry:
        """Hand a document to the DMS: atomic, idempotent for the same bytes;
        InboxConflict when the id holds another document."""
        safe_entry_id(entry_id)
        if not isinstance(document_id, str) or not document_id.strip():
            raise UsageError("a DocumentId is required", "Cần có DocumentId")
        try:
            info_json = json.loads(json.dumps(info, ensure_ascii=False))
        except (TypeError, ValueError) as exc:
            raise UsageError(
                f"the entry's info is not JSON: {exc}", f"Thông tin kèm theo không phải JSON: {exc}"
            ) from exc
        if not isinstance(info_json, dict) or len(json.dumps(info_json)) > MAX_INFO_BYTES:
            raise UsageError(
                "the entry's info must be a JSON object of at most 64 KiB",
                "Thông tin kèm theo phải là một đối tượng JSON không quá 64 KiB",
            )
        digest = hashlib.sha256(data).hexdigest()
        with self._locked():
            kept = self._record(entry_id)
            if kept is None:
                self._link_new(self.path(entry_id), data, digest)
                record = {
                    "id": entry_id,
                    "document_id": document_id,
                    "created": datetime.now(UTC).isoformat(timespec="microseconds"),
                    "size": len(data),
                    "sha256": digest,
                    "info": info_json,
                }
                body = (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode()
                self._link_new(self.records / f"{entry_id}.json", body, None)
                kept = self._record(entry_id)
            if kept is None or (kept["sha256"], kept["document_id"]) != (digest, document_id):
                raise InboxConflict(
                    f"the inbox already holds another document under {entry_id}",
                    f"Hộp thư đã có một văn bản khác với mã {entry_id}",
                    entry_id=entry_id,
                )
        if kept["info"] != info_json:
            log.info("inbox entry %s put again with other info: the first is kept", entry_id)
        return self._entry(kept)

    def _link_new(self, path: Path, data: bytes, digest: str | None) -> None:
        """Write ``data`` at ``path`` unless something is there already (a
        receiver sharing the folder, or a put cut off before its record); an
        existing file with another SHA-256 than ``digest`` is a conflict."""
        tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        try:
            write_synced(tmp, data, 0o644)
            try:
                os.link(tmp, path)
            except FileExistsError:
                if digest is not None and sha256_file(path) != digest:
                    raise InboxConflict(
                        f"{path.name} is already in the inbox with other content",
                        f"Hộp thư đã có tệp {path.name} với nội dung khác",
                        entry_id=path.stem,
                    ) from None
            fsync_dir(path.parent)
        except OSError as exc:
            raise storage_error(exc, path) from exc
        finally:
            with contextlib.suppress(OSError):
                tmp.unlink()

    def entries(self, since: datetime | None = None, *, pending: bool = False) -> list[InboxEntry]:
        """The entries, oldest first; ``since``: created at or after it;
        ``pending``: not yet finally acknowledged (new or processing)."""
        if since is not None and since.tzinfo is None:
            since = since.replace(tzinfo=UTC)  # a naive time is taken as UTC
        found = []
        names = {p.name[: -len(".json")] for p in self.records.glob("*.json")}
        with self._cache_lock:
            for gone in set(self._cache) - names:
                self._cache.pop(gone, None)
        for entry_id in names:
            if not ENTRY_ID.fullmatch(entry_id):
                continue
            record = self._record(entry_id)
            if record is None:
                continue
            created = datetime.fromisoformat(record["created"])
            if since is not None and created < since:
                continue
            entry = self._entry(record)
            if pending and entry.state not in ("new", "processing"):
                continue
            found.append(entry)
        found.sort(key=lambda e: (e.created, e.id))
        return found

    def entry(self, entry_id: str) -> InboxEntry:
        record = self._record(safe_entry_id(entry_id))
        if record is None:
            raise NotFound(
                f"no document {entry_id} in the inbox", f"Không có văn bản {entry_id} trong hộp thư"
            )
        return self._entry(record)

    def read(self, entry_id: str) -> bytes:
        """The document's bytes, checked against what was put."""
        entry = self.entry(entry_id)
        try:
            data = self.path(entry_id).read_bytes()
        except FileNotFoundError:
            raise NotFound(
                f"document {entry_id} was taken from the inbox folder",
                f"Văn bản {entry_id} đã được lấy khỏi thư mục hộp thư",
            ) from None
        if hashlib.sha256(data).hexdigest() != entry.sha256:
            raise StorageError(
                f"{entry_id}{SUFFIX} was changed in the inbox folder after it was put",
                f"Tệp {entry_id}{SUFFIX} trong hộp thư đã bị sửa sau khi được đặt vào",
            )
        return data

    def acknowledge(self, entry_id: str, state: str) -> InboxEntry:
        """Record the DMS's acknowledgement (the axis's delivery ack, not a business status)."""
        if state not in ACK_STATES:
            raise UsageError(
                f"status must be one of {', '.join(ACK_STATES)}, not {printable(state, 40)!r}",
                f"Trạng thái phải là một trong {', '.join(ACK_STATES)}, "
                f"không phải {printable(state, 40)!r}",
            )
        self.entry(entry_id)  # NotFound first
        with self._locked():
            kept = self._ack(entry_id) or {}
            at = datetime.now(UTC).isoformat(timespec="microseconds")
            history = [*kept.get("history", []), {"state": state, "at": at}][-MAX_HISTORY:]
            body = {"state": state, "at": at, "history": history}
            atomic_write(
                self.acks / f"{entry_id}.json",
                (json.dumps(body, indent=2) + "\n").encode(),
                mode=0o644,
            )
        return self.entry(entry_id)

    # ------------------------------------------------------------------ records

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """One writer at a time: threads of this process, and other receivers sharing the folder."""
        with self._thread_lock, open(self._lock_file, "a+b") as handle:  # noqa: PTH123
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

    def _record(self, entry_id: str) -> dict[str, Any] | None:
        with self._cache_lock:
            cached = self._cache.get(entry_id)
        if cached is not None:
            return cached
        record = _json_file(self.records / f"{entry_id}.json", 4 * MAX_INFO_BYTES)
        if record is None:
            return None
        try:
            datetime.fromisoformat(str(record["created"]))
            valid = (
                record["id"] == entry_id
                and isinstance(record["document_id"], str)
                and isinstance(record["size"], int)
                and isinstance(record["sha256"], str)
                and isinstance(record["info"], dict)
            )
        except (KeyError, ValueError):
            valid = False
        if not valid:
            log.warning("inbox record %s is not readable: ignored", printable(entry_id))
            return None
        with self._cache_lock:
            self._cache[entry_id] = record
        return record

    def _ack(self, entry_id: str) -> dict[str, Any] | None:
        return _json_file(self.acks / f"{entry_id}.json", 64 * 1024)

    def _entry(self, record: dict[str, Any]) -> InboxEntry:
        entry_id = record["id"]
        ack = self._ack(entry_id) or {}
        state = ack.get("state") if ack.get("state") in ACK_STATES else "new"
        state_at = _time(ack.get("at"))
        if state == "new" and not self.path(entry_id).exists():
            state = "done"  # the DMS took it from the folder
        return InboxEntry(
            id=entry_id,
            document_id=record["document_id"],
            created=datetime.fromisoformat(record["created"]),
            size=record["size"],
            sha256=record["sha256"],
            state=str(state),
            info=dict(record["info"]),
            state_at=state_at,
        )

    # ------------------------------------------------------------------ answers

    def watch_answers(
        self,
        on_status: StatusSink,
        stop: threading.Event,
        interval_s: float = 1.0,
        *,
        settle_s: float = SETTLE_S,
        on_crash: CrashReport | None = None,
    ) -> threading.Thread:
        """Take the status files of ``answers/`` every ``interval_s`` in a
        supervised thread (started) until ``stop`` is set; a file is taken once
        unchanged for ``settle_s`` and a whole look, whichever is longer."""
        settle = max(settle_s, interval_s)

        def loop() -> None:
            while not stop.is_set():
                self.take_answers(on_status, settle_s=settle)
                if stop.wait(interval_s):
                    return

        thread = supervised("inbox-answers", loop, stop, on_crash=on_crash)
        thread.start()
        return thread

    def take_answers(self, on_status: StatusSink, settle_s: float = 1.0) -> list[Answer]:
        """One poll of ``answers/``: each ``*.edxml`` that has not changed
        since the previous poll and not for ``settle_s`` is handed to
        ``on_status`` and moved to ``done/`` or ``refused/``."""
        taken: list[Answer] = []
        seen: dict[str, tuple[int, int]] = {}
        now = time.time()
        for path in sorted(self.answers.iterdir()):
            name = path.name
            if name.startswith("."):
                self._stale_claim(path, now)
                continue
            if not name.lower().endswith(SUFFIX):
                continue
            try:
                info = path.lstat()
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(info.st_mode):
                continue
            key = (info.st_size, info.st_mtime_ns)
            if self._seen.get(name) != key or now - info.st_mtime < settle_s:
                seen[name] = key  # new or still growing: next time
                continue
            answer = self._take(path, info.st_size, on_status)
            if answer is not None:
                taken.append(answer)
        self._seen = seen
        return taken

    def _take(self, path: Path, size: int, on_status: StatusSink) -> Answer | None:
        name = path.name
        claim = path.with_name(f".{name}.{os.getpid()}.{threading.get_ident()}.taking")
        try:
            path.rename(claim)
        except FileNotFoundError:
            return None  # another receiver took it
        if size > MAX_STATUS_BYTES:
            return self._file_away(claim, name, False, "status file larger than 16 MiB")
        try:
            fd = os.open(claim, os.O_RDONLY | os.O_NOFOLLOW)
            with os.fdopen(fd, "rb") as stream:
                data = stream.read(MAX_STATUS_BYTES + 1)
        except OSError as exc:
            log.warning("could not read status file %s: %s", printable(name), exc)
            return self._file_away(claim, name, False, f"could not be read: {exc.strerror}")
        if len(data) > MAX_STATUS_BYTES:
            return self._file_away(claim, name, False, "status file larger than 16 MiB")
        try:
            accepted, why = on_status(data, f"folder:{name}")
        except Exception:  # a failure of the gateway, not of the file: tried again
            log.exception("status file %s could not be handled", printable(name))
            tries = self._failures.get(name, 0) + 1
            self._failures[name] = tries
            if tries >= MAX_TRIES:
                self._failures.pop(name, None)
                return self._file_away(
                    claim, name, False, f"could not be handled after {tries} tries"
                )
            self._put_back(claim, path)
            return None
        self._failures.pop(name, None)
        return self._file_away(claim, name, bool(accepted), str(why))

    def _put_back(self, claim: Path, path: Path) -> None:
        try:
            os.link(claim, path)
        except FileExistsError:  # the DMS dropped a new file of that name meanwhile
            self._file_away(claim, path.name, False, "replaced by a newer file of the same name")
            return
        claim.unlink()
        fsync_dir(path.parent)

    def _file_away(self, claim: Path, name: str, accepted: bool, why: str) -> Answer:
        """Move a claimed status file to done/ or refused/ (a new name when
        the DMS reused one) with its reason beside it."""
        folder = self.answers / ("done" if accepted else "refused")
        stem = name[: -len(SUFFIX)]
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
        candidates = [name] + [f"{stem}.{stamp}.{n}{SUFFIX}" for n in range(1, 1000)]
        for candidate in candidates:
            target = folder / candidate
            try:
                os.link(claim, target)
                break
            except FileExistsError:
                continue
        else:  # the claim stays, and is taken again once stale
            raise StorageError(
                f"no free name for {name} in {folder}",
                f"Không còn tên trống cho {name} trong {folder}",
            )
        claim.unlink()
        why = why[:MAX_WHY_CHARS]
        if why or not accepted:
            text = (why or "refused") + "\n"
            atomic_write(target.with_name(target.name + ".why.txt"), text.encode(), mode=0o644)
        fsync_dir(folder)
        fsync_dir(self.answers)
        log.info(
            "status file %s %s: %s",
            printable(name),
            "accepted" if accepted else "refused",
            printable(why, 300),
        )
        return Answer(name=name, accepted=accepted, why=why, moved_to=target)

    def _stale_claim(self, path: Path, now: float) -> None:
        """A claim whose receiver stopped while handling it goes back for another try."""
        match = _CLAIM.fullmatch(path.name)
        if match is None:
            return
        try:  # the rename that claimed it set its ctime
            if now - path.lstat().st_ctime < STALE_CLAIM_S:
                return
        except FileNotFoundError:
            return
        with contextlib.suppress(FileExistsError, FileNotFoundError):
            os.link(path, self.answers / match["name"])
            path.unlink()
            log.warning("status file %s was left half handled: taken again",
                        printable(match["name"]))  # fmt: skip


def _json_file(path: Path, limit: int) -> dict[str, Any] | None:
    try:
        with path.open("rb") as stream:
            data = stream.read(limit + 1)
    except FileNotFoundError:
        return None
    if len(data) > limit:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
