"""Is a folder on an encrypted file system? For ``scanstation doctor``.

A station's data directory holds every page it scanned until the retention
removes it; on a card that leaves the building (stolen, sent for repair,
thrown away) only encryption keeps those pages unreadable. Three kinds are
recognised:

- **dm-crypt** (LUKS): the file system's block device is a device-mapper
  target whose ``/sys/block/dm-N/dm/uuid`` starts with ``CRYPT-``, or one
  stacked on such a target (LVM on LUKS: followed through ``slaves/``);
- **ecryptfs**: the mount's file system type;
- **fscrypt**: the folder carries the kernel's encrypted flag
  (``FS_ENCRYPT_FL``, ext4 and f2fs), asked with ``FS_IOC_GETFLAGS``.

The mount is found in ``/proc/self/mountinfo``: the longest mount point that
holds the folder. ``root`` points the reading of ``/proc`` and ``/sys`` at
another tree (a test's); the fscrypt question is asked only of the real one.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import struct
import sys
from dataclasses import dataclass
from pathlib import Path

#: FS_IOC_GETFLAGS, _IOR('f', 1, long), and the flag of an fscrypt folder
_FS_IOC_GETFLAGS = (2 << 30) | (struct.calcsize("l") << 16) | (ord("f") << 8) | 1
_FS_ENCRYPT_FL = 0x800
#: device-mapper targets stacked deeper than this are not followed
_MAX_DEPTH = 8


@dataclass(frozen=True)
class Mount:
    """One line of ``mountinfo``."""

    point: str
    #: "major:minor" of the file system's device
    device: str
    fstype: str
    source: str


@dataclass(frozen=True)
class Encryption:
    """What keeps a folder encrypted: ``kind`` is "dm-crypt", "ecryptfs" or
    "fscrypt", or None when nothing does (or it cannot be told)."""

    kind: str | None
    mount: Mount | None
    #: the dm-crypt mapping's name, or what was found
    detail: str = ""


def _unescape(field: str) -> str:
    """mountinfo writes a space, tab, newline or backslash as an octal escape."""
    return re.sub(r"\\([0-7]{3})", lambda m: chr(int(m.group(1), 8)), field)


def mounts(root: Path = Path("/")) -> list[Mount]:
    """The mounts of this process's namespace, in the order they were made."""
    found = []
    try:
        text = (root / "proc/self/mountinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return []
    for line in text.splitlines():
        fields = line.split()
        if "-" not in fields[6:]:
            continue
        dash = fields.index("-", 6)
        if len(fields) < dash + 3:
            continue
        found.append(
            Mount(
                point=_unescape(fields[4]),
                device=fields[2],
                fstype=fields[dash + 1],
                source=_unescape(fields[dash + 2]),
            )
        )
    return found


def mount_of(path: Path, root: Path = Path("/")) -> Mount | None:
    """The mount holding ``path``: the longest mount point above it (the last
    one made, when one was mounted over another)."""
    best: Mount | None = None
    for mount in mounts(root):
        point = mount.point.rstrip("/") or "/"
        if (point == "/" or path == Path(point) or Path(point) in path.parents) and (
            best is None or len(point) >= len(best.point.rstrip("/") or "/")
        ):
            best = mount
    return best


def _dm_dir(mount: Mount, root: Path) -> Path | None:
    """The sysfs folder of the mount's block device when it is a device-mapper
    target: by its number, else by the source's name (btrfs reports an
    anonymous number)."""
    by_number = root / "sys/dev/block" / mount.device
    if (by_number / "dm").is_dir():
        return by_number.resolve()
    source = mount.source
    if re.fullmatch(r"/dev/dm-\d+", source):
        candidate = root / "sys/block" / source.rsplit("/", 1)[1]
        return candidate.resolve() if (candidate / "dm").is_dir() else None
    if source.startswith("/dev/mapper/"):
        name = source.removeprefix("/dev/mapper/")
        for candidate in sorted((root / "sys/block").glob("dm-*")):
            with contextlib.suppress(OSError):
                if (candidate / "dm/name").read_text(encoding="utf-8").strip() == name:
                    return candidate.resolve()
    return None


def _crypt_below(block: Path, depth: int = 0) -> str | None:
    """The name of the dm-crypt target at or below this device, if any."""
    try:
        uuid = (block / "dm/uuid").read_text(encoding="utf-8").strip()
    except OSError:
        uuid = ""
    if uuid.startswith("CRYPT-"):
        try:
            return (block / "dm/name").read_text(encoding="utf-8").strip() or block.name
        except OSError:
            return block.name
    if depth >= _MAX_DEPTH or not (block / "slaves").is_dir():
        return None
    for slave in sorted((block / "slaves").iterdir()):
        found = _crypt_below(slave.resolve(), depth + 1)
        if found is not None:
            return found
    return None


def fscrypt_flag(path: Path) -> bool:
    """Whether the folder carries the fscrypt flag (False where the file
    system cannot tell)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return False
    try:
        buffer = bytearray(struct.calcsize("l"))
        fcntl.ioctl(fd, _FS_IOC_GETFLAGS, buffer, True)
    except OSError:  # ENOTTY and the like: a file system without these flags
        return False
    finally:
        os.close(fd)
    return bool(int.from_bytes(buffer[:4], sys.byteorder) & _FS_ENCRYPT_FL)


def encryption(path: Path, root: Path = Path("/")) -> Encryption:
    """What encrypts ``path`` (an absolute path on the system at ``root``)."""
    real = root == Path("/")
    if real:
        path = path.resolve()
    mount = mount_of(path, root)
    if mount is None:
        return Encryption(None, None, "no mount found")
    if mount.fstype == "ecryptfs":
        return Encryption("ecryptfs", mount, mount.source)
    block = _dm_dir(mount, root)
    if block is not None:
        name = _crypt_below(block)
        if name is not None:
            return Encryption("dm-crypt", mount, name)
    if real and fscrypt_flag(path):
        return Encryption("fscrypt", mount, str(path))
    return Encryption(None, mount, f"{mount.source} ({mount.fstype})")
