"""A real mosquitto on a free loopback port, for the MQTT tests (DESIGN §6)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Mosquitto:
    """``mosquitto -c CONF`` in the background; ``extra`` lines go into the config."""

    def __init__(self, folder: Path, extra: str = "", port: int | None = None) -> None:
        self.folder = folder
        self.port = port or free_port()
        self.conf = folder / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            "allow_anonymous true\n"
            "persistence false\n"
            "set_tcp_nodelay true\n"
            "log_dest stderr\n"
            "log_type error\nlog_type warning\n" + extra,
            encoding="utf-8",
        )
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        self.proc = subprocess.Popen([binary, "-c", str(self.conf)])
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"mosquitto exited with {self.proc.returncode}") from None
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None


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
