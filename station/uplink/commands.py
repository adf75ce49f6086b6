"""Remote commands from the fleet: ``cmd/{name}`` in, ``cmd-resp/{name}`` out.

A command is ``{"id": "…", "args": {…}}``; the reply is ``{"id", "ok": true,
"result": {…}}`` or ``{"id", "ok": false, "error": {"code", "message": {"vi",
"en"}}}``. Anything malformed or unknown gets an error reply and changes
nothing. A command seen again with the same id (a QoS 1 redelivery) gets the
same reply without running twice. Retained commands are never taken: the
subscription asks the broker not to send them.

Commands (docs/mqtt.md): ``ping``, ``reannounce``, ``config``, ``reset-counter``.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from station import __version__
from station.appliance.stats import RESETTABLE, Stats
from station.config.remote import Settings, current
from station.errors import StationError, UsageError
from station.store import Store, now_iso
from station.wire import topics
from station.wire.mqtt import Connection, json_object
from station.wire.payloads import COMMAND_ID

log = logging.getLogger("scanstation.commands")

NAME = re.compile(r"^[a-z0-9-]{1,32}$")
#: the largest command accepted
MAX_COMMAND = 16 * 1024
#: replies remembered for redelivered commands
REMEMBERED = 256

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class CommandError(StationError):
    exit_code = 2
    code = "command"


class Commands:
    def __init__(
        self,
        connection: Connection,
        store: Store,
        settings: Settings,
        stats: Stats,
        *,
        reannounce: Callable[[], None] = lambda: None,
    ) -> None:
        self.conn = connection
        self.store = store
        self.settings = settings
        self.stats = stats
        self.station_id = settings.config.station.id
        self._reannounce = reannounce
        self._replies: OrderedDict[str, bytes] = OrderedDict()
        self.handlers: dict[str, Handler] = {
            "ping": self.ping,
            "reannounce": self.reannounce,
            "config": self.config,
            "reset-counter": self.reset_counter,
        }
        connection.subscribe(topics.cmd(self.station_id, "+"), self._on_message, retained=False)

    # ------------------------------------------------------------------ dispatch

    def _on_message(self, topic: str, payload: bytes) -> None:
        name = topic.rsplit("/", 1)[-1]
        if not NAME.fullmatch(name):
            name = "invalid"
        reply = self.handle(name, payload)
        self.conn.publish(topics.cmd_resp(self.station_id, name), reply, qos=1)

    def handle(self, name: str, payload: bytes) -> bytes:
        """The reply to one command (run at most once per id)."""
        body = json_object(payload, MAX_COMMAND)
        raw_id = body.get("id") if body else None
        command_id = raw_id if isinstance(raw_id, str) and COMMAND_ID.fullmatch(raw_id) else None
        if command_id is not None and command_id in self._replies:
            return self._replies[command_id]
        try:
            if body is None:
                raise CommandError(
                    f"not a JSON object of at most {MAX_COMMAND} bytes",
                    f"không phải một đối tượng JSON tối đa {MAX_COMMAND} byte",
                )
            if command_id is None:
                raise CommandError(
                    "'id' must be 1-64 letters, digits or _ . : -",
                    "'id' phải gồm 1-64 chữ, số hoặc _ . : -",
                )
            args = body.get("args", {})
            if not isinstance(args, dict) or set(body) - {"id", "args"}:
                shape = '{"id": …, "args": {…}}'
                raise CommandError(f"a command is {shape}", f"lệnh có dạng {shape}")
            handler = self.handlers.get(name)
            if handler is None:
                raise CommandError(
                    f"unknown command {name!r}; known: {', '.join(self.handlers)}",
                    f"không có lệnh {name!r}; các lệnh: {', '.join(self.handlers)}",
                )
            reply: dict[str, Any] = {"id": command_id, "ok": True, "result": handler(args)}
            log.info("command %s (%s) done", name, command_id)
        except StationError as exc:
            log.warning("command %s refused: %s", name, exc.message_en)
            error = {"code": exc.code, "message": {"vi": exc.message_vi, "en": exc.message_en}}
            reply = {"id": command_id, "ok": False, "error": error}
        data = json.dumps(reply, ensure_ascii=False, default=str).encode()
        if command_id is not None:
            self._replies[command_id] = data
            while len(self._replies) > REMEMBERED:
                self._replies.popitem(last=False)
        return data

    # ------------------------------------------------------------------ commands

    def ping(self, args: dict[str, Any]) -> dict[str, Any]:
        _no_args("ping", args)
        return {
            "pong": now_iso(),
            "version": __version__,
            "boot": self.stats.boot,
            "uptime_s": round(time.monotonic() - self.stats.started),
        }

    def reannounce(self, args: dict[str, Any]) -> dict[str, Any]:
        """Publish ``state`` and ``health`` again (the fleet lost its history)."""
        _no_args("reannounce", args)
        self._reannounce()
        return {"state": "online", "health": True}

    def config(self, args: dict[str, Any]) -> dict[str, Any]:
        """``{}``: the settable keys and their values; ``{"section.key": value, …}``:
        change them, all or none, and save them for the next start."""
        if not args:
            return {"settings": current(self.settings.config)}
        try:
            changed = self.settings.change(args)
        except UsageError as exc:
            raise CommandError(exc.message_en, exc.message_vi) from None
        return {"changed": changed}

    def reset_counter(self, args: dict[str, Any]) -> dict[str, Any]:
        """``{"counter": "roller"}``: the feed rollers were replaced."""
        name = args.get("counter")
        if set(args) != {"counter"} or name not in RESETTABLE:
            raise CommandError(
                f'args must be {{"counter": …}} with one of: {", ".join(RESETTABLE)}',
                f'args phải là {{"counter": …}} với một trong: {", ".join(RESETTABLE)}',
            )
        before = self.store.counters()
        was = {counter: before.get(counter, 0) for counter in RESETTABLE[name]}
        for counter in RESETTABLE[name]:
            self.store.reset_counter(counter)
        self.store.events.add(
            f"counter.reset.{name}",
            "info",
            "Đã đặt lại bộ đếm trục cuốn giấy",
            "Roller counter reset",
            {"counter": name, "was": was},
        )
        self._reannounce()
        return {"counter": name, "was": was}


def _no_args(name: str, args: dict[str, Any]) -> None:
    if args:
        raise CommandError(f"{name} takes no args", f"lệnh {name} không nhận tham số")
