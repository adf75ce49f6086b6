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
