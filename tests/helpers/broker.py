"""A real mosquitto on a free loopback port, for the MQTT tests (docs/quality.md#testing-with-real-components)."""

from __future__ import annotations

from pathlib import Path

from station.demo.localbroker import LocalBroker, free_port

__all__ = [
    "LIMIT_OPTIONS",
    "LocalBroker",
    "Mosquitto",
    "free_port",
    "shipped_broker",
    "shipped_limits",
]


Mosquitto = LocalBroker


def shipped_broker(folder: Path, pki_folder: Path, ca: Path) -> Mosquitto:
    """mosquitto with firmware_config/mosquitto/ (TLS, certificate identities,
    the ACL) on a free loopback port, with the test CA's files."""
    from tests.helpers.cli import ROOT

    firmware = ROOT / "firmware_config" / "mosquitto"
    port = free_port()
    conf = (firmware / "scanstation.conf").read_text(encoding="utf-8")
    conf = (
        conf.replace("listener 8883", f"listener {port} 127.0.0.1")
        .replace("/etc/mosquitto/ca_certificates/scanstation-ca.crt", str(ca))
        .replace("/etc/mosquitto/certs/broker.crt", str(pki_folder / "broker.crt"))
        .replace("/etc/mosquitto/certs/broker.key", str(pki_folder / "broker.key"))
        .replace("/etc/mosquitto/scanstation.acl", str(firmware / "scanstation.acl"))
        .replace("persistence true", "persistence false")
    )
    server = Mosquitto(folder, port=port)
    server.conf.write_text(conf + "\nuser root\nlog_dest stderr\n", encoding="utf-8")
    return server


#: the options of the shipped config that bound the broker's memory and queues
LIMIT_OPTIONS = (
    "max_packet_size",
    "max_queued_messages",
    "max_queued_bytes",
    "max_inflight_bytes",
    "memory_limit",
)


def shipped_limits() -> dict[str, int]:
    """The limit options of firmware_config/mosquitto/scanstation.conf, as set there."""
    from tests.helpers.cli import ROOT

    conf = (ROOT / "firmware_config" / "mosquitto" / "scanstation.conf").read_text("utf-8")
    found = {}
    for line in conf.splitlines():
        words = line.split("#", 1)[0].split()
        if len(words) == 2 and words[0] in LIMIT_OPTIONS:
            found[words[0]] = int(words[1])
    return found
