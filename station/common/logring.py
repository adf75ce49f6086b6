"""The last lines of the log, kept in memory for the diagnostics screen."""

from __future__ import annotations

import collections
import logging


class LogRing(logging.Handler):
    """The last lines of the station's log, for the diagnostics screen."""

    def __init__(self, size: int = 300) -> None:
        super().__init__(level=logging.INFO)
        self.lines: collections.deque[str] = collections.deque(maxlen=size)
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))
