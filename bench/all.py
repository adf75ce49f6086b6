"""Every benchmark, then one JSON and the summary table of docs/benchmarks.md.

python -m bench.all [--only NAME ...] [--summarize]

Runs each benchmark module in its own process (they start brokers, browsers
and worker pools), gathers ``bench/results/*.json`` into
``bench/results/all.json`` with the machine and date, and rewrites the table
between the SUMMARY markers of docs/benchmarks.md: each figure beside its
target (docs/quality.md) and whether it is met. ``--summarize`` only gathers what the
last runs wrote.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from bench.common import machine
from bench.realscans import DEFAULT_DIR as REALSCANS
from tests.helpers.cli import ROOT

RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
ORDER = [
    "capture", "imaging", "barcodes", "ocr", "header_generated", "realscans", "uplink",
    "thumbnails", "memory", "fleet",
]  # fmt: skip
BEGIN, END = "<!-- SUMMARY: written by python -m bench.all -->", "<!-- /SUMMARY -->"

Row = tuple[str, str, str, bool | None]  # what, figure, target, met


def _capture(r: dict[str, Any]) -> list[Row]:
    jpeg = next(x for x in r["results"] if x["format"] == "jpeg" and x["dpi"] == 300)
    return [
        ("capture: encode + store one 300 dpi side", f"{jpeg['total_median_s']} s",
         "well under 0.5 s (60 ppm duplex)", jpeg["total_median_s"] < 0.5),
    ]  # fmt: skip


def _imaging(r: dict[str, Any]) -> list[Row]:
    s = r["station"]
    return [
        ("page preprocessing, 200 dpi, one core (median)", f"{s['median_s']} s", "≤ 0.25 s",
         s["median_s"] <= 0.25),
        ("skew error mean / max", f"{s['skew_mean_error_deg']}° / {s['skew_max_error_deg']}°",
         "≤ 0.1° / ≤ 0.5°", s["skew_mean_error_deg"] <= 0.1 and s["skew_max_error_deg"] <= 0.5),
        ("orientation and blank pages wrong", f"{s['orientation_wrong']} / {s['blank_wrong']}",
         "0 / 0", s["orientation_wrong"] == 0 and s["blank_wrong"] == 0),
    ]  # fmt: skip


def _barcodes(r: dict[str, Any]) -> list[Row]:
    read, total = (int(v) for v in str(r["labels_read"]).split(" of "))
    return [
        ("registration labels read (generated stack)", r["labels_read"], "100 %", read == total),
        ("barcode step p95", f"{r['barcode_step']['p95_s']} s", "inside the 0.25 s page budget",
         None),
    ]  # fmt: skip


def _ocr(r: dict[str, Any]) -> list[Row]:
    s, b = r["side_by_side"], r["batch"]
    return [
        ("OCR stage / bare tesseract, same pages", f"{s['ratio']}×", "≤ 1.15×", s["ratio"] <= 1.15),
        ("OCR batch throughput, 2 cores", f"{b['pages_per_minute']} pages/min", "", None),
    ]  # fmt: skip


def _header_generated(r: dict[str, Any]) -> list[Row]:
    a, h = r["all_header_fields"], r["handwritten"]
    return [
        ("generated suite (real-paper traits): header fields exact", f"{a['exact_pct']} %",
         "≥ 95 %", a["exact_pct"] >= 95),
        ("generated suite: fields written by hand filled in", f"{h['wrong']} of {h['total']}",
         "0", h["wrong"] == 0),
    ]  # fmt: skip


def _realscans(r: dict[str, Any]) -> list[Row]:
    p, h = r["printed"], r["handwritten"]
    return [
        ("real scans: printed header fields exact / wrong",
         f"{p['exact_pct']} % / {p['wrong_pct']} %", "≥ 90 % / ≤ 2 %",
         p["exact_pct"] >= 90 and p["wrong_pct"] <= 2),
        ("real scans: handwritten fields wrong", f"{h['wrong']} of {h['total']}", "0",
         h["wrong"] == 0),
        ("real scans: process with OCR, per page", f"{r['seconds_per_page']} s", "", None),
    ]  # fmt: skip


def _uplink(r: dict[str, Any]) -> list[Row]:
    return [
        ("upload of a 20 MB document to fin", f"{r['large']['mb_per_s_to_fin']} MB/s",
         "≥ 30 MB/s", r["large"]["mb_per_s_to_fin"] >= 30),
        ("200 documents of 40 KB to their receipts", f"{r['small']['documents_per_s']} docs/s",
         "", None),
    ]  # fmt: skip


def _thumbnails(r: dict[str, Any]) -> list[Row]:
    busy = r["delay_while_ocr_busy_s"]
    return [
        ("page captured → thumbnail in the browser, OCR busy (p95)", f"{busy['p95']} s", "≤ 1 s",
         busy["p95"] <= 1.0),
    ]  # fmt: skip


def _memory(r: dict[str, Any]) -> list[Row]:
    return [
        (f"station process RSS, {r['sheets']}-sheet duplex batch at {r['dpi']} dpi (peak)",
         f"{r['station_rss_peak_mb']} MB", "≤ 300 MB", r["station_rss_peak_mb"] <= 300),
    ]  # fmt: skip


def _fleet(r: dict[str, Any]) -> list[Row]:
    live, page = r["live"], r["live"]["pages"]["stations_page"]
    found: list[Row] = [
        (f"fleet: stations page with {live['stations']} stations (median)",
         f"{page['median_s']} s", "< 1 s", page["median_s"] < 1.0),
        (f"fleet collector, {live['stations']} stations every {live['interval_s']:g} s",
         f"{live['collector']['cpu_share_of_one_core'] * 100:.1f} % of a core, "
         f"{live['collector']['VmRSS']} MB", "", None),
    ]  # fmt: skip
    if "history" in r:
        size = r["history"]["bytes_per_station_year"]
        found.append(("fleet trends: one station's year", f"{size / 1000:.0f} KB", "", None))
    return found


ROWS: dict[str, Callable[[dict[str, Any]], list[Row]]] = {
    "capture": _capture,
    "imaging": _imaging,
    "barcodes": _barcodes,
    "ocr": _ocr,
    "header_generated": _header_generated,
    "realscans": _realscans,
    "uplink": _uplink,
    "thumbnails": _thumbnails,
    "memory": _memory,
    "fleet": _fleet,
}


def summarize() -> dict[str, Any]:
    results = {
        name: json.loads((RESULTS / f"{name}.json").read_text(encoding="utf-8"))
        for name in ORDER
        if (RESULTS / f"{name}.json").exists()
    }
    combined = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine(),
        "benchmarks": results,
    }
    (RESULTS / "all.json").write_text(
        json.dumps(combined, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    lines = [
        BEGIN,
        "",
        "| figure | result | target | met | measured |",
        "|---|---:|---|:---:|---|",
    ]
    for name, result in results.items():
        for what, figure, target, met in ROWS[name](result):
            mark = "–" if met is None else ("yes" if met else "**no**")
            lines.append(f"| {what} | {figure} | {target} | {mark} | {result['date'][:10]} |")
    lines += ["", f"Machine: {combined['machine']}.", "", END]
    text = DOC.read_text(encoding="utf-8")
    if BEGIN in text:
        head, rest = text.split(BEGIN, 1)
        text = head + "\n".join(lines) + rest.split(END, 1)[1]
    else:
        title, _, body = text.partition("\n")
        text = f"{title}\n\n" + "\n".join(lines) + "\n" + body
    DOC.write_text(text, encoding="utf-8")
    return combined


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", choices=ORDER, help="run only these")
    parser.add_argument("--summarize", action="store_true", help="gather the last results only")
    args = parser.parse_args()
    if not args.summarize:
        for name in args.only or ORDER:
            if name == "realscans" and not (REALSCANS / "truth.json").is_file():
                print(f"== bench.realscans skipped: no {REALSCANS / 'truth.json'}", flush=True)
                continue
            print(f"== bench.{name}", flush=True)
            subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, check=True)
    combined = summarize()
    print(f"{len(combined['benchmarks'])} benchmarks -> {RESULTS / 'all.json'}, {DOC}")


if __name__ == "__main__":
    main()
