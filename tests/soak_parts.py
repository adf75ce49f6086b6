"""The soak's parts that need no running system: the documents' pages, the
clerk's two HTTP calls, and the figures of the report."""

from __future__ import annotations

import contextlib
import http.cookiejar
import io
import json
import logging
import os
import random
import re
import statistics
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from dataclasses import replace
from pathlib import Path
from typing import Any

from station.demo.samples import LABEL_YEAR, SAMPLE_DOCUMENTS, render_document, scan_effects

#: this year's labels, as a station's are (a label of another year is asked about)
YEAR = LABEL_YEAR
#: a document's page, scanned at this resolution
DPI = 200

log = logging.getLogger("soak")


def registration(number: int) -> str:
    return f"DEN-{YEAR}-{number:06d}"


def _page(number: int) -> bytes:
    """Document ``number``: the first sample's header, its own number and label."""
    base = SAMPLE_DOCUMENTS[0]
    spec = replace(
        base,
        number=f"{number:02d}",  # Decree 30: a number under 10 is written 05
        registration=registration(number),
        body=tuple(base.body[:2]),
    )
    rng = random.Random(number)
    page = scan_effects(render_document(spec, DPI)[0], rng, DPI)
    buf = io.BytesIO()
    page.save(buf, format="JPEG", quality=85, dpi=(DPI, DPI))
    return buf.getvalue()


def write_pages(folder: Path, count: int, workers: int = 2) -> list[Path]:
    """The documents' pages, made once and kept for later runs."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{registration(n)}.jpg" for n in range(1, count + 1)]
    missing = [n for n, p in enumerate(paths, start=1) if not p.exists()]
    with ProcessPoolExecutor(workers) as pool:
        for number, data in zip(missing, pool.map(_page, missing, chunksize=8), strict=True):
            paths[number - 1].write_bytes(data)
    return paths


def get_json(url: str) -> Any:
    """A JSON answer of the station's API, or None when there is none."""
    try:
        with urllib.request.urlopen(url, timeout=10) as reply:  # noqa: S310 - http to loopback
            return json.loads(reply.read())
    except (OSError, ValueError):
        return None


def confirm(base: str, batch: str) -> bool:
    """What the clerk does: open the batch's page, then press "Xác nhận và gửi"."""
    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    try:
        with opener.open(f"{base}/batch/{batch}", timeout=10) as reply:
            page = reply.read().decode()
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        if token is None:
            return False
        # the clerk answers "Vẫn gửi?" with yes: the soak sends everything it scans
        body = urllib.parse.urlencode({"csrf_token": token.group(1), "despite": "1"}).encode()
        request = urllib.request.Request(  # noqa: S310 - http to loopback
            f"{base}/batch/{batch}/confirm",
            data=body,
            headers={"Accept": "application/json"},
        )
        with opener.open(request, timeout=30) as reply:
            return bool(reply.status == 200)
    except (OSError, ValueError) as exc:
        log.info("clerk could not confirm %s: %s", batch, exc)
        return False


def spread(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)
    return {
        "p50": round(statistics.median(ordered), 1),
        "p95": round(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))], 1),
        "max": round(ordered[-1], 1),
    }


def machine() -> str:
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = " ".join(line.split(":", 1)[1].split())
                break
    return f"{model}, {os.cpu_count()} cores"
