"""The spool's files: room for a page, a page's bytes written and fsync'd
before its row is committed, and the temporary files a crash left behind
(the write order is in station/store/batches.py)."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from pathlib import Path

from station.common.fsutil import free_bytes, fsync_dir, storage_error
from station.common.fsutil import write_synced as fsutil_write_synced
from station.errors import DiskFull, StorageFull

_TMP_NAME = re.compile(r"^\.p(\d{5,})\.([a-z0-9]+)\.tmp$")


def check_room(folder: Path, size: int, min_free_bytes: int) -> None:
    """Refuse a page of ``size`` bytes that does not fit (:class:`StorageFull`)
    or would leave less than the floor free (:class:`DiskFull`)."""
    free = free_bytes(folder)
    if free < size:
        raise StorageFull(
            f"disk full: {free} bytes free for a page of {size}",
            f"Hết dung lượng lưu trữ: còn {free} byte cho một trang {size} byte",
            free_bytes=free,
        )
    if free - size < min_free_bytes:
        raise DiskFull(
            f"free space {free // 2**20} MiB is below the floor of "
            f"{min_free_bytes // 2**20} MiB; capture stopped",
            f"Dung lượng trống {free // 2**20} MiB dưới mức tối thiểu "
            f"{min_free_bytes // 2**20} MiB; đã dừng quét",
            free_bytes=free,
        )


def write_synced(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and fsync it; nothing is left on failure."""
    try:
        fsutil_write_synced(path, data, 0o640)
    except OSError as exc:
        with contextlib.suppress(OSError):
            path.unlink()
        raise storage_error(exc, path) from exc


@contextlib.contextmanager
def unlinked_on_error(path: Path) -> Iterator[None]:
    """A page file whose row was not recorded (the disk is full) is removed."""
    try:
        yield
    except BaseException:
        with contextlib.suppress(OSError):
            path.unlink()
        raise


def finish_renames(spool: Path, recorded: set[str]) -> tuple[int, int]:
    """Rename the temporary files whose page row was committed (``recorded``:
    paths relative to the spool) and delete the others; returns how many of each."""
    renamed = removed = 0
    for folder in sorted(p for p in spool.iterdir() if p.is_dir()):
        for item in folder.iterdir():
            if not _TMP_NAME.match(item.name):
                continue
            final_rel = f"{folder.name}/{item.name[1:-4]}"
            if final_rel in recorded and not (spool / final_rel).exists():
                item.replace(spool / final_rel)
                renamed += 1
            else:
                item.unlink()
                removed += 1
        fsync_dir(folder)
    return renamed, removed
