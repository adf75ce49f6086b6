"""What the clerk is told of during a capture: a file refused, a file already scanned.

A source deep in a batch (the hot folder) does not know the store or the
screen. :func:`capture_batch <station.capture.session.capture_batch>` listens
while it reads a batch; :func:`tell` hands a notice to it, and it records the
notice as a store event (the settings screen's event list, the fleet's
``event`` topic) and passes it on to the screens (``notice`` on the hub).
Outside a capture a notice is only logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from station.common.logsafe import printable
from station.errors import StationError

log = logging.getLogger(__name__)

#: event types of the notices (docs/mqtt.md lists them)
REJECTED = "capture.rejected"
DUPLICATE = "capture.duplicate"


@dataclass(frozen=True)
class Notice:
    type: str
    message_vi: str
    message_en: str
    detail: dict[str, Any] = field(default_factory=dict)
    severity: str = "warning"


_listener: ContextVar[Callable[[Notice], None] | None] = ContextVar("capture_notices", default=None)


@contextmanager
def listening(listener: Callable[[Notice], None]) -> Iterator[None]:
    """Within the block (in this thread), notices go to ``listener``."""
    token = _listener.set(listener)
    try:
        yield
    finally:
        _listener.reset(token)


def tell(notice: Notice) -> None:
    log.warning("%s", printable(notice.message_en))
    listener = _listener.get()
    if listener is not None:
        listener(notice)


def rejected(name: str, moved_to: str, error: StationError) -> Notice:
    """A hot-folder file moved aside. The decoder's messages open with the file's
    whole path, which the clerk does not need: the notice names where it went."""

    def reason(message: str) -> str:
        return printable(message.split(f"{name}: ", 1)[1] if f"{name}: " in message else message)

    return Notice(
        REJECTED,
        f"Tệp bị từ chối, đã chuyển vào {printable(moved_to)}: {reason(error.message_vi)}",
        f"File refused, moved to {printable(moved_to)}: {reason(error.message_en)}",
        {"file": name, "moved_to": moved_to, "code": error.code},
    )


def duplicate(name: str, earlier_batch: str) -> Notice:
    """A file whose bytes are those of a file captured before: not stored again."""
    shown = printable(name)
    return Notice(
        DUPLICATE,
        f"Tệp {shown} trùng với một trang đã quét (lô {earlier_batch}); không lưu lại lần nữa.",
        f"File {shown} is the same as a page already scanned (batch {earlier_batch}); "
        "not stored again.",
        {"file": name, "earlier_batch": earlier_batch},
    )
