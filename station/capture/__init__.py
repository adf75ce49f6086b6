"""Pages in: scanner and folder sources, bounded image decoding, the capture loop, triggers.
Imports the store, config and plumbing; never the pipeline, network or UI.

A *source* yields :class:`Frame` objects, one per captured page side, as they
arrive. :func:`open_source` picks the source for a configured device name:
``folder:PATH`` for a folder of images, anything else for SANE.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Protocol

from station.config import Profile


@dataclass(frozen=True)
class Frame:
    """One captured page side, encoded, with where it came from."""

    data: bytes
    ext: str
    width: int
    height: int
    dpi: int
    input_name: str
    frame: int
    side: str  # "front", "back" or "single"
    #: what the frame was read from, the same across restarts (a hot-folder
    #: file's SHA-256), so a frame already stored is not stored twice; "" for
    #: scanners and replays
    source: str = ""


class Source(Protocol):
    """Something pages come from: a scanner or a folder."""

    @property
    def name(self) -> str:
        """A name for logs and the store (the SANE device name, or folder:PATH)."""
        ...

    def frames(self, profile: Profile, stop: threading.Event) -> Iterator[Frame]:
        """Yield frames of one batch as they are captured.

        The caller stores each frame before asking for the next one. Scanner
        failures raise :class:`station.errors.ScannerError` subclasses; an empty
        feeder before the first page raises :class:`station.errors.NoDocuments`.
        """
        ...

    def read_sensors(self) -> Mapping[str, object] | None:
        """Current values of the device's buttons, or ``None`` if busy or none."""
        ...

    def close(self) -> None: ...


def open_source(device: str) -> Source:
    """The source for a configured device name."""
    if device.startswith("folder:"):
        from station.capture.folder import FolderSource

        return FolderSource.from_device(device)
    from station.capture.sane import SaneScanner

    return SaneScanner(device)
