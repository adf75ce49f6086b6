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
    ``PATH/.rejected/`` with a reason file beside it, the clerk is told
    (:mod:`station.capture.notices`), and the batch goes on.

Supported: PNG, JPEG, TIFF (every frame) and PDF (every page, at its scan's
own resolution or rendered at the profile's: docs/imaging.md#pdf-inputs; a
dynamic XFA form or a PDF of empty pages is refused), known by their content,
not their names: a file named
``.png`` that holds PostScript, or anything else, is refused. Every file is
decoded in a child process with a time and memory limit
(:class:`station.capture.decoder.Decoder`), so a hostile file costs at most that and is
refused; the capture thread goes on with the next. A symbolic link is never
followed: in hot mode it is moved to ``.rejected`` (the link, not what it
points to), in replay it is skipped with a warning.

A file whose name ends in ``.jam`` stands for a paper jam at its place in the
order: the batch stops there with the scanner's jam error, as a real feeder
would, and (in hot mode) the marker moves to ``.done`` so the next batch goes
on after it. Demonstrations and the fault tests use it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import math
import os
import re
import stat
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs

from station.capture import Frame, notices
from station.capture.decoder import Decoder
from station.capture.imageio import SUPPORTED_SUFFIXES
from station.common.logsafe import printable
from station.config import Profile
from station.errors import (
    ConfigError,
    DeviceNotFound,
    InputError,
    NoDocuments,
    PaperJam,
    StorageError,
)
from station.store.originals import DONE, REASON, REJECTED

log = logging.getLogger(__name__)

_IGNORED_SUFFIXES = (".part", ".tmp", ".crdownload", ".partial")
#: a virtual scanner's paper jam (see the module docstring)
JAM_SUFFIX = ".jam"


def _sha256(path: Path) -> str:
    """The file's SHA-256, read without following a symbolic link."""
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise OSError(0, "not a regular file")
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
    except OSError as exc:
        name = printable(path.name)
        raise InputError(
            f"{name}: cannot be read ({exc.strerror})",
            f"{name}: không đọc được ({exc.strerror})",
            path=str(path),
        ) from None
    return digest.hexdigest()


def _is_link(path: Path) -> bool:
    try:
        return stat.S_ISLNK(path.lstat().st_mode)
    except FileNotFoundError:
        return False


def _link_refused(path: Path) -> InputError:
    name = printable(path.name)
    return InputError(
        f"{name}: a symbolic link; the station reads only files placed in the folder itself",
        f"{name}: là liên kết tượng trưng; trạm chỉ đọc tệp đặt ngay trong thư mục",
        path=str(path),
    )


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
    #: decodes every file in a child bounded in time and memory (started on first use)
    decoder: Decoder = field(default_factory=Decoder, repr=False, compare=False)
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
        files = []
        for p in self.path.iterdir():
            suffix = p.suffix.lower()
            if (
                p.name.startswith(".")
                or p.name.endswith(_IGNORED_SUFFIXES)
                or (suffix not in SUPPORTED_SUFFIXES and suffix != JAM_SUFFIX)
            ):
                continue
            try:
                mode = p.lstat().st_mode  # a link is listed as a link, never followed
            except FileNotFoundError:
                continue
            if stat.S_ISREG(mode) or stat.S_ISLNK(mode):
                files.append(p)
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
                st = path.lstat()
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
            if _is_link(path):
                if self.hot:
                    self._reject(path, _link_refused(path))
                else:
                    log.warning("skipped %s", _link_refused(path).message_en)
                continue
            if path.suffix.lower() == JAM_SUFFIX:
                if self.hot:
                    self._move(path, DONE)
                raise PaperJam(
                    f"paper jam at {printable(path.name)} (virtual scanner)",
                    f"Kẹt giấy tại {printable(path.name)} (máy quét ảo)",
                    device=self.name,
                )
            try:
                # a hot-folder file is known by its content, so one read again
                # after a crash (before it moved to .done) is not stored twice
                source = f"sha256:{_sha256(path)}" if self.hot else ""
                decoded = self.decoder.frames(
                    path,
                    profile.resolution,
                    profile.file_format,
                    profile.jpeg_quality,
                    stop=stop,
                )
                for index, encoded in enumerate(decoded):
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
            if stop.is_set():
                return  # cut off in the middle of the file: it stays for the next batch
            if self.hot:
                self._move(path, DONE)
        if not yielded and not stop.is_set():
            raise NoDocuments(
                f"no readable page images in {self.path} (see {self.path / REJECTED})",
                f"Không có ảnh trang đọc được trong {self.path} (xem {self.path / REJECTED})",
                device=self.name,
            )

    def _subfolder(self, name: str) -> Path:
        """``.done`` or ``.rejected``: made if missing, and a real folder (a link
        put there would send the files, and the reasons written, elsewhere)."""
        folder = self.path / name
        with contextlib.suppress(FileExistsError):
            folder.mkdir()
        if not stat.S_ISDIR(folder.lstat().st_mode):
            raise StorageError(
                f"{folder} is not a folder (a symbolic link is not followed): remove it",
                f"{folder} không phải thư mục (không theo liên kết tượng trưng): hãy xoá nó",
                path=str(folder),
            )
        return folder

    def _move(self, path: Path, name: str, *, reason: bool = False) -> Path:
        folder = self._subfolder(name)
        target = folder / path.name
        counter = 1
        while os.path.lexists(target) or (reason and os.path.lexists(_reason_of(target))):
            target = folder / f"{path.stem}.{counter}{path.suffix}"
            counter += 1
        try:
            path.replace(target)
        except OSError as exc:
            raise StorageError(
                f"{printable(path.name)} cannot be moved to {name}: {exc.strerror}",
                f"không chuyển được {printable(path.name)} vào {name}: {exc.strerror}",
                path=str(path),
            ) from None
        self._seen.pop(path, None)
        return target

    def _reject(self, path: Path, error: InputError) -> None:
        target = self._move(path, REJECTED, reason=True)
        try:  # made new, never through a link someone left there
            fd = os.open(
                _reason_of(target), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o640
            )
            with os.fdopen(fd, "w", encoding="utf-8") as reason:
                reason.write(error.user_message() + "\n")
        except OSError as exc:
            log.warning("no reason file for %s: %s", printable(target.name), exc.strerror)
        moved_to = f"{target.parent.name}/{target.name}"
        notices.tell(notices.rejected(path.name, moved_to, error))
        if self.on_reject is not None:
            self.on_reject(target, error)

    def read_sensors(self) -> Mapping[str, object] | None:
        return None

    def close(self) -> None:
        self.decoder.close()


def hot_folder(device: str) -> Path | None:
    """The folder of a hot-folder device (``folder:PATH?mode=hot``); None for
    any other device, or one that is not valid (the capture refuses it)."""
    if not device.startswith("folder:"):
        return None
    try:
        source = FolderSource.from_device(device)
    except ConfigError:
        return None
    return source.path if source.hot else None


def _reason_of(target: Path) -> Path:
    return target.with_name(target.name + REASON)
