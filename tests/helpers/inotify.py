"""The Linux kernel's inotify, through libc: every file that appears in a folder
while a test runs (created, or moved in), told by the kernel itself."""

from __future__ import annotations

import ctypes
import os
import struct
from pathlib import Path
from types import TracebackType

IN_CLOSE_WRITE = 0x00000008
IN_MOVED_TO = 0x00000080
IN_CREATE = 0x00000100
IN_Q_OVERFLOW = 0x00004000
IN_NONBLOCK = 0o4000
IN_CLOEXEC = 0o2000000
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len

_libc = ctypes.CDLL(None, use_errno=True)


class Appearing:
    """The names that appear in ``folders`` (each watched on its own, not its
    subfolders) from when the watch is opened until :meth:`names` is read."""

    def __init__(self, *folders: Path) -> None:
        self._fd = _libc.inotify_init1(IN_NONBLOCK | IN_CLOEXEC)
        if self._fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        self._folders: dict[int, Path] = {}
        self.seen: list[Path] = []
        for folder in folders:
            wd = _libc.inotify_add_watch(
                self._fd, os.fsencode(folder), IN_CREATE | IN_MOVED_TO | IN_CLOSE_WRITE
            )
            if wd < 0:
                raise OSError(ctypes.get_errno(), f"inotify_add_watch {folder}")
            self._folders[wd] = folder

    def names(self) -> list[Path]:
        """Every path that appeared so far, in order (a name once per event)."""
        while True:
            try:
                data = os.read(self._fd, 1 << 16)
            except BlockingIOError:
                break
            except InterruptedError:
                continue
            offset = 0
            while offset < len(data):
                wd, mask, _cookie, length = _EVENT.unpack_from(data, offset)
                offset += _EVENT.size
                name = data[offset : offset + length].rstrip(b"\0")
                offset += length
                if mask & IN_Q_OVERFLOW:
                    raise AssertionError("inotify lost events: its queue overflowed")
                if wd in self._folders and name:
                    self.seen.append(self._folders[wd] / os.fsdecode(name))
        return list(self.seen)

    def close(self) -> None:
        os.close(self._fd)

    def __enter__(self) -> Appearing:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()
