"""Capture commands: devices, scan, batches, demo."""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any

from station.commands import load_config, say, stop_on_signals
from station.errors import UsageError
from station.wire.payloads import RECEIPT_WORDS

#: the statuses after which the DMS sends no more by itself: hoàn thành, từ chối
FINAL_STATUSES = ("06", "02")


def cmd_devices(args: argparse.Namespace) -> int:
    from station.capture import sane as sane_wrapper

    cfg = load_config(args)
    rows: list[dict[str, str]] = [
        {"name": d.name, "vendor": d.vendor, "model": d.model, "type": d.type, "kind": "sane"}
        for d in sane_wrapper.list_devices()
    ]
    if cfg.scanner.device.startswith("folder:"):
        rows.append(
            {
                "name": cfg.scanner.device,
                "vendor": "",
                "model": "folder",
                "type": "",
                "kind": "folder",
            }
        )
    if args.json:
        say(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        say("Không tìm thấy máy quét nào / no scanners found")
        say("  kiểm tra cáp và nguồn, rồi chạy / check cable and power, then run: scanimage -L")
        return 0
    for row in rows:
        say(f"{row['name']:40} {row['vendor']} {row['model']} ({row['kind']})")
    return 0


def _progress(page: Any) -> None:
    say(
        f"  trang {page.seq:>3} / page {page.seq:>3}: {page.width}×{page.height} px, "
        f"{page.dpi} dpi, {page.side}, {page.size // 1024} KiB"
    )


def cmd_scan(args: argparse.Namespace) -> int:
    from station.capture import open_source
    from station.capture.session import capture_batch
    from station.store import Store

    cfg = load_config(args)
    device = args.device or cfg.scanner.device
    profile_name = args.profile or cfg.scanner.default_profile
    profile = cfg.profile(profile_name)
    stop = stop_on_signals()
    with Store(
        cfg.station.data_dir, min_free_bytes=cfg.station.min_free_mb * 2**20, owner=True
    ) as store:
        store.recover()
        source = open_source(device)
        try:
            say(f"Đang quét / scanning: {device}, {profile_name} ({profile.resolution} dpi)")
            result = capture_batch(
                store,
                source,
                profile_name,
                profile,
                on_page=_progress,
                stop=stop,
                resume=args.resume,
            )
        finally:
            source.close()
        say(
            f"Lô / batch {result.batch.id}: {len(result.pages)} trang / pages, {result.batch.state}"
        )
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            for page in result.pages:
                shutil.copyfile(store.page_path(page), out / Path(page.path).name)
            say(f"Đã chép vào / copied to {out}")
    return 0


def cmd_batches(args: argparse.Namespace) -> int:
    from station.store import Store

    cfg = load_config(args)
    with Store(cfg.station.data_dir) as store:
        if args.close:
            if store.batch(args.close).state != "interrupted":
                raise UsageError(
                    f"batch {args.close} is {store.batch(args.close).state}; only an "
                    "interrupted batch can be closed",
                    f"Lô {args.close} đang ở trạng thái {store.batch(args.close).state}; "
                    "chỉ đóng được lô bị gián đoạn",
                )
            batch = store.set_batch_state(args.close, "captured")
            say(f"Lô / batch {batch.id}: {batch.state}")
            return 0
        rows = [
            {
                "id": b.id,
                "state": b.state,
                "created_at": b.created_at,
                "pages": len(store.pages(b.id)),
                "device": b.device,
                "error": b.error_code,
            }
            for b in store.batches()
        ]
    if args.json:
        say(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in rows:
            say(
                f"{r['id']}  {r['state']:12} {r['pages']:>4} trang/pages  {r['created_at']}"
                + (f"  ({r['error']})" if r["error"] else "")
            )
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from station.demo.embedded import Demo

    data_dir = (
        Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="scanstation-demo-"))
    )
    say("Trạm quét — chế độ trình diễn / scan station demo")
    say(f"  thư mục dữ liệu / data dir: {data_dir}")
    stop = stop_on_signals("Đang dừng… / stopping…")
    demo = Demo(data_dir, pace_s=args.pace)
    demo.start()
    try:
        say(f"  trạm quét / station UI:        {demo.urls['station']}")
        say(f"  giám sát / fleet dashboard:    {demo.urls['fleet']}")
        say(f"  broker MQTT:                   {demo.urls['broker']}")
        say(f"  văn bản đã nhận / received in: {demo.urls['central']}")
        say(f"  hộp thư edXML / DMS inbox:     {demo.urls['dms']}")
        if args.scan_once:
            return _scan_once(demo, stop)
        say("Mở trang trạm quét và bấm Quét; Ctrl-C để dừng / open the station UI, press Quét;")
        say("  Ctrl-C stops everything")
        stop.wait()
    finally:
        demo.stop()
        say("Đã dừng / stopped")
    return 0


def _scan_once(demo: Any, stop: Any) -> int:
    """Press Quét, confirm the batch, wait for every receipt, print the documents."""
    import time

    station = demo.station
    deadline = time.monotonic() + 600

    def until(check: Any, what: str) -> None:
        while not check():
            if stop.is_set() or time.monotonic() > deadline:
                raise UsageError(f"the demo stopped while {what}", f"trình diễn dừng khi {what}")
            time.sleep(0.2)

    before = station.last_batch
    station.scan()
    say("  máy quét ảo đang quét / the virtual scanner is feeding…")
    until(lambda: station.last_batch not in (None, before), "waiting for the first page")
    batch = station.last_batch
    until(lambda: station.store.batch(batch).state == "review", "reading the documents")
    station.stop_countdown(batch)
    station.confirm(batch)
    until(lambda: station.store.batch(batch).state == "done", "confirming")
    docs = station.review.documents(batch)
    ids = {d.doc_id for d in docs}
    until(
        lambda: all(r["state"] == "received" for r in station.outbox() if r["doc_id"] in ids),
        "waiting for the receipts",
    )
    # the stand-in DMS answers each document 03, 04, 05 and 06 in turn
    until(
        lambda: all(r["status"] in FINAL_STATUSES for r in station.outbox() if r["doc_id"] in ids),
        "waiting for the DMS's last status",
    )
    rows = {r["doc_id"]: r for r in station.outbox()}
    for doc in docs:
        say(f"  văn bản / document {doc.registration}: {len(doc.pages)} trang / pages")
        for name, value in doc.metadata.items():
            say(f"      {name:<13} {'—' if value is None else value}")
        for warning in doc.warnings:
            say(f"    ! {warning['message']['vi']} / {warning['message']['en']}")
        for receipt in rows[doc.doc_id]["receipts"]:
            vi, en = RECEIPT_WORDS.get(receipt["status"], ("?", "?"))
            why = receipt["payload"].get("description") or ""
            say(f"    {receipt['status']} {vi} / {en}  {receipt['at']}  {why}".rstrip())
    delivered = sorted(demo.central.glob("*/*/*/*.pdf"))
    say(f"  {len(delivered)} tệp tại bộ nhận / files at the receiver: {demo.central}")
    return 0
