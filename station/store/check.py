"""Is the store's database whole? ``PRAGMA quick_check`` at every open.

A page of ``store.sqlite3`` overwritten or cut off (a failing SD card, a copy
taken while it was written) would otherwise let the station start and fail
later, one query at a time. The check reads every page of the database once
(docs/store.md gives its cost); a damaged store is refused with
:class:`~station.errors.StoreDamaged`, naming the file and the remedy, and
``scanstation doctor`` reports the same.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from station.errors import StoreDamaged

#: problems listed in the error, at most
SHOWN = 3


def quick_check(db: sqlite3.Connection) -> list[str]:
    """The problems ``PRAGMA quick_check`` finds (empty: the database is whole)."""
    try:
        rows = [str(row[0]) for row in db.execute(f"PRAGMA quick_check({SHOWN})")]
    except sqlite3.DatabaseError as exc:
        return [str(exc)]
    return [] if rows == ["ok"] else rows


def check_file(path: Path) -> list[str]:
    """The problems of a store file, opened read-only (nothing is created or
    changed); empty when it is whole or does not exist yet."""
    if not path.exists():
        return []
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return [str(exc)]
    try:
        return quick_check(db)
    finally:
        db.close()


def damaged(path: Path, problems: list[str]) -> StoreDamaged:
    """The error for a damaged store, with the remedy (docs/store.md)."""
    what = "; ".join(p[:200] for p in problems[:SHOWN]) or "unknown"
    spool = path.parent / "spool"
    aside = path.parent / "damaged"
    backup = "/var/backups/scanstation-store.sqlite3"
    return StoreDamaged(
        f"the store {path} is damaged ({what}); nothing was changed. Fix: stop the station "
        f"(sudo systemctl stop scanstation), then either restore the last backup "
        f"(cp {backup} {path}; rm -f {path}-wal {path}-shm) or start fresh "
        f"(mkdir {aside}; mv {path}* {aside}/): the next start makes an empty store, "
        f"and the captured pages in {spool} stay. See docs/store.md, 'A damaged store'",
        f"Kho dữ liệu {path} bị hỏng ({what}); chưa có gì bị thay đổi. Cách sửa: dừng trạm "
        f"(sudo systemctl stop scanstation), rồi khôi phục bản sao lưu gần nhất "
        f"(cp {backup} {path}; rm -f {path}-wal {path}-shm) hoặc bắt đầu lại "
        f"(mkdir {aside}; mv {path}* {aside}/): lần khởi động sau tạo kho mới trống, "
        f"các trang đã quét trong {spool} vẫn được giữ. Xem docs/store.md, mục 'A damaged store'",
        path=str(path),
        problems=problems[:SHOWN],
    )
