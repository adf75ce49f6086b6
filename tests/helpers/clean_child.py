"""A cleaning process for the memory checks: cleans one stored page as the
station's cleaning worker does and prints what it found and its own peak
resident memory, as JSON on one line.

The peak is the kernel's high-water mark of this process's memory (``VmHWM``).
``ru_maxrss`` would not do: Linux carries it across ``exec``, so a child of a
large process starts with its parent's figure.

python -m tests.helpers.clean_child PAGE DPI OUT_DIR
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from station.config import Config
from station.pipeline.live import clean_to_files
from station.pipeline.page import page_rules


def _high_water() -> int:
    """Peak resident memory of this process in bytes (VmHWM)."""
    for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def main() -> None:
    source, dpi, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    started = time.perf_counter()
    rules = page_rules(Config())
    report = clean_to_files(source, dpi, "medium", rules, out / "clean.jpg", out / "thumb.jpg")
    seconds = time.perf_counter() - started
    peak = _high_water()
    print(json.dumps({"report": report.as_info(), "seconds": round(seconds, 2), "peak_rss": peak}))


if __name__ == "__main__":
    main()
