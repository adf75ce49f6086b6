"""The ``scanstation`` command. The one boundary that turns errors into exit codes.

Exit codes (docs/cli.md): 0 ok, 1 internal error, 2 usage, 3 config, 4 missing
dependency, 5 scanner, 6 feeder empty, 7 storage / disk full, 8 bad input,
9 not found, 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import logging
import shutil
import signal
import sys
import tempfile
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from types import FrameType
from typing import Any

from station import __version__
from station import config as config_mod
from station.errors import StationError, UsageError

Handler = Callable[[argparse.Namespace], int]


def _print(text: str = "") -> None:
    print(text, flush=True)


def _load_config(args: argparse.Namespace) -> config_mod.Config:
    path = Path(args.config) if getattr(args, "config", None) else None
    return config_mod.load(path)


def _stop_on_signals() -> threading.Event:
    """A stop event set by SIGINT/SIGTERM: the page being written is finished first."""
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print("\nĐang dừng sau trang hiện tại… / stopping after this page…", file=sys.stderr)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop


# --------------------------------------------------------------------------- doctor


def cmd_doctor(args: argparse.Namespace) -> int:
    from station.doctor import Check, run_checks

    cfg: config_mod.Config | None
    try:
        cfg = _load_config(args)
        source = args.config or (
            str(config_mod.DEFAULT_PATH)
            if config_mod.DEFAULT_PATH.exists()
            else "built-in defaults"
        )
        config_check = Check("config", True, f"valid ({source})")
    except StationError as exc:
        cfg = None  # checks that depend on the config are skipped, nothing is created
        config_check = Check("config", False, exc.message_en, "edit the file as the message says")
    checks = run_checks(cfg, config_check)
    failed = [c for c in checks if not c.ok and c.required]
    if args.json:
        _print(json.dumps({"ok": not failed, "checks": [c.as_dict() for c in checks]}, indent=2))
    else:
        for check in checks:
            mark = "OK  " if check.ok else ("LỖI" if check.required else "CHÚ Ý")
            _print(f"[{mark:5}] {check.name:18} {check.detail}")
            if not check.ok and check.fix:
                _print(f"{'':8}{'':18} cách sửa / fix: {check.fix}")
        _print()
        _print(
            "Sẵn sàng / ready"
            if not failed
            else f"Thiếu {len(failed)} thành phần bắt buộc / {len(failed)} required check(s) failed"
        )
    return 4 if failed else 0


# --------------------------------------------------------------------------- devices


def cmd_devices(args: argparse.Namespace) -> int:
    from station.capture import sane as sane_wrapper

    cfg = _load_config(args)
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
        _print(json.dumps(rows, indent=2, ensure_ascii=False))
        return 0
    if not rows:
        _print("Không tìm thấy máy quét nào / no scanners found")
        _print("  kiểm tra cáp và nguồn, rồi chạy / check cable and power, then run: scanimage -L")
        return 0
    for row in rows:
        _print(f"{row['name']:40} {row['vendor']} {row['model']} ({row['kind']})")
    return 0


# --------------------------------------------------------------------------- scan


def _progress(page: Any) -> None:
    _print(
        f"  trang {page.seq:>3} / page {page.seq:>3}: {page.width}×{page.height} px, "
        f"{page.dpi} dpi, {page.side}, {page.size // 1024} KiB"
    )


def cmd_scan(args: argparse.Namespace) -> int:
    from station.capture import open_source
    from station.capture.session import capture_batch
    from station.store import Store

    cfg = _load_config(args)
    device = args.device or cfg.scanner.device
    profile_name = args.profile or cfg.scanner.default_profile
    profile = cfg.profile(profile_name)
    stop = _stop_on_signals()
    with Store(
        cfg.station.data_dir, min_free_bytes=cfg.station.min_free_mb * 2**20, owner=True
    ) as store:
        store.recover()
        source = open_source(device)
        try:
            _print(f"Đang quét / scanning: {device}, {profile_name} ({profile.resolution} dpi)")
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
        _print(
            f"Lô / batch {result.batch.id}: {len(result.pages)} trang / pages, {result.batch.state}"
        )
        if args.out:
            out = Path(args.out)
            out.mkdir(parents=True, exist_ok=True)
            for page in result.pages:
                shutil.copyfile(store.page_path(page), out / Path(page.path).name)
            _print(f"Đã chép vào / copied to {out}")
    return 0


def cmd_batches(args: argparse.Namespace) -> int:
    from station.store import Store

    cfg = _load_config(args)
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
            _print(f"Lô / batch {batch.id}: {batch.state}")
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
        _print(json.dumps(rows, indent=2, ensure_ascii=False))
    else:
        for r in rows:
            _print(
                f"{r['id']}  {r['state']:12} {r['pages']:>4} trang/pages  {r['created_at']}"
                + (f"  ({r['error']})" if r["error"] else "")
            )
    return 0


# --------------------------------------------------------------------------- demo


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
    _print("Trạm quét — chế độ trình diễn / scan station demo")
    _print(f"  thư mục dữ liệu / data dir: {data_dir}")
    if not any(samples.glob("scan_*.jpg")):
        _print("  đang tạo tài liệu mẫu / generating sample documents…")
        write_sample_batch(samples, dpi=200)
    cfg = Config.model_validate(
        {
            "station": {"id": "demo", "data_dir": str(data_dir)},
            "scanner": {"device": f"folder:{samples}"},
        }
    )
    stop = _stop_on_signals()
    source = FolderSource(samples)
    profile = Profile(source="adf-duplex", resolution=200)
    with Store(cfg.station.data_dir, owner=True) as store:
        store.recover()
        total = len(list(samples.glob("scan_*.jpg")))
        _print(f"  máy quét ảo / virtual scanner: {total} mặt giấy / page sides")

        def progress(page: Any) -> None:
            bar = "#" * (page.seq * 30 // total)
            _print(f"  [{bar:<30}] {page.seq}/{total} {page.input}")

        result = capture_batch(
            store, source, "standard", profile, trigger="demo", on_page=progress, stop=stop
        )
        _print(
            f"Lô / batch {result.batch.id}: {len(result.pages)} trang đã lưu / pages stored"
            f" ({result.batch.state})"
        )
        _print(f"  kho / store: {store.db_path}")
    return 0


# --------------------------------------------------------------------------- process


def cmd_process(args: argparse.Namespace) -> int:
    from station.pipeline import process_inputs

    cfg = _load_config(args)
    out = Path(args.out)
    inputs = [Path(p) for p in args.inputs]
    _print(f"Đang xử lý / processing {len(inputs)} tệp / files -> {out}")

    def progress(position: int, page: dict[str, Any]) -> None:
        state = "trắng, bỏ / blank, dropped" if page["blank"] else "giữ / kept"
        _print(
            f"  {position:>4}  {page['input']}#{page['index']}: nghiêng / skew "
            f"{page['skew_deg']:+.2f}°, xoay / turned {page['orientation_deg']}°, {state}"
        )

    batch = process_inputs(inputs, out, cfg, jobs=args.jobs, on_page=progress)
    kept = sum(1 for p in batch["pages"] if not p["blank"])
    _print(
        f"Xong / done: {len(batch['pages'])} trang / pages, {kept} giữ lại / kept; "
        f"{out / 'batch.json'}"
    )
    if not args.no_ocr:
        _print(
            "Chú ý / note: OCR và PDF/A chưa có trong phiên bản này; đã ghi ảnh trang và "
            "batch.json / OCR and PDF/A are not in this version yet: page images and "
            "batch.json were written"
        )
    return 0


# --------------------------------------------------------------------------- labels


def cmd_labels(args: argparse.Namespace) -> int:
    import re

    from station import labels

    cfg = _load_config(args)
    out = Path(args.out)
    if args.separator:
        count = args.count or 1
        text = cfg.pipeline.separator_text
        pages = labels.write_pdf([labels.separator_sheet(text)] * count, out)
        _print(f"Đã in / wrote {pages} trang phân cách / separator sheets ({text}) -> {out}")
        return 0
    if args.year is None or args.start is None or args.count is None:
        raise UsageError(
            "labels need --year, --start and --count (or --separator)",
            "In nhãn cần --year, --start và --count (hoặc --separator)",
        )
    if not 1 <= args.count <= 10_000 or not args.start >= 1 or args.start + args.count > 1_000_000:
        raise UsageError(
            "numbers must run from 1 to 999999, at most 10000 labels at a time",
            "Số đến phải từ 1 đến 999999, mỗi lần in tối đa 10000 nhãn",
        )
    if not 2000 <= args.year <= 2099:
        raise UsageError("the year must be 2000-2099", "Năm phải trong khoảng 2000-2099")
    layout = labels.LAYOUTS[args.layout]
    texts = [
        labels.registration_text(args.year, n) for n in range(args.start, args.start + args.count)
    ]
    pattern = re.compile(cfg.pipeline.registration_pattern)
    if not all(pattern.fullmatch(t) for t in texts):
        raise UsageError(
            f"{texts[0]} does not match [pipeline] registration_pattern; the station would not "
            "recognise these labels",
            f"{texts[0]} không khớp registration_pattern trong cấu hình; "
            "trạm sẽ không nhận ra nhãn",
        )
    kind = "qr" if args.qr else "code128"
    unit = args.unit if args.unit is not None else cfg.station.unit_name
    sheets = labels.write_pdf(labels.label_sheets(texts, layout, unit, kind), out)
    _print(
        f"Đã in / wrote {len(texts)} nhãn / labels {texts[0]} … {texts[-1]} on {sheets} "
        f"tờ / sheets ({layout.name}: {layout.description}) -> {out}"
    )
    return 0


# --------------------------------------------------------------------------- passwd


def cmd_passwd(args: argparse.Namespace) -> int:
    import getpass

    from station.auth import hash_secret

    if sys.stdin.isatty():
        first = getpass.getpass("Mật khẩu mới / new password: ")
        if getpass.getpass("Nhập lại / again: ") != first:
            raise UsageError("the two entries differ", "Hai lần nhập không khớp")
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < (4 if args.pin else 8):
        raise UsageError(
            f"too short: at least {4 if args.pin else 8} characters",
            f"Quá ngắn: ít nhất {4 if args.pin else 8} ký tự",
        )
    _print(hash_secret(first))
    return 0


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scanstation",
        description="Trạm quét văn bản / scan station: capture, clean, OCR and deliver documents.",
    )
    parser.add_argument("--version", action="version", version=f"scanstation {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log details and tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(
        name: str, handler: Handler, help_text: str, config: bool = True
    ) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        if config:
            p.add_argument(
                "--config",
                metavar="F",
                help=f"station.toml to use (default {config_mod.DEFAULT_PATH} if it exists, "
                "else built-in defaults)",
            )
        p.set_defaults(handler=handler)
        return p

    p = add("doctor", cmd_doctor, "check the system, its tools and the config")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("devices", cmd_devices, "list scanners (SANE and the configured folder)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("scan", cmd_scan, "capture one batch into the store")
    p.add_argument("--device", metavar="D", help="SANE device name or glob, or folder:PATH")
    p.add_argument("--profile", metavar="P", help="scan profile from the config")
    p.add_argument("--out", metavar="DIR", help="also copy the captured page images to DIR")
    p.add_argument("--resume", metavar="BATCH", help="continue an interrupted batch")

    p = add(
        "process",
        cmd_process,
        "run the page pipeline offline on images (PNG, JPEG, TIFF) and PDFs, in the order "
        "given, as one batch: DIR/batch.json and the corrected pages in DIR/pages/",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image or PDF files")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument("--no-ocr", action="store_true", help="skip OCR and PDF output")
    p.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: all cores)")

    from station.labels import LAYOUTS

    p = add(
        "labels",
        cmd_labels,
        "print registration label sheets (Code 128 or QR, with the text) or separator sheets "
        "as an A4 PDF",
    )
    p.add_argument("--year", type=int, metavar="Y", help="year of the Số đến")
    p.add_argument("--start", type=int, metavar="N", help="first Số đến")
    p.add_argument("--count", type=int, metavar="K", help="how many labels (or separator sheets)")
    p.add_argument("--out", required=True, metavar="F", help="PDF to write")
    p.add_argument(
        "--layout",
        choices=sorted(LAYOUTS),
        default="a4-3x8",
        help="sticker sheet: "
        + "; ".join(f"{k} {v.description}" for k, v in sorted(LAYOUTS.items())),
    )
    p.add_argument("--qr", action="store_true", help="QR codes instead of Code 128")
    p.add_argument(
        "--unit", metavar="TEXT", help="line above the code (default: [station] unit_name)"
    )
    p.add_argument("--separator", action="store_true", help="separator sheets instead of labels")

    p = add("batches", cmd_batches, "list batches in the store, or close an interrupted one")
    p.add_argument("--close", metavar="BATCH", help="close an interrupted batch as it is")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add(
        "passwd",
        cmd_passwd,
        "print a hash for [ui] password_hash or pin_hash (reads the secret from the terminal "
        "or standard input, never from arguments)",
        config=False,
    )
    p.add_argument("--pin", action="store_true", help="a PIN (4 characters or more)")

    p = add(
        "demo", cmd_demo, "the virtual scanner's sample batch captured into a store", config=False
    )
    p.add_argument("--data-dir", metavar="DIR", help="store location (default: a new temp dir)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    handler: Handler | None = getattr(args, "handler", None)
    try:
        if handler is None:
            raise UsageError(
                "no command given; see scanstation --help", "Chưa chọn lệnh; xem scanstation --help"
            )
        return handler(args)
    except StationError as exc:
        if args.verbose:
            logging.exception("failed")
        print(f"scanstation: {exc.user_message()}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("scanstation: đã dừng / interrupted", file=sys.stderr)
        return 130
    except Exception as exc:
        if args.verbose:
            raise
        print(
            f"scanstation: lỗi nội bộ / internal error: {exc.__class__.__name__}: {exc} "
            "(chạy lại với -v / run again with -v)",
            file=sys.stderr,
        )
        return 1


if __name__ == "__main__":
    sys.exit(main())
