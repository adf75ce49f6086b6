"""The one wrapper around paho-mqtt (2.x, VERSION2 callbacks, MQTT 5).

A :class:`Connection` connects in the background and reconnects with
back-off (1 s doubling to 60 s) for as long as it runs; it subscribes again
after every connect. Messages reach ``on_message(topic, payload)`` on paho's
network thread. TLS comes from a CA and, for per-station identities, a client
certificate and key; a password is read from a file or the environment,
never from the command line.
"""

from __future__ import annotations

import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from station.errors import ConfigError

log = logging.getLogger("scanstation.mqtt")


Handler = Callable[[str, bytes], None]


@dataclass(frozen=True)
class Subscription:
    """A topic filter, its QoS, who handles its messages (None: ``on_message``),
    and whether retained messages are wanted when subscribing."""

    topic_filter: str
    qos: int = 1
    handler: Handler | None = None
    retained: bool = True

    def matches(self, topic: str) -> bool:
        topic_filter = self.topic_filter
        if topic_filter.startswith("$share/"):
            topic_filter = topic_filter.split("/", 2)[2]
        return bool(paho.topic_matches_sub(topic_filter, topic))

    def options(self) -> SubscribeOptions:
        return SubscribeOptions(
            qos=self.qos,
            retainHandling=(
                SubscribeOptions.RETAIN_SEND_ON_SUBSCRIBE
                if self.retained
                else SubscribeOptions.RETAIN_DO_NOT_SEND
            ),
        )


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    qos: int = 1
    retain: bool = True


class Connection:
    def __init__(
        self,
        url: str,
        client_id: str,
        *,
        username: str | None = None,
        password: str | None = None,
        ca_file: Path | None = None,
        cert_file: Path | None = None,
        key_file: Path | None = None,
        keepalive: int = 60,
        will: Will | None = None,
        clean_start: bool = False,
    ) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("mqtt", "mqtts") or not parts.hostname:
            raise ConfigError(
                f"broker URL {url!r}: use mqtts://host:port or mqtt://host:port",
                f"Địa chỉ broker {url!r}: dùng mqtts://máy:cổng hoặc mqtt://máy:cổng",
            )
        self.host = parts.hostname
        self.port = parts.port or (8883 if parts.scheme == "mqtts" else 1883)
        self.keepalive = keepalive
        self.clean_start = clean_start
        #: messages no subscription's own handler takes
        self.on_message: Handler = lambda topic, payload: None
        #: called on paho's thread after every (re)connect and every loss
        self.on_connected: list[Callable[[], None]] = []
        self.on_disconnected: list[Callable[[], None]] = []
        #: topics whose unacknowledged messages paho must not send again after a
        #: reconnect, because the application sends them again from its store
        self.not_replayed: Callable[[str], bool] = lambda topic: False
        self.subscriptions: list[Subscription] = []
        #: True while a handler runs for a retained message (one network thread)
        self.retained = False
        self.connected = threading.Event()
        #: set once the broker has acknowledged every subscription of the
        #: connection (SUBACK): from then on nothing published to them is missed
        self.ready = threading.Event()
        self._pending: set[int] = set()
        self._pending_lock = threading.Lock()
        self.client = paho.Client(
            CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5
        )
        self.client.reconnect_delay_set(min_delay=1, max_delay=60)
        self.client.max_inflight_messages_set(64)
        if username:
            self.client.username_pw_set(username, password)
        if parts.scheme == "mqtts":
            context = ssl.create_default_context(cafile=str(ca_file) if ca_file else None)
            if cert_file and key_file:
                context.load_cert_chain(str(cert_file), str(key_file))
            self.client.tls_set_context(context)
        if will is not None:
            self.client.will_set(will.topic, will.payload, qos=will.qos, retain=will.retain)
        self.client.on_connect = self._connected
        self.client.on_disconnect = self._disconnected
        self.client.on_message = self._message
        self.client.on_subscribe = self._acknowledged

    def start(self) -> None:
        properties = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        properties.SessionExpiryInterval = 0 if self.clean_start else 3600
        self.client.connect_async(
            self.host,
            self.port,
            keepalive=self.keepalive,
            clean_start=self.clean_start,
            properties=properties,
        )
        self.client.loop_start()

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()
        self.connected.clear()

    def subscribe(
        self,
        topic_filter: str,
        handler: Handler | None = None,
        *,
        qos: int = 1,
        retained: bool = True,
    ) -> None:
        """Subscribe now if connected, and again after every reconnect."""
        subscription = Subscription(topic_filter, qos, handler, retained)
        self.subscriptions.append(subscription)
        if self.connected.is_set():
            with self._pending_lock:  # its SUBACK is noted after it is awaited
                self._await(self.client.subscribe(topic_filter, options=subscription.options()))

    def publish(
        self, topic: str, payload: bytes, qos: int = 1, retain: bool = False
    ) -> paho.MQTTMessageInfo:
        return self.client.publish(topic, payload, qos=qos, retain=retain)

    # ------------------------------------------------------------ paho callbacks

    def _connected(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            log.warning("broker refused the connection: %s", reason)
            return
        setsockopt = getattr(client.socket(), "setsockopt", None)
        if setsockopt is not None:
            # small awaited answers: no 40 ms waits for Nagle's algorithm
            setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._drop_replays(client)
        with self._pending_lock:
            self._pending.clear()
            for subscription in self.subscriptions:
                sent = client.subscribe(subscription.topic_filter, options=subscription.options())
                self._await(sent)
            if not self._pending:
                self.ready.set()
        self.connected.set()
        log.info("connected to %s:%s", self.host, self.port)
        for hook in self.on_connected:
            hook()

    def _disconnected(
        self,
        client: paho.Client,
        userdata: object,
        flags: paho.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        self.connected.clear()
        self.ready.clear()
        log.info("disconnected from %s:%s: %s", self.host, self.port, reason)
        for hook in self.on_disconnected:
            hook()

    def _await(self, sent: tuple[int, int | None]) -> None:
        """Note a SUBSCRIBE sent (under ``_pending_lock``): ``ready`` waits for its SUBACK."""
        result, mid = sent
        if result == paho.MQTT_ERR_SUCCESS and mid is not None:
            self._pending.add(mid)
            self.ready.clear()

    def _acknowledged(
        self,
        client: paho.Client,
        userdata: object,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        with self._pending_lock:
            self._pending.discard(mid)
            if not self._pending:
                self.ready.set()

    def _drop_replays(self, client: paho.Client) -> None:
        """paho sends every unacknowledged QoS 1 message again on reconnect, from
        memory; paho calls on_connect just before. The station's store is the
        real store-and-forward layer (docs/mqtt.md#delivery-on-the-station), so
        messages it resends itself are dropped here instead of travelling twice.
        paho 2.x keeps them in ``_out_messages``; without it nothing is dropped."""
        messages = getattr(client, "_out_messages", None)
        mutex = getattr(client, "_out_message_mutex", None)
        if messages is None or mutex is None:
            return
        with mutex:
            for mid in [m for m, msg in messages.items() if self.not_replayed(msg.topic)]:
                del messages[mid]

    def _message(self, client: paho.Client, userdata: object, message: paho.MQTTMessage) -> None:
        topic, payload = message.topic, bytes(message.payload)
        self.retained = bool(message.retain)
        handlers = [s.handler for s in self.subscriptions if s.handler and s.matches(topic)]
        for handler in list(dict.fromkeys(handlers)) or [self.on_message]:
            try:
                handler(topic, payload)
            except Exception:  # a bad message must not stop the network thread
                log.exception("could not handle a message on %r", topic[:200])


def json_object(payload: bytes, limit: int) -> dict[str, Any] | None:
    """A message's JSON object, or None when it is larger than ``limit``, not
    UTF-8, not JSON or not an object (hostile messages are results, not errors)."""
    if len(payload) > limit:
        return None
    try:
        value = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return value if isinstance(value, dict) else None
