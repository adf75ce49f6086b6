"""The station's one MQTT session and what runs on it.

One connection per station (a fixed client id, the station id; the last will
``lost`` on ``state``) carries the outbox sender, the telemetry and the remote
commands. :meth:`StationLink.start` runs the sender and the telemetry in named
threads, each supervised (station/common/supervisor.py: a loop that fails is logged,
reported and run again); :meth:`StationLink.stop` publishes ``offline`` and
joins them.
"""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass, field
from datetime import timedelta

from station.appliance.stats import ScannerState, Stats
from station.common.supervisor import CrashReport, Supervised, reporter
from station.config import Config, read_secret
from station.config.remote import Settings
from station.store import Store
from station.uplink.commands import Commands
from station.uplink.sender import Uplink
from station.uplink.telemetry import Telemetry, last_will
from station.wire.mqtt import Connection


def connection_for(config: Config, boot: int) -> Connection:
    """The station's connection as ``[uplink]`` describes it: broker URL and TLS
    files, username (default: the station id), password from ``password_file``
    or ``SCANSTATION_MQTT_PASSWORD``, keep-alive, and the last will ``lost``."""
    up = config.uplink
    station_id = config.station.id
    return Connection(
        up.broker,
        station_id,
        username=up.username or station_id,
        password=read_secret(up.password_file, "SCANSTATION_MQTT_PASSWORD"),
        ca_file=up.ca_file,
        cert_file=up.cert_file,
        key_file=up.key_file,
        keepalive=up.keepalive_s,
        will=last_will(station_id, boot),
    )


@dataclass
class StationLink:
    connection: Connection
    uplink: Uplink
    telemetry: Telemetry
    commands: Commands
    stats: Stats
    on_crash: CrashReport | None = None
    threads: list[Supervised] = field(default_factory=list)
    stop_event: threading.Event = field(default_factory=threading.Event)

    @classmethod
    def build(
        cls,
        store: Store,
        settings: Settings,
        scanner: ScannerState | None = None,
        *,
        response_timeout_s: float = 30.0,
    ) -> StationLink:
        config = settings.config
        boot = store.bump_counter("boots")
        connection = connection_for(config, boot)
        stats = Stats(store, settings, scanner, boot=boot, connected=connection.connected)
        uplink = Uplink(
            store,
            connection,
            config.station.id,
            mode=config.uplink.topic_mode,
            window=config.uplink.window,
            response_timeout_s=response_timeout_s,
            retention=timedelta(hours=config.uplink.retention_hours),
        )
        telemetry = Telemetry(connection, store, stats)
        commands = Commands(connection, store, settings, stats, reannounce=telemetry.reannounce)
        settings.listeners.append(lambda _config: telemetry.wake.set())
        return cls(connection, uplink, telemetry, commands, stats, on_crash=reporter(store))

    def start(self) -> None:
        self.connection.start()
        stop = self.stop_event
        for name, target in (("uplink", self.uplink.run), ("telemetry", self.telemetry.run)):
            thread = Supervised(name, functools.partial(target, stop), stop, on_crash=self.on_crash)
            thread.start()
            self.threads.append(thread)

    def alive(self) -> bool:
        return bool(self.threads) and all(t.is_alive() for t in self.threads)

    def deliver_now(self) -> None:
        """Start the sender's next round now instead of at its next tick."""
        self.uplink.wake.set()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop the loops (telemetry publishes ``offline`` last), then disconnect."""
        self.stop_event.set()
        self.uplink.halt()
        self.uplink.wake.set()
        self.telemetry.wake.set()
        for thread in self.threads:
            thread.join(timeout=timeout_s)
        self.connection.stop()
