"""Durable file writes: write to a temporary name, fsync, rename, fsync the folder.

A power cut leaves either the old file or the complete new one, never half of it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

from station.errors import StorageError, StorageFull

#: errno values that mean "no room": the disk, or the user's quota, is full
_FULL = (errno.ENOSPC, errno.EDQUOT)


def sha256_file(path: Path) -> str:
    """The SHA-256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, data: bytes, mode: int = 0o640) -> None:
    """Write the whole of ``data`` to ``path`` (created or truncated with
    ``mode``) and fsync it; an OSError is the caller's to handle."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def atomic_write(path: Path, data: bytes, mode: int = 0o640) -> None:
    """Write ``data`` to ``path`` so that a crash leaves the old or the new file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write_synced(tmp, data, mode)
        tmp.chmod(mode)
        tmp.replace(path)
        fsync_dir(path.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise storage_error(exc, path) from exc


def full_disk(exc: BaseException, path: Path) -> StorageFull | None:
    """The station's error for a write that failed because the disk is full
    (an OSError ENOSPC/EDQUOT, SQLite's SQLITE_FULL, or an error caused by one),
    else None. The one place that tells a full disk from other failures."""
    seen: BaseException | None = exc
    for _ in range(8):  # the chain of causes, not followed for ever
        if seen is None:
            break
        if isinstance(seen, StorageFull):
            return seen
        full = (isinstance(seen, OSError) and seen.errno in _FULL) or (
            isinstance(seen, sqlite3.Error)
            and getattr(seen, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL
        )
        if full:
            return StorageFull(
                f"disk full while writing {path}",
                f"Hết dung lượng lưu trữ khi ghi {path}",
                path=str(path),
            )
        seen = seen.__cause__ or seen.__context__
    return None


def storage_error(exc: OSError, path: Path) -> StorageError:
    """Turn an OSError into the station's error, telling a full disk apart."""
    full = full_disk(exc, path)
    if full is not None:
        return full
    return StorageError(
        f"cannot write {path}: {exc.strerror}",
        f"Không ghi được {path}: {exc.strerror}",
        path=str(path),
    )


def free_bytes(path: Path) -> int:
    """Free bytes on the file system holding ``path`` (or its nearest parent)."""
    probe = path
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    return shutil.disk_usage(probe).free


def erase(path: Path) -> bool:
    """Overwrite a file with zeros, fsync it, then remove it; False when there
    was no such file. The blocks the file held are overwritten in place, so the
    file system gives none of its bytes back to a reader of the disk; on flash
    storage the controller may still keep old copies, which only an encrypted
    data directory makes unreadable (docs/install.md)."""
    try:
        fd = os.open(path, os.O_WRONLY)
    except FileNotFoundError:
        return False
    except OSError as exc:
        raise storage_error(exc, path) from exc
    try:
        size = os.fstat(fd).st_size
        zeros = bytes(min(size, 1 << 20))
        left = size
        while left > 0:
            left -= os.write(fd, zeros[: min(left, len(zeros))])
        os.fsync(fd)
    except OSError as exc:
        raise storage_error(exc, path) from exc
    finally:
        os.close(fd)
    path.unlink(missing_ok=True)
    return True
