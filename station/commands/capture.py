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
    from station.capture.folder import FolderSource
    from station.capture.session import capture_batch
    from station.config import Config, Profile
    from station.samples import write_sample_batch
    from station.store import Store

    data_dir = (
        Path(args.data_dir) if args.data_dir else Path(tempfile.mkdtemp(prefix="scanstation-demo-"))
    )
    samples = data_dir / "virtual-scanner"
    say("Trạm quét — chế độ trình diễn / scan station demo")
    say(f"  thư mục dữ liệu / data dir: {data_dir}")
    if not any(samples.glob("scan_*.jpg")):
        say("  đang tạo tài liệu mẫu / generating sample documents…")
        write_sample_batch(samples, dpi=200)
    cfg = Config.model_validate(
        {
            "station": {"id": "demo", "data_dir": str(data_dir)},
            "scanner": {"device": f"folder:{samples}"},
        }
    )
    stop = stop_on_signals()
    source = FolderSource(samples)
    profile = Profile(source="adf-duplex", resolution=200)
    with Store(cfg.station.data_dir, owner=True) as store:
        store.recover()
        total = len(list(samples.glob("scan_*.jpg")))
        say(f"  máy quét ảo / virtual scanner: {total} mặt giấy / page sides")

        def progress(page: Any) -> None:
            bar = "#" * (page.seq * 30 // total)
            say(f"  [{bar:<30}] {page.seq}/{total} {page.input}")

        result = capture_batch(
            store, source, "standard", profile, trigger="demo", on_page=progress, stop=stop
        )
        say(
            f"Lô / batch {result.batch.id}: {len(result.pages)} trang đã lưu / pages stored"
            f" ({result.batch.state})"
        )
        say(f"  kho / store: {store.db_path}")
        files = [store.page_path(page) for page in result.pages]
        if result.batch.state != "captured":
            return 0
        from station.pipeline import process_inputs

        out = data_dir / "processed" / result.batch.id
        say("Xử lý trang / cleaning pages: nghiêng, xoay, trang trắng, mã vạch, OCR…")
        batch = process_inputs(files, out, cfg, ocr=True, store=store, batch_id=result.batch.id)
    for doc in batch["documents"]:
        label = doc["registration"] or "chưa có nhãn / no label"
        say(f"  văn bản / document {label}: {len(doc['pages'])} trang / pages, {out / doc['pdf']}")
        for name, value in doc["metadata"].items():
            say(f"      {name:<13} {'—' if value is None else value}")
        for warning in doc["warnings"]:
            say(f"    ! {warning['message']['vi']} / {warning['message']['en']}")
    dropped = sum(1 for p in batch["pages"] if p["doc_id"] is None)
    say(f"  {dropped} trang trắng hoặc phân cách đã bỏ / blank or separator pages dropped")
    say(f"  kết quả / output: {out / 'batch.json'}")
    return 0
