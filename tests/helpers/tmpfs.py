"""A small file system of a test's own: a tmpfs mounted on a folder of its
``tmp_path`` (the suite runs as root, as ``make test`` installs as root)."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """``where`` as a tmpfs of ``size`` ("48m") while the block runs; a machine
    that cannot mount one fails the test, saying why."""
    where.mkdir(parents=True)
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size},mode=0700", "tmpfs", str(where)],
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(
            f"cannot mount a tmpfs on {where} ({done.stderr.strip()}): the suite runs as "
            "root, as make test does"
        )
    try:
        yield where
    finally:
        subprocess.run(["umount", "--lazy", str(where)], check=False)
