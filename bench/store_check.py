"""The cost of the store's integrity check at open (``PRAGMA quick_check``).

python -m bench.store_check [--documents N] [--out FILE]

Builds a store as a station has it after N documents (default 10 000): per
document three captured pages, its review page rows, the document, the outbox
entry with an acknowledged segment, its register entry and two receipts, with
metadata of about 1 KB. Then opens it five times with the check and reports
the median time of the check alone and of the whole open, and the file's size
(docs/store.md, "A damaged store").
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import write
from station.store import Store
from station.store import check as storecheck


def fill(data: Path, documents: int) -> None:
    meta = {
        "CodeNumber": "45",
        "CodeNotation": "QĐ-UBND",
        "OrganName": "Ủy ban nhân dân tỉnh Thanh Hóa",
        "Subject": "Về việc phê duyệt kế hoạch chuyển đổi số năm 2026 " * 8,
        "SignerInfoFullName": "Nguyễn Văn A",
        "IssuedDate": "2026-11-20",
    }
    with Store(data) as store:
        store.query("PRAGMA synchronous=OFF")  # building only; the store itself keeps FULL
        with store.transaction() as db:
            for n in range(documents):
                batch = f"20261124T080000Z-{n // 10:06x}"
                doc = f"doc-{n:06d}"
                if n % 10 == 0:
                    db.execute(
                        "INSERT INTO batches VALUES (?, '2026', '2026', 'done', 'dev', 'standard',"
                        " 'ui', NULL, NULL)",
                        (batch,),
                    )
                for seq in range(1, 4):
                    db.execute(
                        "INSERT INTO pages (batch_id, seq, input, frame, side, path, sha256, size,"
                        " width, height, dpi, created_at) VALUES (?, ?, 'scan.png', 0, 'front',"
                        " ?, ?, 900000, 1654, 2339, 200, '2026')",
                        (batch, (n % 10) * 3 + seq, f"{batch}/p{seq:05d}.png", f"{n:064x}"),
                    )
                    db.execute(
                        "INSERT INTO review_pages (batch_id, position, info, clean, thumb, doc_id,"
                        " doc_seq) VALUES (?, ?, ?, 'work/c.jpg', 'work/t.jpg', ?, ?)",
                        (batch, seq, json.dumps({"skew": 0.4, "blank": False}), doc, seq),
                    )
                text = json.dumps(meta, ensure_ascii=False)
                db.execute(
                    "INSERT INTO documents (id, batch_id, registration, pdf, metadata,"
                    " duplicate_key, created_at) VALUES (?, ?, ?, 'work/d.pdf', ?, ?, '2026')",
                    (doc, batch, f"DEN-2026-{n:06d}", text, f"{n}|qđ-ubnd|x"),
                )
                db.execute(
                    "INSERT INTO outbox (doc_id, file_id, path, size, sha256, metadata,"
                    " segment_size, state, created_at, updated_at) VALUES (?, ?, 'work/d.pdf',"
                    " 2000000, ?, ?, 262144, 'received', '2026', '2026')",
                    (doc, f"f-{n:06d}", f"{n:064x}", text),
                )
                db.execute("INSERT INTO file_ids VALUES (?, ?)", (f"f-{n:06d}", doc))
                db.execute("INSERT INTO acked_segments VALUES (?, 0)", (f"f-{n:06d}",))
                db.execute(
                    "INSERT INTO register (doc_id, batch_id, registration, year, number,"
                    " arrival_date, registered_at, summary, updated_at) VALUES (?, ?, ?, 2026, ?,"
                    " '2026-11-24', '2026', ?, '2026')",
                    (doc, batch, f"DEN-2026-{n:06d}", n + 1, meta["Subject"]),
                )
                for status in ("01", "03"):
                    db.execute(
                        "INSERT INTO receipts (doc_id, status, payload, received_at)"
                        " VALUES (?, ?, '{}', '2026')",
                        (doc, status),
                    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--documents", type=int, default=10_000)
    parser.add_argument("--out", default="bench/results/store_check.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp)
        fill(data, args.documents)
        path = data / "store.sqlite3"
        checks, opens = [], []
        for _ in range(5):
            start = time.perf_counter()
            with Store(data):
                opens.append(time.perf_counter() - start)
            start = time.perf_counter()
            assert storecheck.check_file(path) == []
            checks.append(time.perf_counter() - start)
        write(
            "store_check",
            args.out,
            {
                "documents": args.documents,
                "file_mib": round(path.stat().st_size / 2**20, 1),
                "quick_check_median_s": round(statistics.median(checks), 3),
                "open_median_s": round(statistics.median(opens), 3),
            },
        )


if __name__ == "__main__":
    main()
