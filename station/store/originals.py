"""A hot folder's originals: the files it took, kept in ``PATH/.done/``.

A hot folder (``[scanner] device = "folder:PATH?mode=hot"``,
station/capture/folder.py) moves each file to ``.done/`` once its pages are
stored; every page of it carries the file's SHA-256 (``pages.source``). The
files there are the documents as they arrived, so they go as the station's own
copies go (docs/security.md#where-documents-rest-and-for-how-long):

- with the files of the batches their pages are in: a file is erased once every
  batch holding a page with its SHA-256 has had its files removed by the
  retention (station/store/retention.py: received ``[uplink] retention_hours``
  ago, or cancelled ``[station] cancelled_retention_hours`` ago); a file whose
  frames were all already stored (the same bytes under another name) goes with
  the batch that holds them;
- at once when a page of it belonged to a secret document stopped on a
  connected station (station/pipeline/secret.py): the whole file, in ``.done/``
  or ``.rejected/``; one not there yet is erased when the retention next finds it.

A file the store knows nothing of (its bytes match no page: put there by hand,
or a store started afresh) is left alone, and so is ``.rejected/`` otherwise:
its files wait for someone to read their reasons. Files are erased by
:func:`station.common.fsutil.erase` (overwritten, then removed; a symbolic link
is removed, never followed). Each file is hashed once while it stays unchanged.
"""

from __future__ import annotations

import hashlib
import logging
import os
import stat
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

from station.common.fsutil import erase, storage_error
from station.store.database import Store

log = logging.getLogger("scanstation.store")

#: where a hot folder keeps the files it took, and the ones it refused
DONE = ".done"
REJECTED = ".rejected"
#: the name of a refused file's reason, after the file's own
REASON = ".reason.txt"
#: a page's ``source`` when it came from a hot-folder file
PREFIX = "sha256:"

#: what tells a file unchanged since it was hashed: name, inode, size, mtime
_Key = tuple[str, int, int, int]


class Originals:
    """The originals of one hot folder ``PATH`` (its ``.done/`` and ``.rejected/``)."""

    def __init__(self, store: Store, hot_folder: Path) -> None:
        self.store = store
        self.done = hot_folder / DONE
        self.rejected = hot_folder / REJECTED
        self._hashes: dict[_Key, str] = {}
        #: sources of stopped secret pages: a file with one of them is erased on sight
        self._secret: set[str] = set()
        #: the pipeline (a stop) and the retention's thread (a sweep) take turns
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ listing

    def _files(self, folder: Path) -> Iterator[tuple[_Key, Path, str]]:
        """Each regular file of ``folder`` (not a link, nothing below it): what
        tells it unchanged, its path and its source. A folder that is missing,
        or not a real folder, has none."""
        try:
            if not stat.S_ISDIR(folder.lstat().st_mode):
                return
            entries = list(os.scandir(folder))
        except FileNotFoundError:
            return
        except OSError as exc:
            raise storage_error(exc, folder) from exc
        for entry in entries:
            try:
                if not entry.is_file(follow_symlinks=False):
                    continue
                info = entry.stat(follow_symlinks=False)
            except FileNotFoundError:
                continue
            key = (entry.name, info.st_ino, info.st_size, info.st_mtime_ns)
            source = self._hashes.get(key)
            if source is None:
                source = _source(Path(entry.path))
                if source is None:
                    continue
                self._hashes[key] = source
            yield key, Path(entry.path), source

    # ------------------------------------------------------------------ erasing

    def erase_secret(self, sources: Iterable[str]) -> int:
        """A secret document was stopped: erase every original holding one of
        its pages (``sources``, as ``pages.source``), in ``.done/`` and
        ``.rejected/``; one not found now is erased by a later :meth:`sweep`.
        How many files were erased."""
        found = {s for s in sources if s.startswith(PREFIX)}
        if not found:
            return 0
        erased = 0
        with self._lock:
            self._secret |= found
            for folder in (self.done, self.rejected):
                for _key, path, source in self._files(folder):
                    if source in self._secret and erase(path):
                        erased += 1
                        # a refused file's reason names it: it goes too
                        erase(path.with_name(path.name + REASON))
        if erased:
            log.warning("erased %d original file(s) of a secret document in the hot folder", erased)
        return erased

    def sweep(self) -> tuple[int, int]:
        """Erase the originals in ``.done/`` that are due (see the module):
        how many files and bytes."""
        files = size = 0
        kept: dict[_Key, str] = {}
        with self._lock:
            for key, path, source in self._files(self.done):
                if source in self._secret or self._released(source):
                    if erase(path):
                        files += 1
                        size += key[2]
                else:
                    kept[key] = source
            # what is no longer there (erased, or taken away) is forgotten
            self._hashes = kept
        if files:
            log.info("retention: erased %d original file(s) (%d bytes) of the hot folder",
                     files, size)  # fmt: skip
        return files, size

    def _released(self, source: str) -> bool:
        """Whether every batch holding a page of this file has had its files
        removed (False when no page of it is on file)."""
        rows = self.store.query(
            "SELECT b.files_removed_at FROM pages p JOIN batches b ON b.id = p.batch_id"
            " WHERE p.source = ? GROUP BY b.id",
            (source,),
        )
        return bool(rows) and all(row["files_removed_at"] for row in rows)


def _source(path: Path) -> str | None:
    """A file's ``pages.source`` (``sha256:…``, as the hot folder records it),
    read without following a link; None when it is gone or not a regular file."""
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
    except OSError:
        return None
    with os.fdopen(fd, "rb") as stream:
        if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
            return None
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return PREFIX + digest.hexdigest()
