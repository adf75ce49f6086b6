"""Decoding files from outside in a child process bounded in time and memory.

A file dropped into the hot folder is hostile until decoded: a PNG, JPEG, TIFF
or PDF can be built to make its decoder loop or allocate without end. The
capture thread never decodes one itself. :class:`Decoder` keeps one child
process (started from the forkserver, so it inherits no threads or locks) that
runs :func:`station.capture.imageio.read_frames` under an address-space limit
(``RLIMIT_AS``), never following a symbolic link, and sends the frames back
one by one through a pipe. The parent gives each frame ``timeout_s`` seconds;
a child that overruns, runs out of memory or dies is killed and the file
refused with the reason, and the next file gets a fresh child. Kept between
files, the child costs a pipe round trip per page, not a process start
(bench/decoder.py).
"""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import threading
import time
from collections.abc import Iterator
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

from station.capture.imageio import EncodedFrame, read_frames
from station.common import workers
from station.common.logsafe import printable
from station.errors import DependencyError, InputError

#: Longest time one frame (a page of a file) may take to decode, in seconds.
#: An A3 page at 600 dpi decodes in about 1 s on a Raspberry Pi 4.
DECODE_TIMEOUT_S = 30.0
#: Address space the decoding child may use, in bytes: room for the largest page
#: accepted (imageio.MAX_PIXELS, 100 MP, 300 MB as RGB) decoded and encoded again,
#: above the child's own libraries (about 120 MB mapped).
DECODE_MEMORY_BYTES = 1536 * 2**20
#: Longest time a new child may take to be ready (its imports), in seconds.
START_TIMEOUT_S = 60.0
#: How often a wait for the child looks at the stop event, in seconds.
_POLL_S = 0.1


def _serve(conn: Connection, memory_bytes: int, parent: int) -> None:
    """The child: decode one request after another until the pipe closes."""
    workers.watch_parent(parent)
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent decides when it ends
    import pypdfium2  # noqa: F401 - loaded before the clock of the first PDF starts

    conn.send(("ready", os.getpid()))
    while True:
        try:
            path, dpi, file_format, quality = conn.recv()
        except (EOFError, OSError):
            return
        try:
            frames = read_frames(Path(path), dpi, file_format, quality, follow_symlinks=False)
            for frame in frames:
                conn.send(("frame", frame))
            conn.send(("end", None))
        except InputError as exc:
            conn.send(("refused", exc))  # its class too (InputNotFaithful)
        except MemoryError:
            conn.send(("memory", None))
        except Exception as exc:  # noqa: BLE001 - any decoder failure refuses the file
            conn.send(("failed", f"{type(exc).__name__}: {exc}"))


def _refused(path: Path, why_en: str, why_vi: str) -> InputError:
    name = printable(path)
    return InputError(f"{name}: {why_en}", f"{name}: {why_vi}", path=str(path))


class Decoder:
    """Frames of a file, decoded in a bounded child process.

    One caller at a time (the capture thread); :meth:`close` ends the child.
    Every request is a file's path: the child opens it itself.
    """

    def __init__(
        self,
        *,
        timeout_s: float = DECODE_TIMEOUT_S,
        memory_bytes: int = DECODE_MEMORY_BYTES,
        method: str | None = "forkserver",
    ) -> None:
        self.timeout_s = timeout_s
        self.memory_bytes = memory_bytes
        if method not in multiprocessing.get_all_start_methods():
            method = None
        self._context: Any = multiprocessing.get_context(method)
        self._process: Any = None
        self._conn: Connection | None = None
        #: children started so far (a test and the benchmark read it)
        self.started = 0

    @property
    def pid(self) -> int | None:
        """The child's process id, while it runs."""
        return self._process.pid if self._process is not None else None

    def _child(self) -> Connection:
        if self._conn is not None and self._process is not None and self._process.is_alive():
            return self._conn
        self._kill()
        parent_end: Connection
        child_end: Connection
        parent_end, child_end = self._context.Pipe()
        process = self._context.Process(
            target=_serve,
            args=(child_end, self.memory_bytes, os.getpid()),
            name="decoder",
            daemon=True,
        )
        process.start()
        child_end.close()
        self._process, self._conn = process, parent_end
        self.started += 1
        # the limits count from a ready child: its start is not the file's time
        try:
            ready = parent_end.poll(START_TIMEOUT_S) and parent_end.recv()[0] == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            self._kill()
            # not the file's fault: the batch stops and the file waits for the next
            raise DependencyError(
                "the decoder process did not start", "tiến trình giải mã không khởi động được"
            )
        return parent_end

    def _kill(self) -> None:
        process, conn = self._process, self._conn
        self._process = self._conn = None
        if conn is not None:
            conn.close()
        if process is not None:
            if process.is_alive():
                process.kill()
            process.join(timeout=5)
            process.close()

    def frames(
        self,
        path: Path,
        default_dpi: int,
        file_format: str = "jpeg",
        quality: int = 92,
        stop: threading.Event | None = None,
    ) -> Iterator[EncodedFrame]:
        """Every page of ``path``, as :func:`station.capture.imageio.read_frames` gives
        them; every failure (a refusal, a timeout, the memory limit, a crash) is
        an :class:`InputError`. When ``stop`` is set the child is ended and the
        frames stop without an error: the caller sees ``stop`` and knows."""
        conn = self._child()
        try:
            conn.send((str(path), default_dpi, file_format, quality))
        except OSError as exc:
            self._kill()
            raise _refused(
                path, f"decoder unavailable ({exc})", f"bộ giải mã không chạy ({exc})"
            ) from None
        finished = False
        try:
            while True:
                message = self._receive(conn, path, stop)
                if message is None:
                    return  # stopped
                kind, value = message
                if kind == "frame":
                    yield value
                    continue
                finished = True
                if kind == "end":
                    return
                raise self._error(path, kind, value)
        finally:
            if not finished:  # the child is in the middle of the file
                self._kill()

    def _receive(
        self, conn: Connection, path: Path, stop: threading.Event | None
    ) -> tuple[str, Any] | None:
        deadline = time.monotonic() + self.timeout_s
        while True:
            if stop is not None and stop.is_set():
                return None
            left = deadline - time.monotonic()
            if left <= 0:
                raise _refused(
                    path,
                    f"decoding took longer than {self.timeout_s:g} s; stopped",
                    f"giải mã lâu quá {self.timeout_s:g} giây; đã dừng",
                )
            try:
                if conn.poll(min(left, _POLL_S)):
                    message: tuple[str, Any] = conn.recv()
                    return message
            except (EOFError, OSError):
                code = self._exit_code()
                raise _refused(
                    path,
                    f"the decoder stopped on this file (exit {code}); "
                    f"memory limit {self.memory_bytes // 2**20} MiB",
                    f"bộ giải mã dừng khi đọc tệp này (mã {code}); "
                    f"giới hạn bộ nhớ {self.memory_bytes // 2**20} MiB",
                ) from None

    def _exit_code(self) -> int | None:
        if self._process is None:
            return None
        self._process.join(timeout=2)
        code: int | None = self._process.exitcode
        return code

    def _error(self, path: Path, kind: str, value: Any) -> InputError:
        if kind == "refused" and isinstance(value, InputError):
            return value
        if kind == "memory":
            limit = self.memory_bytes // 2**20
            return _refused(
                path,
                f"decoding needs more than the memory limit of {limit} MiB",
                f"giải mã cần nhiều hơn giới hạn bộ nhớ {limit} MiB",
            )
        why = printable(value)
        return _refused(path, f"cannot be decoded ({why})", f"không giải mã được ({why})")

    def close(self) -> None:
        self._kill()
