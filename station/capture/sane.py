"""SANE scanners through python-sane: the one wrapper around the SANE library.

- :func:`probe` initialises SANE once and reports its version;
- :func:`list_devices` discovers scanners;
- :func:`~station.capture.sane_options.map_profile` turns a station profile
  (adf-duplex, color, 200 dpi, A4) into the backend's own option names and
  values, which differ per backend
  ("ADF Duplex", "Automatic Document Feeder(centrally aligned,Duplex)", "Duplex",
  an ``adf-mode`` option, …);
- :class:`SaneScanner` streams an ADF batch page by page and turns every SANE
  status into a typed :mod:`station.errors` exception;
- :meth:`SaneScanner.read_sensors` reads the scanner's buttons (options that
  software can read but not set, as scanbd does) for the button trigger.

SANE is not thread-safe, so every call goes through one process-wide lock.
"""

from __future__ import annotations

import ctypes
import fnmatch
import logging
import signal
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from station.capture import Frame
from station.capture.imageio import encode_page
from station.capture.sane_options import (
    OptionInfo,
    Settings,
    map_profile,
    options_of,
)
from station.config import Profile
from station.errors import (
    CoverOpen,
    DependencyError,
    DeviceBusy,
    DeviceNotFound,
    DeviceUnplugged,
    NoDocuments,
    PaperJam,
    ScannerError,
    ScannerIOError,
    ScannerOptionError,
)

log = logging.getLogger(__name__)

_LOCK = threading.RLock()
_STATE: dict[str, Any] = {}

# sane_strstatus() texts, as python-sane reports them, and what they mean.
_STATUS: dict[str, tuple[type[ScannerError], str, str]] = {
    "Document feeder out of documents": (
        NoDocuments,
        "the document feeder is empty",
        "Khay nạp giấy trống (hết giấy)",
    ),
    "Document feeder jammed": (PaperJam, "paper jam in the feeder", "Kẹt giấy trong khay nạp"),
    "Scanner cover is open": (CoverOpen, "the scanner cover is open", "Nắp máy quét đang mở"),
    "Device busy": (DeviceBusy, "the scanner is busy", "Máy quét đang bận"),
    "Error during device I/O": (
        ScannerIOError,
        "communication with the scanner failed",
        "Lỗi truyền dữ liệu với máy quét",
    ),
    "Out of memory": (
        ScannerIOError,
        "the scanner driver ran out of memory",
        "Trình điều khiển hết bộ nhớ",
    ),
    "Access to resource has been denied": (
        ScannerIOError,
        "access to the scanner was denied (check udev rules and the scanner group)",
        "Không có quyền truy cập máy quét (kiểm tra udev và nhóm scanner)",
    ),
    "Operation not supported": (
        ScannerIOError,
        "the scanner does not support this operation",
        "Máy quét không hỗ trợ thao tác này",
    ),
    "Operation was canceled": (
        ScannerIOError,
        "the scan was cancelled by the scanner",
        "Máy quét đã hủy lượt quét",
    ),
    "Operation was cancelled": (
        ScannerIOError,
        "the scan was cancelled by the scanner",
        "Máy quét đã hủy lượt quét",
    ),
    "Invalid argument": (
        ScannerIOError,
        "the scanner refused a setting",
        "Máy quét từ chối một thiết lập",
    ),
    "Scanner returned no data": (
        ScannerIOError,
        "the scanner returned no image data",
        "Máy quét không trả về dữ liệu ảnh",
    ),
}


def ignore_sigpipe() -> None:
    """Put SIGPIPE back to "ignore" for the whole process.

    Python ignores SIGPIPE (a write to a closed socket is an error, not death),
    but some SANE backends (the ``test`` backend among them, through
    sanei_thread) set it back to the default during ``sane_start``; the next
    write to a broker that went away would then kill the station. ``signal``
    from libc works from any thread, unlike :func:`signal.signal`.
    """
    libc = ctypes.CDLL(None, use_errno=True)
    libc.signal.restype = ctypes.c_void_p
    libc.signal.argtypes = (ctypes.c_int, ctypes.c_void_p)
    libc.signal(int(signal.SIGPIPE), 1)  # SIG_IGN


def _sane() -> Any:
    import sane

    return sane


def probe() -> tuple[int, int, int]:
    """Initialise SANE (once per process) and return its version (major, minor, build)."""
    with _LOCK:
        if "version" not in _STATE:
            try:
                version = _sane().init()
            except Exception as exc:
                raise DependencyError(
                    f"SANE cannot be initialised ({exc}). Fix: sudo apt-get install libsane1 "
                    "and run make setup",
                    f"Không khởi tạo được SANE ({exc}). Cách sửa: sudo apt-get install libsane1 "
                    "rồi chạy make setup",
                ) from exc
            _STATE["version"] = (version[1], version[2], version[3])
        return _STATE["version"]  # type: ignore[no-any-return]


def translate(exc: BaseException, device: str) -> ScannerError:
    """Turn a python-sane failure into the station's typed error."""
    text = str(exc)
    kind, en, vi = _STATUS.get(
        text, (ScannerIOError, f"scanner error: {text}", f"Lỗi máy quét: {text}")
    )
    return kind(f"{en} ({device})", f"{vi} ({device})", device=device, sane_status=text)


@dataclass(frozen=True)
class Device:
    name: str
    vendor: str
    model: str
    type: str


def list_devices(local_only: bool = False) -> list[Device]:
    probe()
    with _LOCK:
        try:
            found = _sane().get_devices(local_only)
        except Exception as exc:
            raise translate(exc, "sane") from exc
    return [Device(*entry) for entry in found]


def resolve(pattern: str, devices: Sequence[Device]) -> Device:
    """The device a configured name or glob refers to; ``auto`` takes the first scanner."""
    if pattern == "auto":
        if devices:
            return devices[0]
    else:
        for device in devices:
            if device.name == pattern or fnmatch.fnmatchcase(device.name, pattern):
                return device
    raise DeviceNotFound(
        f"no scanner matches {pattern!r} (found: {', '.join(d.name for d in devices) or 'none'})",
        f"Không tìm thấy máy quét {pattern!r}: kiểm tra cáp, nguồn và `scanstation devices`",
        pattern=pattern,
    )


# --------------------------------------------------------------------------- the scanner


class SaneScanner:
    """One scanner, opened on first use and reopened after it was unplugged."""

    def __init__(self, pattern: str) -> None:
        self.pattern = pattern
        self.name = pattern
        self.model = ""
        self._dev: Any = None
        self._scanning = threading.Event()

    # -- handle

    def _open(self) -> Any:
        if self._dev is not None:
            return self._dev
        device = resolve(self.pattern, list_devices())
        with _LOCK:
            try:
                self._dev = _sane().SaneDev(device.name)
            except Exception as exc:
                raise translate(exc, device.name) from exc
        self.name = device.name
        self.model = f"{device.vendor} {device.model}".strip()
        return self._dev

    def _drop(self) -> None:
        with _LOCK:
            if self._dev is not None:
                try:
                    self._dev.close()
                except Exception as exc:  # noqa: BLE001 - a dead handle may fail to close
                    log.debug("closing %s failed: %s", self.name, exc)
                self._dev = None

    def close(self) -> None:
        self._drop()

    def options(self) -> dict[str, OptionInfo]:
        with _LOCK:
            return options_of(self._open().get_options())

    def set_option(self, name: str, value: Any) -> None:
        """Set one backend option by its SANE name (python-sane uses _ for -)."""
        with _LOCK:
            setattr(self._open(), name.replace("-", "_"), value)

    def get_option(self, name: str) -> Any:
        with _LOCK:
            return getattr(self._open(), name.replace("-", "_"))

    # -- buttons

    def sensor_names(self) -> list[str]:
        return [o.name for o in self.options().values() if o.is_sensor]

    def read_sensors(self) -> Mapping[str, object] | None:
        """Button states; ``None`` while a batch is being scanned or the lock is taken."""
        if self._scanning.is_set() or not _LOCK.acquire(blocking=False):
            return None
        try:
            if self._scanning.is_set():
                return None
            dev = self._open()
            return {
                o.name: getattr(dev, o.name.replace("-", "_"))
                for o in options_of(dev.get_options()).values()
                if o.is_sensor
            }
        except Exception as exc:  # noqa: BLE001 - an unplugged scanner is retried next poll
            log.debug("reading buttons of %s failed: %s", self.pattern, exc)
            self._drop()
            return None
        finally:
            _LOCK.release()

    # -- capture

    def apply(self, profile: Profile) -> Settings:
        dev = self._open()
        settings = map_profile(self.options(), profile)
        with _LOCK:
            for name, value in settings.values:
                try:
                    setattr(dev, name.replace("-", "_"), value)
                except AttributeError as exc:
                    # inactive after an earlier option changed it: not needed then
                    log.debug("option %s not set: %s", name, exc)
                except Exception as exc:
                    raise ScannerOptionError(
                        f"the scanner refused {name} = {value!r}: {exc}",
                        f"Máy quét không nhận thiết lập {name} = {value!r}: {exc}",
                    ) from exc
        for note in settings.notes:
            log.warning("%s: %s", self.name, note)
        return settings

    def frames(self, profile: Profile, stop: threading.Event) -> Iterator[Frame]:
        settings = self.apply(profile)
        dev = self._dev
        count = 0
        self._scanning.set()
        try:
            while not stop.is_set() and count < profile.max_pages:
                with _LOCK:
                    try:
                        dev.start()
                        image = dev.snap(True)
                        dpi = round(float(getattr(dev, "resolution", profile.resolution)))
                    except Exception as exc:
                        error = self._failure(exc)
                        if isinstance(error, NoDocuments) and count > 0:
                            break
                        raise error from exc
                    finally:
                        ignore_sigpipe()
                encoded = encode_page(image, dpi, profile.file_format, profile.jpeg_quality)
                side = ("front" if count % 2 == 0 else "back") if settings.duplex else "single"
                yield Frame(
                    data=encoded.data,
                    ext=encoded.ext,
                    width=encoded.width,
                    height=encoded.height,
                    dpi=encoded.dpi,
                    input_name=f"{self.name}#{count + 1}",
                    frame=0,
                    side=side,
                )
                count += 1
                if not settings.feeder:
                    break
        finally:
            self._scanning.clear()
            with _LOCK:
                if self._dev is not None:
                    try:
                        self._dev.cancel()
                    except Exception as exc:  # noqa: BLE001 - cancel on a dead device
                        log.debug("cancel on %s failed: %s", self.name, exc)
                    ignore_sigpipe()

    def _failure(self, exc: BaseException) -> ScannerError:
        error = translate(exc, self.name)
        if isinstance(error, ScannerIOError):
            # An I/O error from a scanner that is no longer listed means it was unplugged.
            try:
                present = any(d.name == self.name for d in list_devices())
            except Exception:  # noqa: BLE001 - the listing may fail for the same reason
                present = False
            if not present:
                self._drop()
                return DeviceUnplugged(
                    f"the scanner {self.name} was disconnected",
                    f"Máy quét {self.name} đã bị ngắt kết nối",
                    device=self.name,
                )
        return error
