"""Folder source: ``folder:PATH`` reads page images and PDFs as if a scanner fed them.

Two modes:

``folder:PATH`` (replay)
    Every batch reads all supported files in natural name order (scan_2 before
    scan_10) and leaves them in place. The demo's virtual scanner is built on it.

``folder:PATH?pace=0.5`` (replay at a scanner's pace)
    The same, one page every ``pace`` seconds, like a real feeder.

``folder:PATH?mode=hot`` (hot folder)
    A batch takes every file that is complete and stable (size and modification
    time unchanged for ``settle`` seconds, default 2), in name order, and moves
    each to ``PATH/.done/`` once all its pages are in the store. Names starting
    with a dot or ending in ``.part``, ``.tmp`` or ``.crdownload`` are ignored
    while they are being written. A file that cannot be read is moved to
    ``PATH/.rejected/`` with a reason file beside it, and the batch goes on.

Supported: PNG, JPEG, TIFF (every frame) and PDF (every page, rendered at the
profile's resolution).

A file whose name ends in ``.jam`` stands for a paper jam at its place in the
order: the batch stops there with the scanner's jam error, as a real feeder
would, and (in hot mode) the marker moves to ``.done`` so the next batch goes
on after it. Demonstrations and the fault tests use it.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from station.capture import Frame
from station.config import Profile
from station.errors import ConfigError, DeviceNotFound, InputError, NoDocuments, PaperJam
from station.fsutil import sha256_file
from station.imageio import SUPPORTED_SUFFIXES, read_frames

log = logging.getLogger(__name__)

_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")
#: a virtual scanner's paper jam (see the module docstring)
JAM_SUFFIX = ".jam"


def _sha256(path: Path) -> str:
    try:
        return sha256_file(path)
    except OSError as exc:
        raise InputError(
            f"{path.name}: cannot be read ({exc.strerror})",
            f"{path.name}: không đọc được ({exc.strerror})",
            path=str(path),
        ) from None


def natural_key(name: str) -> list[object]:
    """Sort key that puts scan_2 before scan_10."""
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", name)]


@dataclass
class FolderSource:
    path: Path
    hot: bool = False
    settle_s: float = 2.0
    #: seconds between pages, as a scanner feeds them (0: as fast as they are read)
    pace_s: float = 0.0
    #: Called with (file, error) when a hot-folder file is rejected.
    on_reject: Callable[[Path, InputError], None] | None = None
    _seen: dict[Path, tuple[int, int, float]] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return f"folder:{self.path}" + ("?mode=hot" if self.hot else "")

    @classmethod
    def from_device(cls, device: str) -> FolderSource:
        bad = ConfigError(
            f"bad folder device {device!r}: use folder:PATH, folder:PATH?pace=0.5 or "
            "folder:PATH?mode=hot&settle=2",
            f"Thiết bị thư mục {device!r} không hợp lệ: dùng folder:ĐƯỜNG_DẪN, "
            "folder:ĐƯỜNG_DẪN?pace=0.5 hoặc folder:ĐƯỜNG_DẪN?mode=hot&settle=2",
        )
        spec = device.removeprefix("folder:")
        options: dict[str, list[str]] = {}
        if "?" in spec:
            base, _, query = spec.rpartition("?")
            try:
                options = parse_qs(query, strict_parsing=True) if query else {}
            except ValueError:
                raise bad from None
            spec = base
        if not spec or set(options) - {"mode", "settle", "pace"}:
            raise bad
        mode = options.get("mode", ["replay"])[-1]
        if mode not in ("replay", "hot"):
            raise bad
        try:
            settle = float(options.get("settle", ["2"])[-1])
        except ValueError:
            raise bad from None
        try:
            pace = float(options.get("pace", ["0"])[-1])
        except ValueError:
            raise bad from None
        if not math.isfinite(settle) or not 0 <= settle <= 3600:
            raise bad
        if not math.isfinite(pace) or not 0 <= pace <= 60:
            raise bad
        return cls(Path(spec).expanduser(), hot=mode == "hot", settle_s=settle, pace_s=pace)

    # ------------------------------------------------------------------ listing

    def _candidates(self) -> list[Path]:
        if not self.path.is_dir():
            raise DeviceNotFound(
                f"folder {self.path} does not exist",
                f"Không có thư mục {self.path}",
                device=self.name,
            )
        files = [
            p
            for p in self.path.iterdir()
            if p.is_file()
            and not p.name.startswith(".")
            and not p.name.endswith(_IGNORED_SUFFIXES)
            and (p.suffix.lower() in SUPPORTED_SUFFIXES or p.suffix.lower() == JAM_SUFFIX)
        ]
        return sorted(files, key=lambda p: natural_key(p.name))

    def stable_files(self, now: float | None = None) -> list[Path]:
        """Hot mode: files whose size and mtime have not changed for ``settle_s``.

        A file seen for the first time counts as still since its modification
        time, so a file that has sat in the folder for an hour is taken at once;
        a file still being written keeps changing and waits.
        """
        now = time.monotonic() if now is None else now
        ready = []
        current = self._candidates()
        for path in current:
            try:
                st = path.stat()
            except FileNotFoundError:
                continue
            key = (st.st_size, st.st_mtime_ns)
            previous = self._seen.get(path)
            if previous is None:
                # first sight: the file has been still since its last modification
                age = max(0.0, time.time() - st.st_mtime_ns / 1e9)
                previous = self._seen[path] = (*key, now - age)
            elif previous[:2] != key:
                self._seen[path] = (*key, now)
                continue
            empty_ok = path.suffix.lower() == JAM_SUFFIX
            if now - previous[2] >= self.settle_s and (st.st_size > 0 or empty_ok):
                ready.append(path)
        for gone in set(self._seen) - set(current):
            del self._seen[gone]
        return ready

    def pending(self) -> bool:
        """Hot mode: whether a batch would find something to take now."""
        return bool(self.stable_files())

    # ------------------------------------------------------------------ capture

    def frames(self, profile: Profile, stop: threading.Event) -> Iterator[Frame]:
        files = self.stable_files() if self.hot else self._candidates()
        if not files:
            raise NoDocuments(
                f"no page images in {self.path}",
                f"Không có ảnh trang nào trong {self.path}",
                device=self.name,
            )
        yielded = 0
        for path in files:
            if stop.is_set():
                return
            if path.suffix.lower() == JAM_SUFFIX:
                if self.hot:
                    self._move(path, self.path / ".done")
                raise PaperJam(
                    f"paper jam at {path.name} (virtual scanner)",
                    f"Kẹt giấy tại {path.name} (máy quét ảo)",
                    device=self.name,
                )
            try:
                # a hot-folder file is known by its content, so one read again
                # after a crash (before it moved to .done) is not stored twice
                source = f"sha256:{_sha256(path)}" if self.hot else ""
                for index, encoded in enumerate(
                    read_frames(path, profile.resolution, profile.file_format, profile.jpeg_quality)
                ):
                    if self.pace_s and stop.wait(self.pace_s):
                        return
                    yield Frame(
                        data=encoded.data,
                        ext=encoded.ext,
                        width=encoded.width,
                        height=encoded.height,
                        dpi=encoded.dpi,
                        input_name=path.name,
                        frame=index,
                        side="single",
                        source=source,
                    )
                    yielded += 1
            except InputError as exc:
                if not self.hot:
                    raise
                # Frames read before the fault are already in the store; the file
                # goes aside with the reason so nothing is lost or read twice.
                self._reject(path, exc)
                continue
            if self.hot:
                self._move(path, self.path / ".done")
        if not yielded and not stop.is_set():
            raise NoDocuments(
                f"no readable page images in {self.path} (see {self.path / '.rejected'})",
                f"Không có ảnh trang đọc được trong {self.path} (xem {self.path / '.rejected'})",
                device=self.name,
            )

    def _move(self, path: Path, folder: Path) -> Path:
        folder.mkdir(exist_ok=True)
        target = folder / path.name
        counter = 1
        while target.exists():
            target = folder / f"{path.stem}.{counter}{path.suffix}"
            counter += 1
        path.replace(target)
        self._seen.pop(path, None)
        return target

    def _reject(self, path: Path, error: InputError) -> None:
        target = self._move(path, self.path / ".rejected")
        target.with_name(target.name + ".reason.txt").write_text(
            error.user_message() + "\n", encoding="utf-8"
        )
        log.warning("rejected %s: %s", path.name, error.message_en)
        if self.on_reject is not None:
            self.on_reject(target, error)

    def read_sensors(self) -> Mapping[str, object] | None:
        return None

    def close(self) -> None:
        pass
