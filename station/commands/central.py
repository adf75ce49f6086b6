"""Central-side commands: receiver."""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path

from station.commands import say, stop_on_signals
from station.config import read_secret


def cmd_receiver(args: argparse.Namespace) -> int:
    from station.central.receiver import Receiver
    from station.uplink.mqtt import Connection

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    client_id = args.client_id or f"central-{socket.gethostname()}-{os.getpid()}"[:64]
    conn = Connection(
        args.broker,
        client_id,
        username=args.username,
        password=read_secret(
            Path(args.password_file) if args.password_file else None, "SCANSTATION_MQTT_PASSWORD"
        ),
        ca_file=Path(args.ca_file) if args.ca_file else None,
        cert_file=Path(args.cert_file) if args.cert_file else None,
        key_file=Path(args.key_file) if args.key_file else None,
        clean_start=True,
    )
    Receiver(conn, out, share_group=args.share_group or "")
    stop = stop_on_signals("Đang dừng… / stopping…")
    conn.start()
    group = f", nhóm / group {args.share_group}" if args.share_group else ""
    say(f"Bộ nhận / receiver {client_id}: {args.broker} -> {out}{group}")
    try:
        stop.wait()
    finally:
        conn.stop()
    say("Đã dừng / stopped")
    return 0
