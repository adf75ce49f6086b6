"""Document commands: process, labels."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from station.commands import load_config, say
from station.errors import ConfigError, InputError, NotFound, UsageError


def cmd_process(args: argparse.Namespace) -> int:
    from station.pipeline.batch import BatchDocument, BatchPage
    from station.pipeline.offline import process_inputs

    cfg = load_config(args)
    out = Path(args.out)
    inputs = [Path(p) for p in args.inputs]
    say(f"Đang xử lý / processing {len(inputs)} tệp / files -> {out}")

    def progress(position: int, page: BatchPage) -> None:
        report = page.report
        if report.blank:
            state = "trắng, bỏ / blank, dropped"
        elif report.separator:
            state = "trang phân cách hoặc trang bìa / separator or cover sheet"
        else:
            state = "giữ / kept"
        codes = ", ".join(c["text"][:40] for c in report.barcodes)
        say(
            f"  {position:>4}  {page.input}#{page.index}: nghiêng / skew "
            f"{report.skew_deg:+.2f}°, xoay / turned {report.orientation_deg}°, {state}"
            + (f"; mã / codes: {codes}" if codes else "")
        )

    def document(doc: BatchDocument) -> None:
        if doc.secret:
            level = doc.level or "dấu mật chưa đọc được / a mark not read"
            say(
                f"  VĂN BẢN MẬT / SECRET ({level}): không ghi ảnh, không ghi PDF; xử lý "
                "ngoài máy / no image and no PDF written; handle it off this machine"
            )
            return
        meta = doc.metadata
        number = f"{meta['CodeNumber']}/{meta['CodeNotation']}" if meta["CodeNumber"] else "?"
        say(
            f"  PDF/A: {out / str(doc.pdf)}  [{meta['TypeName'] or '?'} {number},"
            f" {meta['IssuedDate'] or '?'}, {meta['OrganName'] or '?'}]"
        )

    # documents already on file are in the station's store, when there is one
    store = None
    if not args.no_ocr and (cfg.station.data_dir / "store.sqlite3").is_file():
        from station.store import Store

        store = Store(cfg.station.data_dir)
    try:
        batch = process_inputs(
            inputs,
            out,
            cfg,
            jobs=args.jobs,
            ocr=not args.no_ocr,
            on_page=progress,
            on_document=document,
            store=store,
            direction=args.direction,
        )
    finally:
        if store is not None:
            store.close()
    kept = sum(1 for p in batch["pages"] if p["doc_id"])
    say(
        f"Xong / done: {len(batch['pages'])} trang / pages, {kept} giữ lại / kept, "
        f"{len(batch['documents'])} văn bản / documents; {out / 'batch.json'}"
    )
    for doc in batch["documents"]:
        if doc["secret"]:
            level = (doc["level"] or "mật?").upper()
            say(f"  {doc['doc_id']}  {level}  {len(doc['pages'])} trang / pages")
            continue
        label = doc["registration"] or "chưa có nhãn / no label"
        say(f"  {doc['doc_id']}  {label}  {len(doc['pages'])} trang / pages")
        for warning in doc["warnings"]:
            say(f"    ! {warning['message']['vi']} / {warning['message']['en']}")
    return 0


def cmd_labels(args: argparse.Namespace) -> int:
    import re

    from station.barcodes import labels

    cfg = load_config(args)
    out = Path(args.out)
    if args.cover:
        count = args.count or 1
        text = {"outgoing": cfg.pipeline.outgoing_sheet, "incoming": cfg.pipeline.incoming_sheet}[
            args.cover
        ]
        pages = labels.write_pdf([labels.cover_sheet(args.cover, text)] * count, out)
        say(f"Đã in / wrote {pages} trang bìa / cover sheets ({text}) -> {out}")
        return 0
    if args.separator:
        count = args.count or 1
        text = cfg.pipeline.separator_text
        pages = labels.write_pdf([labels.separator_sheet(text)] * count, out)
        say(f"Đã in / wrote {pages} trang phân cách / separator sheets ({text}) -> {out}")
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
    say(
        f"Đã in / wrote {len(texts)} nhãn / labels {texts[0]} … {texts[-1]} on {sheets} "
        f"tờ / sheets ({layout.name}: {layout.description}) -> {out}"
    )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from station.errors import NotCompliant
    from station.records.verify import verify

    reports = [verify(Path(name)) for name in args.files]
    if args.json:
        say(json.dumps([r.as_json() for r in reports], indent=2, ensure_ascii=False))
    else:
        for report in reports:
            verdict = "ĐẠT / PASS" if report.ok else "KHÔNG ĐẠT / FAIL"
            say(f"{report.path}: {verdict}")
            for check in report.checks:
                say(f"  [{'OK ' if check.ok else 'LỖI'}] {check.name:18} {check.detail}")
    failed = [r.path for r in reports if not r.ok]
    if failed:
        if args.json:
            return NotCompliant.exit_code
        raise NotCompliant(
            f"{len(failed)} file(s) do not meet the Decree 30 standard: {', '.join(failed)}",
            f"{len(failed)} tệp chưa đạt chuẩn số hóa theo Nghị định 30: {', '.join(failed)}",
        )
    return 0


def cmd_sign(args: argparse.Namespace) -> int:
    """Sign a PDF as a certified copy with the key of ``[signing]``."""
    from station.records.signing import Signer
    from station.records.xmp import pdfa_problems

    config = load_config(args)
    section = config.signing
    if section.key_store == "pkcs11" and section.pkcs11_module is None:
        raise ConfigError(
            "no signing key configured: set [signing] key_store and its key (docs/signing.md)",
            "chưa cấu hình khóa ký: đặt [signing] key_store và khóa (docs/signing.md)",
        )
    if section.key_store == "pkcs12" and section.pkcs12_file is None:
        raise ConfigError(
            "no signing key configured: set [signing] pkcs12_file (docs/signing.md)",
            "chưa cấu hình khóa ký: đặt [signing] pkcs12_file (docs/signing.md)",
        )
    source, target = Path(args.input), Path(args.out)
    if not source.is_file():
        raise InputError(f"{source}: no such file", f"{source}: không có tệp này")
    signer = Signer(section, config.station.unit_name, config.station.data_dir)
    when = signer.sign(source, target)
    problems = pdfa_problems(target)
    say(f"Đã ký / signed: {target} ({when.isoformat()})")
    for problem in problems:
        say(f"  ! {problem}")
    return 0


def cmd_register(args: argparse.Namespace) -> int:
    """Export the incoming register (or, with ``--secret``, the register of secret
    documents; ``--outgoing``, the outgoing register; ``--post``, the post
    register) of a day, a month, a year or any period."""
    from station.records import outgoing_register as sent
    from station.records.register import Register
    from station.records.register_export import Book, Period, write
    from station.records.secret_register import LAYOUT, SecretRegister
    from station.store import Store

    config = load_config(args)
    period = Period.parse(args.start, args.end)
    out = Path(args.out)
    fmt = args.format or out.suffix.lstrip(".").lower()
    if fmt not in ("pdf", "csv", "xlsx"):
        raise UsageError(
            "say --format pdf, csv or xlsx (or name the file .pdf, .csv or .xlsx)",
            "hãy chọn --format pdf, csv hoặc xlsx (hoặc đặt tên tệp .pdf, .csv, .xlsx)",
        )
    if not (config.station.data_dir / "store.sqlite3").exists():
        raise NotFound(
            f"no station store in {config.station.data_dir}",
            f"không có kho dữ liệu của trạm tại {config.station.data_dir}",
        )
    unit = config.station.unit_name
    start, end = period.start, period.end
    with Store(config.station.data_dir) as store:
        outgoing = sent.OutgoingRegister(store, config.outgoing.numbering)
        if args.secret:
            entries = SecretRegister(store).entries(start, end)
            book = Book(entries, [], period, unit, config.incoming.keeper, layout=LAYOUT)
            which = "Sổ văn bản mật đến / secret register"
        elif args.outgoing:
            book = Book(outgoing.entries(start, end), outgoing.flags(start, end), period, unit,
                        config.outgoing.keeper, layout=sent.LAYOUT)  # fmt: skip
            which = "Sổ đi / outgoing register"
        elif args.post:
            book = Book(outgoing.posted(start, end), [], period, unit, config.outgoing.keeper,
                        layout=sent.POST_LAYOUT)  # fmt: skip
            which = "Sổ gửi bưu điện / post register"
        else:
            register = Register(store, config.incoming.holidays)
            book = Book(register.entries(start, end), register.flags(start, end), period, unit,
                        config.incoming.keeper)  # fmt: skip
            which = "Sổ đến / incoming register"
    write(book, fmt, out)
    say(f"{which}: {period.text()}, {len(book.entries)} văn bản → {out}")
    for flag in book.flags:
        say(f"  ! {flag.message_vi} / {flag.message_en}")
    return 0
