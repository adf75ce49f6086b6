"""The ``scanstation`` command. The one boundary that turns errors into exit codes.

Exit codes (docs/cli.md): 0 ok, 1 internal error, 2 usage, 3 config, 4 missing
dependency, 5 scanner, 6 feeder empty, 7 storage / disk full, 8 bad input,
9 not found, 10 not compliant, 11 OCR failed, 12 signing failed, 130 interrupted.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable, Sequence

from station import __version__
from station import config as config_mod
from station.commands import capture, central, documents, system
from station.commands import station as station_cmd
from station.errors import StationError, UsageError

Handler = Callable[[argparse.Namespace], int]


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

    p = add("doctor", system.cmd_doctor, "check the system, its tools and the config")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("devices", capture.cmd_devices, "list scanners (SANE and the configured folder)")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add("scan", capture.cmd_scan, "capture one batch into the store")
    p.add_argument("--device", metavar="D", help="SANE device name or glob, or folder:PATH")
    p.add_argument("--profile", metavar="P", help="scan profile from the config")
    p.add_argument("--out", metavar="DIR", help="also copy the captured page images to DIR")
    p.add_argument("--resume", metavar="BATCH", help="continue an interrupted batch")

    p = add(
        "process",
        documents.cmd_process,
        "run the page pipeline offline on images (PNG, JPEG, TIFF) and PDFs, in the order "
        "given, as one batch split into documents: DIR/batch.json and the corrected pages "
        "in DIR/pages/; with OCR one PDF/A per document, checked as `verify` does (a "
        "failure is the document's pdf_check warning in batch.json)",
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image or PDF files")
    p.add_argument("--out", required=True, metavar="DIR", help="output folder")
    p.add_argument(
        "--no-ocr", action="store_true", help="skip OCR: page images and batch.json only"
    )
    p.add_argument(
        "--direction",
        choices=("incoming", "outgoing"),
        help="received (văn bản đến) or sent (văn bản đi) documents (default: a cover "
        "sheet's, else [station] default_direction)",
    )
    p.add_argument("--jobs", type=int, metavar="N", help="worker processes (default: all cores)")

    from station.barcodes.labels import LAYOUTS

    p = add(
        "labels",
        documents.cmd_labels,
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
    p.add_argument(
        "--cover",
        choices=("outgoing", "incoming"),
        help="cover sheets instead of labels: on top of a stack, they make its batch outgoing "
        "(văn bản đi) or incoming (văn bản đến)",
    )

    p = add(
        "verify",
        documents.cmd_verify,
        "check PDFs against the Decree 30/2020 digitization standard: PDF 1.4 or later, "
        "PDF/A-2, colour, at least 200 dpi, page the size of the paper, text layer in NFC",
        config=False,
    )
    p.add_argument("files", nargs="+", metavar="FILE.pdf", help="PDFs to check")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add(
        "sign",
        documents.cmd_sign,
        "sign a PDF as a certified copy (sao y) with the agency's key of [signing]: PAdES, "
        "the copy's text at the top right of page 1; the PIN comes from [signing] pin_file "
        "or SCANSTATION_SIGNING_PIN, never from arguments",
    )
    p.add_argument("input", metavar="IN.pdf", help="the digitized PDF/A")
    p.add_argument("--out", required=True, metavar="OUT.pdf", help="the signed copy")

    p = add(
        "register",
        documents.cmd_register,
        "export the incoming register (sổ đăng ký văn bản đến) of a period, or the outgoing "
        "one (sổ đăng ký văn bản đi): a PDF laid out like the paper register, or CSV / XLSX "
        "with the same columns; gaps and repeats in the numbers and late registrations are "
        "listed",
    )
    p.add_argument(
        "--from",
        dest="start",
        required=True,
        metavar="D",
        help="first day (2026-11-25 or 25/11/2026), or a month (2026-11) or a year (2026)",
    )
    p.add_argument(
        "--to", dest="end", metavar="D", help="last day, month or year (default: as --from)"
    )
    p.add_argument(
        "--format", choices=("pdf", "csv", "xlsx"), help="default: from the file's suffix"
    )
    p.add_argument("--out", required=True, metavar="F", help="file to write")
    which = p.add_mutually_exclusive_group()
    which.add_argument(
        "--secret",
        action="store_true",
        help="the register of secret documents (sổ đăng ký văn bản mật đến) instead: the "
        "documents a connected station stopped, with Số đến, Ngày đến, độ mật and agency only",
    )
    which.add_argument(
        "--outgoing",
        action="store_true",
        help="the outgoing register (sổ đăng ký văn bản đi) instead: the documents sent, by "
        "their date, with gaps and repeats in their numbers",
    )
    which.add_argument(
        "--post",
        action="store_true",
        help="the register of documents sent by post (sổ gửi văn bản đi bưu điện) instead, "
        "by the day they went",
    )

    p = add(
        "batches", capture.cmd_batches, "list batches in the store, or close an interrupted one"
    )
    p.add_argument("--close", metavar="BATCH", help="close an interrupted batch as it is")
    p.add_argument("--json", action="store_true", help="machine-readable output")

    p = add(
        "passwd",
        system.cmd_passwd,
        "print a hash for [ui] password_hash or pin_hash (reads the secret from the terminal "
        "or standard input, never from arguments)",
        config=False,
    )
    p.add_argument("--pin", action="store_true", help="a PIN (4 characters or more)")

    p = add(
        "run",
        station_cmd.cmd_run,
        "the station: scanner, page pipeline, review UI on [ui] listen, delivery and "
        "telemetry; runs until stopped",
    )
    p.add_argument(
        "--offline", action="store_true", help="no broker: scan and review only, nothing is sent"
    )

    p = add(
        "demo",
        capture.cmd_demo,
        "the whole system on this machine, on loopback: a virtual scanner with generated "
        "Vietnamese documents, mosquitto, the receiver, the station UI and the fleet "
        "dashboard; prints their addresses; Ctrl-C stops everything",
        config=False,
    )
    p.add_argument(
        "--data-dir", metavar="DIR", help="where everything lives (default: a new temp dir)"
    )
    p.add_argument(
        "--pace", type=float, default=0.5, metavar="S", help="seconds between pages (default 0.5)"
    )
    p.add_argument(
        "--scan-once",
        action="store_true",
        help="press Quét once, confirm, wait for the receipts, print the documents and exit",
    )

    p = add(
        "receiver",
        central.cmd_receiver,
        "the central receiver: stores the stations' files under OUT/{station}/{yyyy}/{mm}/, "
        "answers each transfer, hands each document to the DMS as edXML (--dms) and publishes "
        "the receipts and the DMS's statuses; runs until stopped",
        config=False,
    )
    central.add_identity_arguments(p)
    p.add_argument("--out", required=True, metavar="DIR", help="where documents are stored")
    p.add_argument("--share-group", metavar="G", help="shared subscription group ($share/G/…)")
    p.add_argument(
        "--topic-root",
        default="scanstation/v1",
        metavar="R",
        help="the topic root to take documents under (default scanstation/v1); on an "
        "independent LAN the receiver of secret documents takes the stations' [security] "
        "secret_topic_root",
    )
    p.add_argument(
        "--dms",
        metavar="FILE",
        help="hand every document to the agency's DMS as edXML (QCVN 102:2016): dms.toml with "
        "the agency's identity, the inbox folder and the optional axis-style API "
        "(docs/integration.md)",
    )
    central.add_limit_arguments(p)

    p = add(
        "fleet",
        central.cmd_fleet,
        "the fleet dashboard: every station's state, health, events and alerts (acknowledged, "
        "with their history, sent by e-mail and webhook), statistics, remote commands with "
        "their log, GET /api/stations and Prometheus /metrics; runs until stopped",
        config=False,
    )
    central.add_identity_arguments(p)
    p.add_argument(
        "--listen",
        default="127.0.0.1:8090",
        metavar="ADDR",
        help="HOST:PORT of the dashboard (default 127.0.0.1:8090); anything but loopback "
        "needs --password-hash-file",
    )
    p.add_argument(
        "--allowed-host",
        action="append",
        default=[],
        metavar="NAME",
        help="a host name or address (no port) the dashboard also answers to, besides "
        "localhost, 127.0.0.1, [::1] and the --listen address; repeat for more. Requests "
        "for any other name are refused (421)",
    )
    p.add_argument(
        "--trusted-proxies",
        type=int,
        default=0,
        metavar="N",
        help="reverse proxies in front of the dashboard (default 0); with N, the client's "
        "address for throttling wrong passwords comes from the last N X-Forwarded-For hops",
    )
    p.add_argument(
        "--data-dir",
        metavar="DIR",
        help="where the history is kept (default /var/lib/scanstation-fleet as root, else "
        "~/.local/share/scanstation-fleet)",
    )
    p.add_argument(
        "--password-hash-file",
        metavar="F",
        help="file holding the sign-in password hash from `scanstation passwd` (or set "
        "SCANSTATION_FLEET_PASSWORD_HASH)",
    )
    p.add_argument(
        "--regions",
        metavar="FILE",
        help="each unit's region, to group, search and count stations by region: a CSV with "
        'the header unit,region or a TOML table [units] of "unit name" = "region" '
        "(docs/fleet.md#regions)",
    )
    p.add_argument(
        "--config",
        metavar="FILE",
        help="fleet.toml: the alert rules, the working calendar, quiet hours, and the e-mail "
        "and webhook notifications (docs/fleet.md#configuration; "
        "firmware_config/fleet.example.toml); without it the built-in rules, no notifications",
    )
    p.add_argument(
        "--offline-minutes",
        type=int,
        metavar="N",
        help="alert: switched off for N min (sets [rules.offline] minutes; default 15)",
    )
    p.add_argument(
        "--backlog-hours",
        type=float,
        metavar="N",
        help="alert: no receipt for N h (sets [rules.backlog] oldest_hours; default 8)",
    )
    p.add_argument(
        "--disk-percent",
        type=float,
        metavar="P",
        help="alert: disk free below P %% (sets [rules.disk] free_percent; default 10)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # the terminal shows warnings (everything with -v), whatever the station
    # keeps for its own diagnostics screen
    for stream in logging.getLogger().handlers:
        stream.setLevel(logging.DEBUG if args.verbose else logging.WARNING)
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
