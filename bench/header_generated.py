"""The header reader on the generated suite: ``scanstation process`` scored
field by field, printed and handwritten apart, and per trait of real paper.

    .venv/bin/python -m bench.header_generated [--pages N] [--seed S] [--jobs N] [--out FILE]

The suite is ``tests/docgen.py`` ``generate_suite(N, seed)`` (default 64 page
sides, seed 77: the pages of ``tests/test_fields.py``) with the traits of real
paper (``real_paper``: numbers and days written by hand, received stamps,
e-signature boxes, urgency stamps, routing notes, the plain motto of old forms,
subjects over several lines, black-and-white and 100 dpi scans) and agencies of
both eras. All pages go through the offline pipeline in one batch with OCR
(:func:`station.pipeline.offline.process_inputs`, as ``scanstation process``
runs it); the registration labels split the documents.

Each of the nine header fields of a document (``HEADER_FIELDS``) against its
truth, as ``bench/realscans.py`` scores real scans: **exact**, **empty** (null
where the truth has a value) or **wrong**. The number and the day of a
document whose are written by hand have no value in the truth (the clerk fills
them in): left empty they are exact, filled they are wrong. Documents whose
header the scan itself cut off (a sheet skewed on a white backing as large as
the paper) are left out, and so are documents kept apart as possibly secret
(no metadata is written for them: docs/batch.md#secret-documents). The
printed fields are also counted per trait and per render; seconds per page are
the pipeline's wall time over the pages.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write  # noqa: E402
from bench.realscans import OUTCOMES, score_document, tally  # noqa: E402


def _counts(outcomes: list[str]) -> dict[str, Any]:
    c = Counter(outcomes)
    total = len(outcomes)
    return {
        **{o: c[o] for o in OUTCOMES},
        "total": total,
        "exact_pct": round(100 * c["exact"] / total, 1) if total else None,
    }


def score(pages: int, seed: int, jobs: int | None) -> dict[str, Any]:
    from station.config import Config
    from station.pipeline.offline import process_inputs
    from station.records.vocabulary import HEADER_FIELDS
    from tests.docgen import generate_suite

    start = time.perf_counter()
    suite = generate_suite(pages, seed=seed)
    generated = time.perf_counter() - start
    truth: dict[str, dict[str, Any]] = {}
    header_clipped: set[str] = set()
    with tempfile.TemporaryDirectory(prefix="header-generated-") as tmp:
        folder = Path(tmp)
        inputs = []
        for number, page in enumerate(suite):
            registration = f"DEN-2024-{page.truth.doc_index + 1:06d}"
            truth[registration] = page.truth.fields
            if page.truth.clipped and page.truth.kind == "first":
                header_clipped.add(registration)
            path = folder / f"scan_{number:04d}{page.suffix}"
            path.write_bytes(page.jpeg)
            inputs.append(path)
        config = Config.model_validate({"station": {"data_dir": str(folder / "data")}})
        start = time.perf_counter()
        batch = process_inputs(inputs, folder / "out", config, jobs=jobs, ocr=True)
        seconds = time.perf_counter() - start
    rows = []
    per_trait: dict[str, dict[str, list[str]]] = {}
    secret = 0  # kept apart as possibly secret: no metadata (docs/batch.md)
    for doc in batch["documents"]:
        if doc.get("secret"):
            secret += 1
            continue
        registration = doc["registration"]
        if registration not in truth or registration in header_clipped:
            continue
        fields = truth[registration]
        traits = list(fields["traits"])
        render = next((t for t in traits if t in ("bilevel", "100dpi")), "grey")
        expected = {
            "id": registration,
            "kind": render,
            "fields": {name: fields[name] for name in HEADER_FIELDS},
            "handwritten": fields["handwritten"],
        }
        row = score_document(expected, doc["metadata"])
        rows.append({"id": registration, "kind": render, "traits": traits, **row})
        for trait in [*traits, "all"]:
            for f in row["fields"].values():
                group = per_trait.setdefault(trait, {})
                group.setdefault(f["group"], []).append(f["outcome"])
    totals = tally(rows)
    return {
        "suite": f"tests/docgen.py generate_suite({pages}, seed={seed})",
        "page_sides": len(suite),
        "documents": len({p.truth.doc_index for p in suite}),
        "documents_scored": len(rows),
        "documents_header_cut_off": len(header_clipped),
        "documents_kept_apart_as_secret": secret,
        "generation_s": round(generated, 1),
        "process_s": round(seconds, 1),
        "seconds_per_page": round(seconds / len(suite), 2),
        "all_header_fields": _counts([f["outcome"] for r in rows for f in r["fields"].values()]),
        **totals,
        "per_trait": {
            trait: {group: _counts(o) for group, o in sorted(groups.items())}
            for trait, groups in sorted(per_trait.items())
        },
        "rows": [
            {
                "id": r["id"],
                "traits": r["traits"],
                "misses": {
                    name: {"outcome": f["outcome"], "truth": f["truth"], "found": f["found"]}
                    for name, f in r["fields"].items()
                    if f["outcome"] != "exact"
                },
            }
            for r in rows
        ],
    }


def summary(result: dict[str, Any]) -> str:
    a, p, h = result["all_header_fields"], result["printed"], result["handwritten"]
    lines = [
        f"{result['page_sides']} page sides, {result['documents_scored']} documents scored "
        f"({result['documents_header_cut_off']} with the header cut off by the scan, "
        f"{result['documents_kept_apart_as_secret']} kept apart as possibly secret), "
        f"{result['seconds_per_page']} s a page",
        f"all nine header fields: {a['exact']} of {a['total']} exact ({a['exact_pct']} %), "
        f"{a['empty']} empty, {a['wrong']} wrong",
        f"printed (six): {p['exact']} exact, {p['empty']} empty, {p['wrong']} wrong "
        f"of {p['total']}",
        f"written by hand: {h['exact']} left empty, {h['wrong']} filled (wrong) of {h['total']}",
        "per trait (group: exact / empty / wrong of total):",
    ]
    for trait, groups in result["per_trait"].items():
        parts = [
            f"{g} {c['exact']} / {c['empty']} / {c['wrong']} of {c['total']}"
            for g, c in groups.items()
        ]
        lines.append(f"  {trait:<18} " + "; ".join(parts))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=64)
    parser.add_argument("--seed", type=int, default=77)
    parser.add_argument("--jobs", type=int, default=None, help="cores (default: all)")
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "header_generated.json"))
    args = parser.parse_args()
    result = score(args.pages, args.seed, args.jobs)
    write("header_generated", args.out, result)
    print(summary(result))


if __name__ == "__main__":
    main()
