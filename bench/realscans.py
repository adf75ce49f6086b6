"""Real scans: ``scanstation process`` scored on real paper against a truth file.

    .venv/bin/python -m bench.realscans [DIR] [--out FILE] [--jobs N]

DIR (default ``../shared/realscans-dev`` beside the repository) holds page
images and a ``truth.json``: ``documents[]`` with ``id``, ``files`` (the page
images in order), ``fields`` (transcribed by eye), ``handwritten`` (the fields
written by hand on the page) and ``kind``, and ``conventions``, which say how
values compare.

Each document is one batch of its own through the offline pipeline
(:func:`station.pipeline.offline.process_inputs` with OCR, as ``scanstation
process`` runs it, default configuration, in a temporary folder): pages without
a registration label all join one document, so documents run together would
merge. The first document the pipeline makes from a document's files is scored.

Each field of its ``metadata`` against the truth, after the conventions (Unicode
NFC, lines joined with single spaces; case and spelling as transcribed):

- ``exact``: the same value (or both absent);
- ``empty``: the station left it ``null`` where the truth has a value;
- ``wrong``: the station gave a value that is not the truth's.

The six header fields (TypeName, CodeNumber, CodeNotation, IssuedDate,
OrganName, Subject) are "printed" unless the document lists them as
``handwritten``; handwritten ones are counted apart (a reader should leave them
empty: a wrong value is worse than none). The signer, "Nơi nhận" and "Kính gửi" fields
are scored as "other" (the station's SignerCompetence and SignerPosition
together stand for the truth's SignerPosition, its Addressees for KinhGui);
fields of the truth the station does not read (the superior agency) are
counted as "not read".
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any, Literal

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import write  # noqa: E402

DEFAULT_DIR = ROOT.parent / "shared" / "realscans-dev"
HEADER = ("TypeName", "CodeNumber", "CodeNotation", "IssuedDate", "OrganName", "Subject")
#: truth keys that are another form of a scored field, not a field of their own
VARIANTS = frozenset({"SubjectAsPrinted"})
OUTCOMES = ("exact", "empty", "wrong")

Outcome = Literal["exact", "empty", "wrong"]


def normalise(value: Any) -> Any:
    """A value as the conventions compare it: text in Unicode NFC with its
    lines joined by single spaces (no other folding: case, accents and spelling
    count); a list item by item; an empty text or list is ``None``."""
    if value is None:
        return None
    if isinstance(value, list):
        items = [v for v in (normalise(item) for item in value) if v is not None]
        return items or None
    if isinstance(value, str):
        text = " ".join(unicodedata.normalize("NFC", value).split())
        return text or None
    return value


def compare(found: Any, truth: Any) -> Outcome:
    """One field: ``exact``, ``empty`` (nothing found where the truth has a
    value) or ``wrong`` (a value found that is not the truth's)."""
    found, truth = normalise(found), normalise(truth)
    if found == truth:
        return "exact"
    return "empty" if found is None else "wrong"


#: truth names the station spells otherwise: its keys, joined with spaces
ALIASES = {
    "SignerPosition": ("SignerCompetence", "SignerPosition"),  # as the block prints them
    "KinhGui": ("Addressees",),
}


def station_value(meta: dict[str, Any], name: str) -> Any:
    """The station's value for a truth field: its own key, or the keys it is split into."""
    keys = ALIASES.get(name, (name,))
    if len(keys) == 1 or meta.get(keys[-1]) is None:
        return meta.get(keys[-1])  # without its main part the value is not there
    return " ".join(meta[key] for key in keys if meta.get(key))


def score_document(doc: dict[str, Any], metadata: dict[str, Any] | None) -> dict[str, Any]:
    """A truth document against the ``metadata`` the station made of it (``None``:
    the pipeline made no document). The station's keys are those of ``metadata``
    (every key is present, ``null`` when unknown: docs/batch.md)."""
    from station.pipeline.batch import empty_metadata

    meta = metadata if metadata is not None else empty_metadata()
    truth = doc["fields"]
    handwritten = set(doc.get("handwritten") or ())
    fields: dict[str, dict[str, Any]] = {}
    not_read: list[str] = []
    for name, value in truth.items():
        if name in VARIANTS:
            continue
        if name in HEADER:
            group = "handwritten" if name in handwritten else "printed"
        elif name in meta or name in ALIASES:
            group = "other"
        else:
            if normalise(value) is not None:
                not_read.append(name)
            continue
        found = station_value(meta, name)
        fields[name] = {
            "group": group,
            "outcome": compare(found, value),
            "truth": value,
            "found": found,
        }
    return {"fields": fields, "not_read": not_read}


def tally(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Counts per group and per field, and the printed header fields per kind."""

    def counts(outcomes: list[str]) -> dict[str, Any]:
        c = Counter(outcomes)
        total = len(outcomes)
        return {
            **{o: c[o] for o in OUTCOMES},
            "total": total,
            **{f"{o}_pct": round(100 * c[o] / total, 1) if total else None for o in OUTCOMES},
        }

    groups: dict[str, list[str]] = {"printed": [], "handwritten": [], "other": []}
    per_field: dict[str, dict[str, list[str]]] = {}
    kinds: dict[str, list[str]] = {}
    not_read: Counter[str] = Counter()
    for row in rows:
        for name, f in row["fields"].items():
            groups[f["group"]].append(f["outcome"])
            per_field.setdefault(name, {}).setdefault(f["group"], []).append(f["outcome"])
            if f["group"] == "printed":
                kinds.setdefault(row["kind"], []).append(f["outcome"])
        not_read.update(row["not_read"])
    return {
        **{g: counts(o) for g, o in groups.items() if o or g != "other"},
        "printed_by_kind": {k: counts(o) for k, o in sorted(kinds.items())},
        "per_field": {
            name: {g: counts(o) for g, o in by_group.items()}
            for name, by_group in sorted(per_field.items(), key=lambda x: _field_order(x[0]))
        },
        "not_read": {"total": sum(not_read.values()), "per_field": dict(sorted(not_read.items()))},
    }


def _field_order(name: str) -> tuple[int, str]:
    return (HEADER.index(name), "") if name in HEADER else (len(HEADER), name)


def run_document(folder: Path, doc: dict[str, Any], jobs: int | None) -> dict[str, Any]:
    """The offline pipeline with OCR on one document's files, alone in its batch."""
    from station.config import Config
    from station.pipeline.offline import process_inputs

    files = [folder / f for f in doc["files"]]
    with tempfile.TemporaryDirectory(prefix="realscans-") as tmp:
        work = Path(tmp)
        config = Config.model_validate({"station": {"data_dir": str(work / "data")}})
        start = time.perf_counter()
        batch = process_inputs(files, work / "out", config, jobs=jobs, ocr=True)
        seconds = time.perf_counter() - start
    documents = batch["documents"]
    metadata = documents[0]["metadata"] if documents else None
    row = score_document(doc, metadata)
    return {
        "id": doc["id"],
        "kind": doc.get("kind"),
        "pages": len(files),
        "seconds": round(seconds, 2),
        "documents_made": len(documents),
        **row,
    }


def score(folder: Path, jobs: int | None = None, *, quiet: bool = False) -> dict[str, Any]:
    """Every document of ``folder/truth.json``: the rows, the totals, the time."""
    truth = json.loads((folder / "truth.json").read_text(encoding="utf-8"))
    rows = []
    for doc in truth["documents"]:
        row = run_document(folder, doc, jobs)
        rows.append(row)
        if not quiet:
            marks = " ".join(f"{n}:{f['outcome']}" for n, f in row["fields"].items())
            print(f"  {row['id']}  {row['seconds']} s  {marks}", file=sys.stderr, flush=True)
    pages = sum(r["pages"] for r in rows)
    seconds = sum(r["seconds"] for r in rows)
    return {
        "folder": str(folder),
        "documents": len(rows),
        "pages": pages,
        "seconds_per_page": round(seconds / pages, 2) if pages else None,
        **tally(rows),
        "rows": rows,
    }


def summary(result: dict[str, Any]) -> str:
    """The figures in a few lines of text."""
    p, h = result["printed"], result["handwritten"]
    lines = [
        f"{result['documents']} documents, {result['pages']} pages, "
        f"{result['seconds_per_page']} s a page",
        f"printed header fields: {p['exact']} exact, {p['empty']} empty, {p['wrong']} wrong "
        f"of {p['total']} ({p['exact_pct']} % / {p['empty_pct']} % / {p['wrong_pct']} %)",
        f"handwritten fields: {h['exact']} exact, {h['empty']} empty, {h['wrong']} wrong "
        f"of {h['total']}",
        f"not read by the station: {result['not_read']['total']} "
        f"({', '.join(f'{k} {v}' for k, v in result['not_read']['per_field'].items())})",
        "per field (exact / empty / wrong):",
    ]
    for name, groups in result["per_field"].items():
        parts = [f"{g} {c['exact']} / {c['empty']} / {c['wrong']}" for g, c in groups.items()]
        lines.append(f"  {name:<13} " + "; ".join(parts))
    for kind, c in result["printed_by_kind"].items():
        lines.append(f"printed, {kind}: {c['exact']} / {c['empty']} / {c['wrong']} of {c['total']}")
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
    parser.add_argument("--out", default=str(ROOT / "bench" / "results" / "realscans.json"))
    parser.add_argument("--jobs", type=int, default=None, help="cores (default: all)")
    args = parser.parse_args()
    if not (args.folder / "truth.json").is_file():
        parser.error(f"no truth.json in {args.folder}")
    result = score(args.folder.resolve(), args.jobs)
    write("realscans", args.out, result)
    print(summary(result))


if __name__ == "__main__":
    main()
