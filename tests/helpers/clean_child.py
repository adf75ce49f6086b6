"""A cleaning process for the memory checks: cleans one stored page as the
station's cleaning worker does and prints what it found and its own peak
resident memory, as JSON on one line.

python -m tests.helpers.clean_child PAGE DPI OUT_DIR
"""

from __future__ import annotations

import json
import resource
import sys
import time
from pathlib import Path

from station.barcodes.decode import Rules
from station.pipeline.live import clean_to_files


def main() -> None:
    source, dpi, out = Path(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
    # the worker's imports are loaded before the page, as in a pool worker
    started = time.perf_counter()
    report = clean_to_files(
        source, dpi, "medium", Rules.from_config(r"^DEN-(?P<year>\d{4})-(?P<number>\d{6})$",
                                                 "PATCHT"),
        out / "clean.jpg", out / "thumb.jpg",
    )  # fmt: skip
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"report": report.as_info(), "seconds": round(seconds, 2), "peak_rss": peak}))


if __name__ == "__main__":
    main()
