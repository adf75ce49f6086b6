"""The station's scanner, opened on first use: a scanner switched on after the station
starts, or unplugged and plugged in again, is found without a restart."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator, Mapping

from station.appliance.stats import ScannerState
from station.capture import Frame, Source, open_source
from station.config import Profile
from station.errors import (
    DeviceNotFound,
    DeviceUnplugged,
    StationError,
)

log = logging.getLogger("scanstation.station")


class LazySource:
    """The configured scanner, opened when a batch starts and dropped when it
    disappears, so a scanner plugged in later is found at the next press."""

    def __init__(self, device: str, scanner: ScannerState) -> None:
        self.device = device
        self.scanner = scanner
        self._source: Source | None = None
        self._retry_at = 0.0

    @property
    def name(self) -> str:
        return self._source.name if self._source else self.device

    def _open(self) -> Source:
        if self._source is None:
            self._source = open_source(self.device)
            self.scanner.set(
                self.scanner.status, device=self._source.name, model=model_name(self._source)
            )
        return self._source

    def probe(self) -> None:
        """Find out whether the scanner is there, without opening it."""
        try:
            if self.device.startswith("folder:"):
                from station.capture.folder import FolderSource

                folder = FolderSource.from_device(self.device)
                ready = folder.path.is_dir()
                self.scanner.set("ready" if ready else "offline", model=model_name(folder))
                return
            from station.capture import sane

            found = sane.resolve(self.device, sane.list_devices())
            self.scanner.set("ready", device=found.name, model=f"{found.vendor} {found.model}")
        except StationError as exc:
            self.scanner.failed(exc)

    def frames(self, profile: Profile, stop: threading.Event) -> Iterator[Frame]:
        try:
            yield from self._open().frames(profile, stop)
        except (DeviceNotFound, DeviceUnplugged):
            self.close()
            raise

    def read_sensors(self) -> Mapping[str, object] | None:
        """The scanner's buttons; an absent scanner is looked for every 10 s."""
        if self._source is None and time.monotonic() < self._retry_at:
            return None
        try:
            return self._open().read_sensors()
        except StationError as exc:
            self.close()
            self.scanner.failed(exc)
            self._retry_at = time.monotonic() + 10
            return None

    def close(self) -> None:
        if self._source is not None:
            self._source.close()
            self._source = None


def model_name(source: Source) -> str:
    if source.name.startswith("folder:"):
        return "máy quét ảo / virtual scanner"
    return source.name.split(":")[1] if ":" in source.name else source.name
