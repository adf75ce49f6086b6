"""Page captured -> thumbnail in the browser, while OCR is busy on an earlier batch.

python -m bench.thumbnails [--pace 0.5] [--out bench/results/thumbnails.json]

The station runs as in production (capture thread, cleaning worker, OCR
worker, the review UI) with the virtual scanner feeding the generated sample
stack at ``pace`` seconds a page. The first batch is scanned and, as soon as its
capture ends and OCR starts on it, a second batch is scanned with Debian's
chromium on the scan screen. For every page of the second batch the delay is
from the moment the page was stored (the store's ``created_at``) to the moment
the browser had its thumbnail (Resource Timing: ``timeOrigin + responseEnd``),
on the same clock. Target (docs/quality.md): p95 at most 1 s.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any

from bench.common import percentile, write
from tests.helpers.broker import free_port
from tests.helpers.browser import chromium
from tests.helpers.cli import ROOT


def _wait(check: Any, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("the station did not get there in time")
        time.sleep(0.05)


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp()


def measure(folder: Path, pace: float) -> dict[str, Any]:
    from station.appliance.station import Station
    from station.config import Config
    from station.config.remote import Settings
    from station.demo.samples import write_sample_batch
    from station.store import Store
    from station.ui import Services, WebSettings, create_app
    from station.ui.app import WebServer

    samples = folder / "samples"
    write_sample_batch(samples, dpi=200)
    config = Config.model_validate(
        {
            "station": {"id": "bench", "data_dir": str(folder / "data")},
            "scanner": {"device": f"folder:{samples}?pace={pace}"},
            "pipeline": {"auto_confirm_seconds": 0},
        }
    )
    store = Store(config.station.data_dir, owner=True)
    station = Station(Settings(config), store, connect=False)
    web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=config.station.data_dir)
    server = WebServer(create_app(web, Services(station=station)), web)
    station.start()
    server.start()
    try:
        station.scan()
        _wait(lambda: station.last_batch is not None, 30)
        first = station.last_batch
        assert first is not None
        _wait(lambda: store.batch(first).state == "processing", 120)
        with chromium() as browser:
            page = browser.new_page(viewport={"width": 1280, "height": 800})
            page.goto(f"{server.url}/")
            started = time.monotonic()
            station.scan()
            _wait(lambda: station.last_batch != first, 30)
            second = station.last_batch
            assert second is not None
            page.wait_for_url("**/batch/**", timeout=30_000)
            _wait(lambda: store.batch(second).state not in ("capturing",), 120)
            ocr_busy_at_end = store.batch(first).state == "processing"
            time.sleep(1.5)
            loaded = page.evaluate(
                """() => performance.getEntriesByType("resource")
                    .filter(e => e.name.includes("/work/") && e.name.includes("/raw-"))
                    .map(e => [e.name.split("/raw-")[1].split(".")[0],
                               performance.timeOrigin + e.responseEnd])"""
            )
            capture_s = time.monotonic() - started
        _wait(lambda: store.batch(first).state == "review", 300)
        ocr_done = _epoch(store.batch(first).updated_at)
        shown = {int(page_id): at / 1000 for page_id, at in loaded}
        pages = store.pages(second)
        delays, busy = [], []
        for p in pages:
            if p.id in shown:
                delays.append(shown[p.id] - _epoch(p.created_at))
                if _epoch(p.created_at) < ocr_done:
                    busy.append(delays[-1])
        missing = [p.id for p in pages if p.id not in shown]
        return {
            "pace_s": pace,
            "pages": len(pages),
            "shown": len(delays),
            "missing": missing,
            "ocr_busy_when_capture_ended": ocr_busy_at_end,
            "capture_s": round(capture_s, 1),
            "pages_while_ocr_busy": len(busy),
            "delay_while_ocr_busy_s": {
                "p50": round(percentile(busy, 50), 3),
                "p95": round(percentile(busy, 95), 3),
                "max": round(max(busy), 3),
            },
            "delay_s": {
                "p50": round(percentile(delays, 50), 3),
                "p95": round(percentile(delays, 95), 3),
                "max": round(max(delays), 3),
                "all": [round(d, 3) for d in delays],
            },
            "target_p95_s": 1.0,
        }
    finally:
        server.stop()
        station.stop()
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pace", type=float, default=0.5, help="seconds between pages")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "thumbnails.json"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-thumbnails-") as tmp:
        figures = measure(Path(tmp), args.pace)
    write("thumbnails", args.out, figures)


if __name__ == "__main__":
    main()
