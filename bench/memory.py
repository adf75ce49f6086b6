"""Memory of the station while it scans a 100-sheet duplex batch at 300 dpi, or
while it cleans pages at the input limit.

python -m bench.memory [--sheets 100] [--pace 0.3] [--out bench/results/memory.json]
python -m bench.memory --page [--out bench/results/memory_page.json]

``scanstation run --offline`` runs in its own process with the virtual scanner
feeding 2 × ``sheets`` sides at 300 dpi (the generated sample stack, repeated),
one every ``pace`` seconds. The benchmark presses Quét through the UI and
samples the resident memory of the station process, and of its worker
processes (cleaning, OCR, Tesseract), every 0.2 s until the batch is ready for
review. Target (docs/quality.md): the station process at most 300 MB.

``--page``: a colour page of 98.8 MP (just under the input limit, about 930 dpi;
tests/helpers/bigpage.py) is cleaned as the station's cleaning worker cleans a
stored page (tests/helpers/clean_child.py) in a process of its own, whose peak
resident memory the kernel reports (``wait4``). Then two such pages go through
``scanstation process --no-ocr --jobs 2`` and the resident memory of its whole
process tree is sampled every 20 ms. Targets (docs/imaging.md#memory): 600 MB
for the process cleaning the page; the pool within its budget.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

from bench.common import write
from tests.helpers.broker import free_port
from tests.helpers.cli import ROOT


def rss(pid: int) -> int:
    """Resident memory of a process in bytes (0 when it is gone)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        current = todo.pop()
        for task in Path(f"/proc/{current}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                found.append(child)
                todo.append(child)
    return found


def _get(url: str, **headers: str) -> tuple[str, Any]:
    request = urllib.request.Request(url, headers=headers)  # noqa: S310
    with urllib.request.urlopen(request, timeout=10) as reply:  # noqa: S310
        return reply.headers.get("Set-Cookie", ""), reply.read()


def measure(folder: Path, sheets: int, pace: float) -> dict[str, Any]:
    from station.demo.samples import write_sample_batch

    stack = write_sample_batch(folder / "stack", dpi=300)
    scans = folder / "scans"
    scans.mkdir()
    for n in range(2 * sheets):
        shutil.copy(stack[n % len(stack)], scans / f"scan_{n + 1:04d}.jpg")
    port = free_port()
    config = folder / "station.toml"
    config.write_text(
        f'[station]\nid = "bench"\ndata_dir = "{folder / "data"}"\n'
        f'[scanner]\ndevice = "folder:{scans}?pace={pace}"\n'
        "[pipeline]\nauto_confirm_seconds = 0\n"
        f'[ui]\nlisten = "127.0.0.1:{port}"\n',
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "run", "--config", str(config), "--offline"],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    peak_main = peak_all = 0
    samples = []
    try:
        assert proc.stdout is not None and "http://" in proc.stdout.readline()
        cookie, page = _get(f"{base}/")
        token = re.search(rb'name="csrf_token" value="([^"]+)"', page)
        assert token is not None
        request = urllib.request.Request(  # noqa: S310
            f"{base}/scan",
            data=b"csrf_token=" + token.group(1),
            headers={"Cookie": cookie.split(";")[0], "Accept": "application/json"},
        )
        urllib.request.urlopen(request, timeout=10).close()  # noqa: S310
        started = time.monotonic()
        while time.monotonic() - started < 3600:
            main = rss(proc.pid)
            total = main + sum(rss(child) for child in descendants(proc.pid))
            peak_main, peak_all = max(peak_main, main), max(peak_all, total)
            samples.append(main)
            status = json.loads(_get(f"{base}/api/status")[1])
            if status["review"] and not status["busy"]:
                break
            time.sleep(0.2)
        elapsed = time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(60)
        proc.stdout.close() if proc.stdout else None
    return {
        "sheets": sheets,
        "sides": 2 * sheets,
        "dpi": 300,
        "pace_s": pace,
        "seconds_to_review": round(elapsed, 1),
        "station_rss_peak_mb": round(peak_main / 2**20, 1),
        "station_rss_median_mb": round(sorted(samples)[len(samples) // 2] / 2**20, 1),
        "with_workers_rss_peak_mb": round(peak_all / 2**20, 1),
        "target_station_rss_mb": 300,
    }


def clean_peak(page: Path, out: Path) -> dict[str, Any]:
    """Clean ``page`` in a process of its own: what it found, its time and its
    peak resident memory (VmHWM, tests/helpers/clean_child.py)."""
    out.mkdir(parents=True, exist_ok=True)
    done = subprocess.run(
        [sys.executable, "-m", "tests.helpers.clean_child", str(page), "200", str(out)],
        cwd=ROOT, capture_output=True, text=True, check=True,
    )  # fmt: skip
    found: dict[str, Any] = json.loads(done.stdout)
    found["peak_rss_mb"] = round(found["peak_rss"] / 2**20, 1)
    return found


def tree_peak(pages: list[Path], out: Path, jobs: int) -> dict[str, Any]:
    """``scanstation process`` on ``pages``: the peak of its process tree's memory."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "station", "process", "--no-ocr", "--jobs", str(jobs),
         "--out", str(out), *map(str, pages)],
        cwd=ROOT, stdout=subprocess.DEVNULL,
    )  # fmt: skip
    peak = peak_workers = 0
    started = time.monotonic()
    while proc.poll() is None:
        children = descendants(proc.pid)
        workers = sum(rss(child) for child in children)
        peak = max(peak, rss(proc.pid) + workers)
        peak_workers = max(peak_workers, max((rss(child) for child in children), default=0))
        time.sleep(0.02)
    if proc.returncode != 0:
        raise RuntimeError(f"scanstation process failed (exit {proc.returncode})")
    return {
        "pages": len(pages),
        "jobs": jobs,
        "seconds": round(time.monotonic() - started, 1),
        "tree_rss_peak_mb": round(peak / 2**20, 1),
        "worker_rss_peak_mb": round(peak_workers / 2**20, 1),
    }


def measure_page(folder: Path) -> dict[str, Any]:
    from station.capture.imageio import MAX_PIXELS
    from station.common.workers import cleaning_budget
    from tests.helpers.bigpage import write_big_page

    page = folder / "page.jpg"
    dpi = write_big_page(page)
    twin = folder / "twin.jpg"
    shutil.copy(page, twin)
    from PIL import Image

    with Image.open(page) as image:
        width, height = image.size
    one = clean_peak(page, folder / "one")
    two = tree_peak([page, twin], folder / "two", jobs=2)
    return {
        "page_px": [width, height],
        "page_mp": round(width * height / 1e6, 1),
        "limit_mp": MAX_PIXELS / 1e6,
        "dpi": dpi,
        "jpeg_mb": round(page.stat().st_size / 2**20, 1),
        "clean_seconds": one["seconds"],
        "clean_rss_peak_mb": one["peak_rss_mb"],
        "found": one["report"],
        "two_pages": two,
        "budget_mb": round(cleaning_budget(0) / 2**20),
        "target_clean_rss_mb": 600,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", type=int, default=100)
    parser.add_argument("--pace", type=float, default=0.3, help="seconds between sides")
    parser.add_argument("--page", action="store_true", help="pages at the input limit")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()
    name = "memory_page" if args.page else "memory"
    out = args.out or str(ROOT / "bench" / "results" / f"{name}.json")
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        if args.page:
            figures = measure_page(Path(tmp))
        else:
            figures = measure(Path(tmp), args.sheets, args.pace)
    write(name, out, figures)


if __name__ == "__main__":
    main()
