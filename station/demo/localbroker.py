"""A mosquitto of its own on a free loopback port: the demo's broker, and the
tests'. Plain MQTT on 127.0.0.1 only; production brokers use
firmware_config/mosquitto/ (TLS, certificates, ACL)."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from pathlib import Path

from station.errors import DependencyError


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class LocalBroker:
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
        if not Path(binary).exists():
            raise DependencyError(
                "mosquitto is missing. Fix: sudo apt-get install mosquitto",
                "Thiếu mosquitto. Cách sửa: sudo apt-get install mosquitto",
            )
        self.proc = subprocess.Popen([binary, "-c", str(self.conf)], stdout=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                if self.proc.poll() is not None:
                    raise DependencyError(
                        f"mosquitto exited with {self.proc.returncode}: see {self.conf}",
                        f"mosquitto dừng với mã {self.proc.returncode}: xem {self.conf}",
                    ) from None
                time.sleep(0.05)
        raise DependencyError(
            f"mosquitto did not open port {self.port} within 10 s",
            f"mosquitto không mở cổng {self.port} trong 10 giây",
        )

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None
