"""What each station holds in the receiver's ``OUT/.transfer/``, and its limits.

Layout: ``.transfer/{station_id}/{file_id}/init.json`` and one
``{offset:015d}.seg`` per segment. A transfer is *in flight* from its ``init``
until its ``doc`` message, its ``abort``, or until nothing touched it for
``idle_s`` (then :meth:`Transfers.sweep` removes it).

The limits, per station (:class:`ReceiverLimits`):

- at most ``max_files`` transfers in flight;
- at most ``max_bytes`` declared by their ``init`` messages together; a
  segment must lie inside its file's declared size, and a transfer's segments
  never hold more bytes than that size, so the bytes on disk stay under
  ``max_bytes`` as well.

An ``init`` over the limits is answered 0x97 (retry later: the station waits
and sends it again, nothing is lost); a file larger than ``max_bytes`` on its
own, or a segment outside its file, 0x83 (give this file id up).

The counts are read from the folder at each ``init``, so receivers sharing
``OUT`` (a shared-subscription group) and a restarted receiver see every
transfer. The bytes of each transfer's segments are kept in memory once read.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from station.wire import topics
from station.wire.mqtt import json_object

log = logging.getLogger("scanstation.receiver")

MIB = 2**20
#: the largest init or doc message accepted (metadata, not file data)
MAX_JSON = 256 * 1024


@dataclass(frozen=True)
class ReceiverLimits:
    """What one station may hold at the receiver (docs/mqtt.md, "Limits")."""

    #: transfers in flight per station
    max_files: int = 8
    #: bytes in flight per station (the sizes their init messages declare)
    max_bytes: int = 512 * MIB
    #: a transfer untouched this long is removed with its segments
    idle_s: float = 2 * 3600.0
    #: payload waiting for one station's worker; beyond it file commands are
    #: answered 0x97 at once
    queue_bytes: int = 64 * MIB


@dataclass
class _Transfer:
    size: int
    #: offset -> bytes of the segment kept there
    segments: dict[int, int] = field(default_factory=dict)

    @property
    def stored(self) -> int:
        return sum(self.segments.values())


class Transfers:
    def __init__(self, root: Path, limits: ReceiverLimits) -> None:
        self.root = root
        self.limits = limits
        self._known: dict[tuple[str, str], _Transfer] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def lock(self, station_id: str) -> threading.Lock:
        """Held while one of the station's messages is handled, and while its
        transfers are swept."""
        with self._guard:
            return self._locks.setdefault(station_id, threading.Lock())

    def folder(self, station_id: str, file_id: str) -> Path:
        return self.root / station_id / file_id

    # ------------------------------------------------------------------ admission

    def admit_init(self, station_id: str, file_id: str, size: int) -> tuple[int, str]:
        """Whether a transfer of ``size`` bytes may start (or resume)."""
        limits = self.limits
        if size > limits.max_bytes:
            return topics.CANCEL, (
                f"file of {size} bytes is larger than this receiver takes ({limits.max_bytes})"
            )
        others = [(f, s) for f, s in self.declared(station_id).items() if f != file_id]
        if len(others) >= limits.max_files:
            return topics.RETRY_LATER, f"{len(others)} files in flight (limit {limits.max_files})"
        held = sum(s for _, s in others)
        if held + size > limits.max_bytes:
            return topics.RETRY_LATER, (
                f"{held} bytes in flight, {size} more would pass the limit ({limits.max_bytes})"
            )
        return topics.OK, ""

    def admit_segment(
        self, station_id: str, file_id: str, offset: int, length: int
    ) -> tuple[int, str]:
        transfer = self._transfer(station_id, file_id)
        if transfer is None:
            return topics.RESEND, "no init for this file"
        if offset + length > max(transfer.size, 0):
            return topics.CANCEL, f"segment ends past the file's size ({transfer.size})"
        if transfer.stored - transfer.segments.get(offset, 0) + length > transfer.size:
            return topics.CANCEL, "segments overlap: more bytes than the file's size"
        return topics.OK, ""

    # ------------------------------------------------------------------ bookkeeping

    def started(self, station_id: str, file_id: str, size: int) -> None:
        transfer = self._transfer(station_id, file_id)
        if transfer is None or transfer.size != size:
            self._known[(station_id, file_id)] = _Transfer(size, self._segments_on_disk(
                self.folder(station_id, file_id)))  # fmt: skip

    def stored(self, station_id: str, file_id: str, offset: int, length: int) -> None:
        transfer = self._transfer(station_id, file_id)
        if transfer is not None:
            transfer.segments[offset] = length

    def forget_segments(self, station_id: str, file_id: str) -> None:
        transfer = self._known.get((station_id, file_id))
        if transfer is not None:
            transfer.segments.clear()

    def drop(self, station_id: str, file_id: str) -> None:
        """Remove a transfer: its folder and what is known of it."""
        self._known.pop((station_id, file_id), None)
        shutil.rmtree(self.folder(station_id, file_id), ignore_errors=True)

    def declared(self, station_id: str) -> dict[str, int]:
        """file id -> declared size of each of the station's transfers on disk
        (a folder without a readable init counts with the bytes it holds)."""
        base = self.root / station_id
        sizes: dict[str, int] = {}
        try:
            entries = list(os.scandir(base))
        except FileNotFoundError:
            return sizes
        for entry in entries:
            if not entry.is_dir(follow_symlinks=False):
                continue
            info = _read_init(Path(entry.path))
            size = info[1] if info else sum(self._segments_on_disk(Path(entry.path)).values())
            sizes[entry.name] = size
        return sizes

    def on_disk(self, station_id: str) -> int:
        """Bytes of segments the station has under ``.transfer/``."""
        base = self.root / station_id
        if not base.is_dir():
            return 0
        return sum(p.stat().st_size for p in base.glob("*/*.seg"))

    # ------------------------------------------------------------------ idle transfers

    def sweep(self, now: float | None = None) -> list[tuple[str, str]]:
        """Remove every transfer untouched for ``idle_s``; the removed (station, file id)."""
        cutoff = (time.time() if now is None else now) - self.limits.idle_s
        removed: list[tuple[str, str]] = []
        try:
            stations = sorted(p for p in self.root.iterdir() if p.is_dir())
        except FileNotFoundError:
            return removed
        for base in stations:
            with self.lock(base.name):
                for folder in sorted(p for p in base.iterdir() if p.is_dir()):
                    if _last_touched(folder) < cutoff:
                        self.drop(base.name, folder.name)
                        removed.append((base.name, folder.name))
        for key in [k for k in list(self._known) if not self.folder(*k).is_dir()]:
            self._known.pop(key, None)  # finished by another receiver of the group
        for station_id, file_id in removed:
            log.warning("removed transfer %s/%s: idle for %.0f s", station_id, file_id,
                        self.limits.idle_s)  # fmt: skip
        return removed

    # ------------------------------------------------------------------ disk

    def _transfer(self, station_id: str, file_id: str) -> _Transfer | None:
        key = (station_id, file_id)
        transfer = self._known.get(key)
        if transfer is None:
            folder = self.folder(station_id, file_id)
            info = _read_init(folder)
            if info is None:
                return None
            transfer = self._known[key] = _Transfer(info[1], self._segments_on_disk(folder))
        return transfer

    @staticmethod
    def _segments_on_disk(folder: Path) -> dict[int, int]:
        try:
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return {}
        return {
            int(e.name[:-4]): e.stat().st_size
            for e in entries
            if e.name.endswith(".seg") and e.name[:-4].isdigit()
        }


def _read_init(folder: Path) -> tuple[dict[str, object], int] | None:
    """A transfer's init message and its declared size, or None."""
    try:
        info = json_object((folder / "init.json").read_bytes(), MAX_JSON)
    except OSError:
        return None
    if info is None:
        return None
    size = info.get("size")
    if not isinstance(size, int) or isinstance(size, bool) or size < 0:
        return None
    return info, size


def _last_touched(folder: Path) -> float:
    """The latest change in a transfer's folder (a segment or init written)."""
    try:
        latest = folder.stat().st_mtime
        for entry in os.scandir(folder):
            latest = max(latest, entry.stat().st_mtime)
    except FileNotFoundError:
        return time.time()
    return latest
