"""Shared by the benchmarks: the machine's description, percentiles, JSON output."""

from __future__ import annotations

import json
import os
import platform
from datetime import UTC, datetime
from pathlib import Path
from typing import Any


def machine() -> str:
    """CPU model, cores, memory and Python: enough to compare figures later."""
    model = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith(("model name", "Model")):
                model = line.split(":", 1)[1].strip()
                break
        mem_kib = int(Path("/proc/meminfo").read_text().split()[1])
    except (OSError, ValueError, IndexError):
        mem_kib = 0
    return (
        f"{model}, {os.cpu_count()} cores, {mem_kib / 2**20:.0f} GiB, "
        f"{platform.machine()}, Python {platform.python_version()}"
    )


def percentile(values: list[float], q: float) -> float:
    """The value below which ``q`` % of ``values`` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def write(name: str, out: str, figures: dict[str, Any]) -> None:
    """Print the figures and write them, with date and machine, to ``out``."""
    result = {
        "benchmark": name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        **figures,
    }
    Path(out).parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(result, indent=2, ensure_ascii=False) + "\n"
    Path(out).write_text(text, encoding="utf-8")
    print(text, end="")
