"""Central-side commands: receiver and fleet dashboard."""

from __future__ import annotations

import argparse
import os
import re
import socket
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from station.commands import say, stop_on_signals
from station.config import host_name_or_address, read_secret
from station.errors import UsageError
from station.wire.mqtt import Connection

if TYPE_CHECKING:
    from pydantic import BaseModel

    from station.central.fleetconfig import FleetSettings


def add_identity_arguments(p: argparse.ArgumentParser) -> None:
    """The MQTT identity options shared by the central commands."""
    p.add_argument("--broker", required=True, metavar="URL", help="mqtts://host:port or mqtt://…")
    p.add_argument("--client-id", metavar="ID", help="MQTT client id (default: host and pid)")
    p.add_argument("--username", metavar="U", help="MQTT username")
    p.add_argument(
        "--password-file",
        metavar="F",
        help="file holding the MQTT password (or set SCANSTATION_MQTT_PASSWORD)",
    )
    p.add_argument("--ca-file", metavar="F", help="CA certificate of the broker")
    p.add_argument("--cert-file", metavar="F", help="client certificate")
    p.add_argument("--key-file", metavar="F", help="client private key")


def add_limit_arguments(p: argparse.ArgumentParser) -> None:
    """What one station may hold at the receiver (docs/mqtt.md, "Receiver limits")."""
    from station.central.transfers import ReceiverLimits

    limits = ReceiverLimits()
    p.add_argument(
        "--max-files",
        type=_positive(int),
        default=limits.max_files,
        metavar="N",
        help=f"transfers one station may have in flight (default {limits.max_files}); "
        "an init beyond is answered 0x97, retry later",
    )
    p.add_argument(
        "--max-mib",
        type=_positive(int),
        default=limits.max_bytes // 2**20,
        metavar="M",
        help=f"MiB one station may have in flight (default {limits.max_bytes // 2**20}); an "
        "init beyond is answered 0x97, a file larger than this on its own 0x83",
    )
    p.add_argument(
        "--idle-minutes",
        type=_positive(float),
        default=limits.idle_s / 60,
        metavar="M",
        help=f"remove a transfer untouched for M minutes, with its segments (default "
        f"{limits.idle_s / 60:g})",
    )
    p.add_argument(
        "--queue-mib",
        type=_positive(int),
        default=limits.queue_bytes // 2**20,
        metavar="M",
        help=f"MiB of one station's messages waiting to be handled (default "
        f"{limits.queue_bytes // 2**20}); file commands beyond are answered 0x97",
    )


def _positive(kind: type[int] | type[float]) -> Callable[[str], float]:
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be more than 0: {text!r}")
        return value

    return parse


def _connection(args: argparse.Namespace, client_id: str, *, clean_start: bool) -> Connection:
    return Connection(
        args.broker,
        client_id,
        username=args.username,
        password=read_secret(
            Path(args.password_file) if args.password_file else None, "SCANSTATION_MQTT_PASSWORD"
        ),
        ca_file=Path(args.ca_file) if args.ca_file else None,
        cert_file=Path(args.cert_file) if args.cert_file else None,
        key_file=Path(args.key_file) if args.key_file else None,
        clean_start=clean_start,
    )


def cmd_receiver(args: argparse.Namespace) -> int:
    from station.central.receiver import Receiver, ReceiverLimits

    out = Path(args.out)
    client_id = args.client_id or f"central-{socket.gethostname()}-{os.getpid()}"[:64]
    conn = _connection(args, client_id, clean_start=True)
    limits = ReceiverLimits(
        max_files=int(args.max_files),
        max_bytes=int(args.max_mib) * 2**20,
        idle_s=float(args.idle_minutes) * 60,
        queue_bytes=int(args.queue_mib) * 2**20,
    )
    base = str(args.topic_root).strip("/")
    if not re.fullmatch(r"[a-z0-9][a-z0-9-]*(/[a-z0-9][a-z0-9-]*)*", base):
        raise UsageError(
            f"--topic-root {args.topic_root!r}: lowercase letters, digits, '-' and '/'",
            f"--topic-root {args.topic_root!r}: chữ thường, chữ số, '-' và '/'",
        )
    dms = None
    if args.dms:
        from station.central.dms import DmsHandOff
        from station.central.settings import load_dms

        dms = DmsHandOff(load_dms(Path(args.dms)), conn, base)
    # refused above before anything is made: a bad root, --dms with another root
    out.mkdir(parents=True, exist_ok=True)
    receiver = Receiver(
        conn,
        out,
        share_group=args.share_group or "",
        limits=limits,
        base=base,
        hand_off=dms.gateway.delivered if dms else None,
    )
    stop = stop_on_signals("Đang dừng… / stopping…")
    conn.start()
    if dms is not None:
        dms.start()
        api = f", API {dms.url}/" if dms.url else ""
        say(f"Hệ thống QLVB / DMS: edXML -> {dms.settings.edxml.inbox}{api}")
    group = f", nhóm / group {args.share_group}" if args.share_group else ""
    say(f"Bộ nhận / receiver {client_id}: {args.broker} {base}/… -> {out}{group}")
    say(
        f"Giới hạn mỗi trạm / per station: {limits.max_files} tệp / files, "
        f"{args.max_mib} MiB, {args.idle_minutes:g} phút chờ / idle minutes"
    )
    try:
        stop.wait()
    finally:
        if dms is not None:
            dms.stop()
        conn.stop()
        receiver.stop()
    say("Đã dừng / stopped")
    return 0


def default_fleet_dir() -> Path:
    if os.geteuid() == 0:
        return Path("/var/lib/scanstation-fleet")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "scanstation-fleet"


def _host_names(given: list[str]) -> tuple[str, ...]:
    names = []
    for name in given:
        try:
            names.append(host_name_or_address(name))
        except ValueError as exc:
            raise UsageError(
                f"--allowed-host: {exc}", f"--allowed-host: {name!r} không phải tên máy hay địa chỉ"
            ) from exc
    return tuple(names)


def fleet_settings(args: argparse.Namespace) -> FleetSettings:
    """``--config`` (or the built-in rules), with the threshold options laid over it."""
    from station.central.fleetconfig import FleetSettings, load_fleet

    settings = load_fleet(Path(args.config)) if args.config else FleetSettings()
    rules = settings.rules
    changes: dict[str, BaseModel] = {}
    if args.offline_minutes is not None:
        changes["offline"] = rules.offline.model_copy(update={"minutes": args.offline_minutes})
    if args.backlog_hours is not None:
        changes["backlog"] = rules.backlog.model_copy(update={"oldest_hours": args.backlog_hours})
    if args.disk_percent is not None:
        changes["disk"] = rules.disk.model_copy(update={"free_percent": args.disk_percent})
    if changes:
        # validated again, as if they had been written in the file
        data = settings.model_dump()
        for kind, rule in changes.items():
            data["rules"][kind] = rule.model_dump()
        try:
            settings = FleetSettings.model_validate(data)
        except ValueError as exc:
            raise UsageError(
                f"--offline-minutes, --backlog-hours, --disk-percent: {exc}",
                f"--offline-minutes, --backlog-hours, --disk-percent: {exc}",
            ) from None
    return settings


def cmd_fleet(args: argparse.Namespace) -> int:
    from station.central.channels import channels
    from station.central.fleet import Fleet
    from station.central.fleetdb import FleetDB
    from station.central.notify import Notifier
    from station.central.regions import Regions
    from station.ui import Services, WebSettings, create_app
    from station.ui.app import WebServer

    settings = fleet_settings(args)
    senders = channels(settings)  # their secret files are read now: a fault stops the start
    password_hash = read_secret(
        Path(args.password_hash_file) if args.password_hash_file else None,
        "SCANSTATION_FLEET_PASSWORD_HASH",
    )
    data_dir = Path(args.data_dir) if args.data_dir else default_fleet_dir()
    # a regions file that does not hold is refused before anything starts
    regions = Regions.load(Path(args.regions)) if args.regions else None
    web = WebSettings(
        listen=args.listen,
        password_hash=password_hash,
        data_dir=data_dir,
        allowed_hosts=_host_names(args.allowed_host),
        proxies=max(0, args.trusted_proxies),
    )
    web.check()
    db = FleetDB(data_dir)
    # a fixed client id and a kept session: events sent while the dashboard is
    # down wait in the broker
    client_id = args.client_id or f"fleet-{socket.gethostname()}"[:64]
    conn = _connection(args, client_id, clean_start=False)
    fleet = Fleet(conn, db, settings)
    notifier = Notifier(fleet.alerting.store, settings, senders)
    fleet.alerting.listeners.append(notifier.wake.set)
    if regions is not None:
        fleet.regions = regions
    server = WebServer(create_app(web, Services(fleet=fleet)), web)
    stop = stop_on_signals("Đang dừng… / stopping…")
    db.prune()
    fleet.history.compact()
    conn.start()
    fleet.alerting.start()
    notifier.start()
    server.start()
    say(f"Giám sát trạm / fleet dashboard: {server.url}/ (broker {args.broker}, {data_dir})")
    if senders:
        names = ", ".join(repr(c) for c in senders)
        say(f"Thông báo cảnh báo / alert notifications: {names}")
    if regions is not None:
        count = f"{len(regions.names())} ({len(regions)} đơn vị / units)"
        say(f"Khu vực / regions: {count}, {args.regions}")
    try:
        stop.wait()
    finally:
        server.stop()
        conn.stop()
        fleet.alerting.stop()
        notifier.stop()
        db.close()
    say("Đã dừng / stopped")
    return 0
