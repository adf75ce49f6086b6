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


def connection_for(config: Config, boot: int, broker: str | None = None) -> Connection:
    """The station's connection as ``[uplink]`` describes it: broker URL and TLS
    files, username (default: the station id), password from ``password_file``
    or ``SCANSTATION_MQTT_PASSWORD``, keep-alive, and the last will ``lost``.
    With another ``broker`` (``[security] secret_broker``): the same identity
    there, under the client id ``{station}-secret`` and without a last will."""
    up = config.uplink
    station_id = config.station.id
    return Connection(
        broker or up.broker,
        f"{station_id}-secret" if broker else station_id,
        username=up.username or station_id,
        password=read_secret(up.password_file, "SCANSTATION_MQTT_PASSWORD"),
        ca_file=up.ca_file,
        cert_file=up.cert_file,
        key_file=up.key_file,
        keepalive=up.keepalive_s,
        will=None if broker else last_will(station_id, boot),
    )


@dataclass
class StationLink:
    connection: Connection
    uplink: Uplink
    telemetry: Telemetry
    commands: Commands
    stats: Stats
    #: an independent LAN's sender of secret documents, under their own topic
    #: root (on its own connection when ``secret_broker`` is another broker)
    secret_uplink: Uplink | None = None
    secret_connection: Connection | None = None
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
        secret_uplink = secret_connection = None
        security = config.security
        if security.network == "independent_lan" and security.secret_topic_root:
            other = security.secret_broker not in (None, config.uplink.broker)
            secret_connection = (
                connection_for(config, boot, security.secret_broker) if other else None
            )
            secret_uplink = Uplink(
                store,
                secret_connection or connection,
                config.station.id,
                window=config.uplink.window,
                response_timeout_s=response_timeout_s,
                retention=timedelta(hours=config.uplink.retention_hours),
                base=security.secret_topic_root,
                route="secret",
            )
        return cls(
            connection, uplink, telemetry, commands, stats, secret_uplink, secret_connection,
            on_crash=reporter(store),
        )  # fmt: skip

    @property
    def senders(self) -> list[Uplink]:
        return [self.uplink] + ([self.secret_uplink] if self.secret_uplink else [])

    def start(self) -> None:
        self.connection.start()
        if self.secret_connection is not None:
            self.secret_connection.start()
        stop = self.stop_event
        loops = [("uplink", self.uplink.run), ("telemetry", self.telemetry.run)]
        if self.secret_uplink is not None:
            loops.append(("uplink-secret", self.secret_uplink.run))
        for name, target in loops:
            thread = Supervised(name, functools.partial(target, stop), stop, on_crash=self.on_crash)
            thread.start()
            self.threads.append(thread)

    def alive(self) -> bool:
        return bool(self.threads) and all(t.is_alive() for t in self.threads)

    def deliver_now(self) -> None:
        """Start the senders' next round now instead of at their next tick."""
        for sender in self.senders:
            sender.wake.set()

    def stop(self, timeout_s: float = 15.0) -> None:
        """Stop the loops (telemetry publishes ``offline`` last), then disconnect."""
        self.stop_event.set()
        for sender in self.senders:
            sender.halt()
            sender.wake.set()
        self.telemetry.wake.set()
        for thread in self.threads:
            thread.join(timeout=timeout_s)
        if self.secret_connection is not None:
            self.secret_connection.stop()
        self.connection.stop()
