"""Running the real ``scanstation`` command from the tests."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def scanstation(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``scanstation ARGS`` in a child process with the tests' environment
    (SANE_CONFIG_DIR from conftest), from the repository root."""
    return subprocess.run(
        [sys.executable, "-m", "station", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=dict(os.environ),
        timeout=timeout,
        check=False,
    )
