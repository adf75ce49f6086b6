"""Worker process pools that do not outlive the station.

A pool's workers wait on a queue whose write end they hold themselves, so when
the station is killed (SIGKILL, the OOM killer, a crash) they would wait
forever, each holding its imports and Tesseract's memory, and keep the
forkserver alive. Every worker started here watches the process that made the
pool and exits at once when it is gone. Under systemd the unit's control
group is killed as well; this covers a station started any other way.
"""

from __future__ import annotations

import multiprocessing
import os
import select
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

#: Share of the machine's memory the cleaning workers may hold together when
#: ``[pipeline] clean_memory_mb`` leaves it to the station: on a 2 GB Raspberry
#: Pi about 760 MB, room for one page at the input limit beside the station
#: process, the decoder and Tesseract.
CLEANING_SHARE = 0.4


def _exit_with(parent: int) -> None:
    try:
        handle = os.pidfd_open(parent)
    except (AttributeError, OSError):  # no pidfd (old kernel): poll the pid
        while True:
            time.sleep(1.0)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:
                pass
    # readable once the process has ended; nothing else can make it readable
    select.select([handle], [], [])
    os._exit(1)


def watch_parent(parent: int) -> None:
    """In a worker: exit at once when the process ``parent`` has ended."""
    from station.common.supervisor import supervised

    supervised("parent-watch", lambda: _exit_with(parent), threading.Event()).start()


def pool(max_workers: int, method: str | None = "forkserver") -> ProcessPoolExecutor:
    """A process pool whose workers end with this process.

    ``forkserver`` (the default, where the platform has it): a worker never
    inherits the station's threads and locks."""
    if method not in multiprocessing.get_all_start_methods():
        method = None
    return ProcessPoolExecutor(
        max_workers=max_workers,
        mp_context=multiprocessing.get_context(method),
        initializer=watch_parent,
        initargs=(os.getpid(),),
    )


def memory_total() -> int:
    """The machine's memory in bytes: ``MemTotal`` of /proc/meminfo (of the
    system's page count where there is no /proc)."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            name, _, rest = line.partition(":")
            if name == "MemTotal" and rest.split():
                return int(rest.split()[0]) * 1024
    except (OSError, ValueError, UnicodeDecodeError):
        pass
    return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")


def cleaning_budget(configured_mb: int) -> int:
    """Bytes the cleaning workers may hold together: ``configured_mb`` MB, or with 0
    CLEANING_SHARE of the machine's memory."""
    if configured_mb:
        return configured_mb * 2**20
    return int(memory_total() * CLEANING_SHARE)
