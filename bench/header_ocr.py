"""Header OCR: which reader reads the header band of real documents best.

    .venv/bin/python -m bench.header_ocr [DIR] [--out FILE] [--quick]

DIR (default ``../shared/realscans-dev`` beside the repository) holds page
images and a ``truth.json`` (see :mod:`bench.realscans`). Each candidate reads
the header band (the top 40 % of page 1) of every document; its reading is
scored against the printed header fields (:mod:`bench.header_score`):

- a field is a hit when its text occurs in the reading (lines joined with
  spaces, white space collapsed, NFC; TypeName and OrganName without case;
  IssuedDate as "ngày D tháng M năm YYYY"; CodeNumber followed by "/"). Fields
  written by hand, and the type name of a công văn (never printed), are left out;
- the Subject's character error rate against the best matching substring;
- syllables of TypeName, OrganName and Subject aligned with difflib: wrong ones,
  and of those the tone-mark errors (the same letters once all diacritics are
  taken off);
- CPU and wall seconds per band on one core (the process is pinned to one CPU,
  ``OMP_THREAD_LIMIT=1``), and the peak resident memory of the reader.

Candidates, in order: a grid of Tesseract ``vie`` settings (scale ×1/×1.5/×2
cubic; grey, Otsu or Sauvola; page segmentation 6, 4 and 3); then, from the
grid's best by the totals over all documents, ``vie+eng``, ``Vietnamese`` (the
script model), red/blue ink dropped before binarising, and votes across
readings; then engines from PyPI whose models ship in the wheel
(:mod:`bench.header_engines`), each in a process of its own, reported as "not
installed" when their package is missing.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import header_score as hs  # noqa: E402
from bench.common import write  # noqa: E402
from bench.header_engines import ENGINES  # noqa: E402
from bench.header_score import BAND, DPI, header_band  # noqa: E402
from station.ocr.tesseract import languages  # noqa: E402

DEFAULT_DIR = ROOT.parent / "shared" / "realscans-dev"
SCALES = (1.0, 1.5, 2.0)
BINARISE = ("grey", "otsu", "sauvola")
PSMS = (6, 4, 3)

Image = NDArray[np.uint8]


@dataclass(frozen=True)
class Tess:
    """One Tesseract configuration."""

    lang: str = "vie"
    scale: float = 1.0
    binarise: str = "grey"
    psm: int = 6
    dropout: bool = False

    @property
    def name(self) -> str:
        drop = " dropout" if self.dropout else ""
        return f"tesseract {self.lang} x{self.scale:g} {self.binarise} psm{self.psm}{drop}"


@dataclass
class Reading:
    text: str
    cpu: float  # seconds of CPU: the reader's and this process's preparation
    wall: float
    rss_kib: int = 0


def drop_colour(bgr: Image) -> Image:
    """Red and blue ink (seals, signature boxes, received stamps) made white:
    pixels of red or blue hue whose chroma (max - min of B, G, R) is large.
    Chroma, not HSV saturation: the dark, noisy edges of black print in a JPEG
    have a high saturation but a small chroma."""
    hsv = cv2.cvtColor(bgr, cv2.COLOR_BGR2HSV)
    hue = hsv[..., 0]
    chroma = bgr.max(axis=2).astype(np.int16) - bgr.min(axis=2).astype(np.int16)
    red = (hue <= 12) | (hue >= 160)
    blue = (hue >= 90) & (hue <= 135)
    out = bgr.copy()
    out[(chroma > 60) & (red | blue)] = 255
    return out


def sauvola(grey: Image, window: int, k: float = 0.2, r: float = 128.0) -> Image:
    """Sauvola's local threshold: T = m (1 + k (s / r - 1)) over a square window."""
    g = grey.astype(np.float32)
    mean = cv2.boxFilter(g, -1, (window, window), borderType=cv2.BORDER_REPLICATE)
    square = cv2.boxFilter(g * g, -1, (window, window), borderType=cv2.BORDER_REPLICATE)
    std = np.sqrt(np.maximum(square - mean * mean, 0))
    threshold = mean * (1 + k * (std / r - 1))
    return np.where(g > threshold, 255, 0).astype(np.uint8)


def prepare(bgr: Image, cfg: Tess) -> Image:
    """The band as Tesseract gets it for ``cfg``."""
    if cfg.dropout:
        bgr = drop_colour(bgr)
    grey: Image = np.asarray(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY), dtype=np.uint8)
    if cfg.scale != 1:
        size = (round(grey.shape[1] * cfg.scale), round(grey.shape[0] * cfg.scale))
        grey = np.asarray(cv2.resize(grey, size, interpolation=cv2.INTER_CUBIC), dtype=np.uint8)
    if cfg.binarise == "otsu":
        _, binary = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
        grey = np.asarray(binary, dtype=np.uint8)
    elif cfg.binarise == "sauvola":
        window = int(31 * cfg.scale) | 1  # about a letter's height at 200 dpi
        grey = sauvola(grey, window)
    return grey


def read_tesseract(bgr: Image, cfg: Tess) -> Reading:
    """One band through ``tesseract`` on one thread. Its CPU time and peak
    memory come from GNU ``time`` where installed (a child forked from this
    process would count this process's memory as its own), else ``wait4``."""
    start, cpu_start = time.perf_counter(), time.process_time()
    image = prepare(bgr, cfg)
    with tempfile.TemporaryDirectory(prefix="header-ocr-") as tmp:
        png, out, usage_file = Path(tmp) / "band.png", Path(tmp) / "out", Path(tmp) / "usage"
        cv2.imwrite(str(png), image)
        args = [str(png), str(out), "-l", cfg.lang, "--psm", str(cfg.psm)]
        args += ["--dpi", str(round(DPI * cfg.scale))]
        timer = ["/usr/bin/time", "-f", "%U %S %M", "-o", str(usage_file)]
        cmd = [*(timer if Path(timer[0]).is_file() else []), "tesseract", *args]
        env = {**os.environ, "OMP_THREAD_LIMIT": "1"}
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        txt = out.with_suffix(".txt")
        text = txt.read_text(encoding="utf-8") if txt.is_file() else ""
        child, rss = usage.ru_utime + usage.ru_stime, usage.ru_maxrss
        if usage_file.is_file():
            user, system, kib = usage_file.read_text().split()[-3:]
            child, rss = float(user) + float(system), int(kib)
    cpu = time.process_time() - cpu_start + child
    return Reading(text, cpu, time.perf_counter() - start, rss)


def run_engine(name: str, folder: Path, docs: list[dict[str, Any]]) -> dict[str, Any]:
    """A PyPI engine in a process of its own (:mod:`bench.header_engines`):
    its readings and peak memory, or the reason it did not run."""
    with tempfile.TemporaryDirectory(prefix="header-engine-") as tmp:
        out = Path(tmp) / "out.json"
        cmd = [sys.executable, "-m", "bench.header_engines", name, str(folder), str(out)]
        env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(ROOT)}
        code = subprocess.run(cmd, env=env, cwd=ROOT, check=False).returncode
        if not out.is_file():
            return {"status": f"failed (exit {code})"}
        result: dict[str, Any] = json.loads(out.read_text(encoding="utf-8"))
    return result


def score(
    name: str,
    readings: dict[str, Reading],
    docs: list[dict[str, Any]],
    lexicon: frozenset[str] | None,
    source: str,
) -> dict[str, Any]:
    """Totals of one candidate over all documents, and its rows."""
    hits: dict[str, list[bool]] = {f: [] for f in hs.HEADER}
    cers: list[float] = []
    sylls = hs.Syllables(wrong_read=[])
    rows = []
    for doc in docs:
        reading = readings[doc["id"]]
        scored = hs.score_text(reading.text, doc["fields"], set(doc.get("handwritten") or ()))
        for f, hit in scored["hits"].items():
            hits[f].append(hit)
        if scored["subject_cer"] is not None:
            cers.append(scored["subject_cer"])
        for s in scored["syllables"].values():
            sylls.add(s)
        rows.append(
            {
                "id": doc["id"],
                "hits": scored["hits"],
                "subject_cer": _round(scored["subject_cer"]),
                "cpu_s": round(reading.cpu, 3),
            }
        )
    n = len(docs)
    result: dict[str, Any] = {
        "candidate": name,
        "source": source,
        "hits": {f: f"{sum(h)}/{len(h)}" for f, h in hits.items()},
        "hits_total": sum(sum(h) for h in hits.values()),
        "fields_total": sum(len(h) for h in hits.values()),
        "subject_cer_mean": _round(sum(cers) / len(cers)) if cers else None,
        "subject_cer_median": _round(sorted(cers)[len(cers) // 2]) if cers else None,
        "syllables": {
            "total": sylls.total,
            "right": sylls.right,
            "wrong": sylls.wrong,
            "tone_mark": sylls.tone,
            "missing": sylls.missing,
        },
        "cpu_s_per_band": round(sum(r.cpu for r in readings.values()) / n, 3),
        "wall_s_per_band": round(sum(r.wall for r in readings.values()) / n, 3),
        "peak_rss_mib": round(max(r.rss_kib for r in readings.values()) / 1024, 1),
        "rows": rows,
    }
    if lexicon is not None:
        result["wrong_syllables_in_hunspell"] = hs.known_share(sylls.wrong_read or [], lexicon)
    return result


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def rank(result: dict[str, Any]) -> tuple[int, float, float]:
    """Best first: more hits, then a lower Subject error rate, then less CPU."""
    cer = result["subject_cer_mean"]
    return (-result["hits_total"], 1.0 if cer is None else cer, result["cpu_s_per_band"])


def compare(folder: Path, *, quick: bool = False) -> dict[str, Any]:
    """Every candidate on every document of ``folder/truth.json``."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    docs = truth["documents"]
    bands = {d["id"]: header_band(folder / d["files"][0]) for d in docs}
    lexicon = hs.load_lexicon()
    cache: dict[str, dict[str, Reading]] = {}
    results: dict[str, dict[str, Any]] = {}
    configs: dict[str, Tess] = {}
    others: dict[str, dict[str, Reading]] = {}  # votes' and engines' readings

    def tess(cfg: Tess) -> dict[str, Any]:
        if cfg.name not in cache:
            configs[cfg.name] = cfg
            cache[cfg.name] = {i: read_tesseract(b, cfg) for i, b in bands.items()}
            src = "Debian tesseract-ocr-script-viet" if cfg.lang == "Vietnamese" else ""
            src = src or "Debian tesseract-ocr-" + cfg.lang.replace("+", " + tesseract-ocr-")
            results[cfg.name] = score(cfg.name, cache[cfg.name], docs, lexicon, src)
            _progress(results[cfg.name])
        return results[cfg.name]

    grid = [
        Tess("vie", s, b, p)
        for p in PSMS
        for s in SCALES
        for b in BINARISE
        if not quick or (s == 1 and b == "grey")
    ]
    best = min((tess(cfg) for cfg in grid), key=rank)
    top = next(cfg for cfg in grid if cfg.name == best["candidate"])
    for cfg in (
        replace(top, lang="vie+eng"),
        Tess("vie+eng", 1.0, "grey", 3),  # about what the page text layer reads today
        replace(top, lang="Vietnamese"),
        *(replace(top, lang="Vietnamese", scale=s) for s in SCALES),
        *(replace(top, dropout=True, scale=s) for s in SCALES),
    ):
        if cfg.lang == "Vietnamese" and "Vietnamese" not in languages():
            continue  # the script model is Debian's tesseract-ocr-script-viet, not installed
        tess(cfg)

    def voted(name: str, members: list[Tess], use_lexicon: bool) -> None:
        for member in members:
            tess(member)
        texts = {
            i: hs.vote([cache[m.name][i].text for m in members], lexicon if use_lexicon else None)
            for i in bands
        }
        readings = {
            i: Reading(
                texts[i],
                sum(cache[m.name][i].cpu for m in members),
                sum(cache[m.name][i].wall for m in members),
                max(cache[m.name][i].rss_kib for m in members),
            )
            for i in bands
        }
        others[name] = readings
        members_text = " | ".join(m.name for m in members)
        results[name] = score(name, readings, docs, lexicon, f"vote of: {members_text}")
        _progress(results[name])

    by_scale = [top, *(replace(top, scale=s) for s in SCALES if s != top.scale)]
    dropped = replace(top, dropout=True)
    by_scale_dropped = [dropped, *(replace(dropped, scale=s) for s in SCALES if s != top.scale)]
    ranked = sorted((r for r in results.values() if r["candidate"] in cache), key=rank)
    best5 = [configs[r["candidate"]] for r in ranked[:5]]
    for use_lexicon in (False, True):
        tag = " + hunspell ties" if use_lexicon else ""
        voted(f"vote scales x1/x1.5/x2 of best{tag}", by_scale, use_lexicon)
        voted(f"vote scales of best + dropout{tag}", by_scale_dropped, use_lexicon)
        voted(f"vote 5 best single readings{tag}", best5, use_lexicon)

    engines = {}
    for engine in ENGINES:
        outcome = run_engine(engine, folder, docs)
        engines[engine] = {k: v for k, v in outcome.items() if k != "texts"}
        if outcome.get("status") != "ok":
            print(f"  {engine}: {outcome.get('status')}", file=sys.stderr, flush=True)
            continue
        readings = {
            i: Reading(outcome["texts"][i], outcome["cpu"][i], outcome["wall"][i], 0) for i in bands
        }
        others[outcome["name"]] = readings
        results[engine] = score(outcome["name"], readings, docs, lexicon, outcome["source"])
        results[engine]["peak_rss_mib"] = round(outcome["rss_kib"] / 1024, 1)
        results[engine]["load_s"] = outcome.get("load_s")
        _progress(results[engine])

    ordered = sorted(results.values(), key=rank)
    winner = ordered[0]
    return {
        "folder": str(folder),
        "documents": len(docs),
        "band": f"top {BAND:.0%} of page 1 at {DPI} dpi",
        "cpu": f"pinned to CPU {sorted(os.sched_getaffinity(0))}",
        "best_of_grid": best["candidate"],
        "winner": winner["candidate"],
        "truth_in_hunspell": _truth_share(docs, lexicon),
        "engines": engines,
        "candidates": ordered,
        "winner_texts": {
            i: hs.normalise(r.text) for i, r in {**cache, **others}[winner["candidate"]].items()
        },
    }


def _truth_share(docs: list[dict[str, Any]], lexicon: frozenset[str] | None) -> dict[str, Any]:
    """The share of the truth's Subject and OrganName syllables in hunspell-vi."""
    if lexicon is None:
        return {"status": f"no {hs.HUNSPELL}"}
    words = [
        w
        for d in docs
        for f in ("Subject", "OrganName")
        for w in (d["fields"].get(f) or "").split()
    ]
    return hs.known_share(words, lexicon)


def _progress(result: dict[str, Any]) -> None:
    print(
        f"  {result['candidate']:<58} hits {result['hits_total']}/{result['fields_total']}"
        f"  cer {result['subject_cer_mean']}  tone {result['syllables']['tone_mark']}"
        f"  {result['cpu_s_per_band']} s",
        file=sys.stderr,
        flush=True,
    )


def table(result: dict[str, Any]) -> str:
    """The comparison as a markdown table."""
    fields = list(hs.HEADER)
    head = ["candidate", *fields, "all", "subject CER", "tone / wrong syl.", "CPU s/band", "MiB"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in result["candidates"]:
        s = r["syllables"]
        cells = [
            r["candidate"],
            *(r["hits"][f] for f in fields),
            f"{r['hits_total']}/{r['fields_total']}",
            f"{r['subject_cer_mean']}",
            f"{s['tone_mark']} / {s['wrong']}",
            f"{r['cpu_s_per_band']}",
            f"{r['peak_rss_mib']}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "folder",
        nargs="?",
        type=Path,
        default=DEFAULT_DIR,
        help=f"page images and truth.json (default {DEFAULT_DIR})",
    )
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "header_ocr.json"))
    parser.add_argument("--quick", action="store_true", help="x1 grey only in the grid")
    args = parser.parse_args()
    if not (args.folder / "truth.json").is_file():
        parser.error(f"no truth.json in {args.folder}")
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})  # one core, children too
    result = compare(args.folder.resolve(), quick=args.quick)
    write("header_ocr", args.out, result)
    print(table(result))


if __name__ == "__main__":
    main()
