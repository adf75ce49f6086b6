"""Durable file writes: write to a temporary name, fsync, rename, fsync the folder.

A power cut leaves either the old file or the complete new one, never half of it.
Files that must not stay are erased (:func:`erase`, :func:`erase_tree`):
overwritten with zeros, synced, then removed.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import shutil
import sqlite3
import stat
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
    data directory makes unreadable (docs/install.md). A symbolic link, or
    anything else that is not a regular file (a pipe), is removed, never
    written through (a link planted in a folder others can write, a hot
    folder's ``.done``, cannot make the station zero another file); False."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except FileNotFoundError:
        return False
    except OSError as exc:
        if exc.errno not in (errno.ELOOP, errno.ENXIO):  # a link; a pipe nobody reads
            raise storage_error(exc, path) from exc
        path.unlink(missing_ok=True)
        return False
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        path.unlink(missing_ok=True)
        return False
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


def erase_tree(folder: Path) -> tuple[int, int]:
    """Erase every file under ``folder`` (:func:`erase`; a symbolic link is
    removed, never followed), then the folders; how many files and bytes.
    A folder that is missing, or a link, is no error (a link is removed)."""
    if folder.is_symlink() or not folder.is_dir():
        with contextlib.suppress(FileNotFoundError):
            if folder.is_symlink():
                folder.unlink()
        return 0, 0
    files = size = 0
    for root, dirs, names in os.walk(folder, topdown=False):
        base = Path(root)
        for name in names:
            path = base / name
            try:
                if path.is_symlink() or not path.is_file():
                    path.unlink(missing_ok=True)
                    continue
                length = path.stat().st_size
            except OSError as exc:
                raise storage_error(exc, path) from exc
            if erase(path):
                files += 1
                size += length
        for name in dirs:
            _remove_dir(base / name)
    _remove_dir(folder)
    return files, size


def _remove_dir(path: Path) -> None:
    try:
        if path.is_symlink():
            path.unlink()
        else:
            path.rmdir()
    except FileNotFoundError:
        pass
    except OSError as exc:
        raise storage_error(exc, path) from exc


def move_file(source: Path, target: Path) -> None:
    """Move a file to ``target``, which appears whole or not at all: renamed
    on one file system; across two, copied beside ``target`` under a temporary
    name, synced and renamed, then the source removed."""
    try:
        source.replace(target)
        return
    except OSError as exc:
        if exc.errno != errno.EXDEV:
            raise storage_error(exc, target) from exc
    tmp = target.with_name(f".{target.name}.tmp")
    try:
        shutil.copyfile(source, tmp)
        tmp.chmod(source.stat().st_mode & 0o777)
        with tmp.open("rb+") as stream:
            os.fsync(stream.fileno())
        tmp.replace(target)
        fsync_dir(target.parent)
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise storage_error(exc, target) from exc
    source.unlink(missing_ok=True)
