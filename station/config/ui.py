"""[ui]: the counter's web interface: where it listens, who may use it, its PIN."""

from __future__ import annotations

import ipaddress
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_core import PydanticCustomError

from station.common.listen import is_loopback
from station.config.base import (
    Strict,
)

PinGroup = Literal["scan", "edit", "delete", "confirm", "export", "settings"]
KeyboardMode = Literal["touch", "always", "button"]
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def host_name_or_address(value: str) -> str:
    """A host name or IP address as a browser sends it in ``Host`` (no port), lower-case."""
    name = value.strip().lower()
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if not _HOST_NAME.match(name):
        raise ValueError(f"{value!r} is not a host name or IP address (no port, no scheme)")
    return name


class UiSection(Strict):
    listen: str = Field(
        "127.0.0.1:8080",
        description="Address and port of the station UI. Anything other than loopback "
        "needs password_hash.",
    )
    password_hash: str | None = Field(
        None,
        description="Hash of the UI password (scanstation passwd prints one); required when "
        "listen is not loopback.",
    )
    pin_hash: str | None = Field(
        None,
        description="Hash of the PIN that opens settings and diagnostics, and the actions "
        "listed in require_pin_for.",
    )
    require_pin_for: tuple[PinGroup, ...] = Field(
        ("settings",),
        description="The counter's actions that need the PIN (open for 10 minutes once "
        "entered): scan (Quét), edit (page and field changes, the register's later columns, "
        "stopping the countdown), delete (deleting a page), confirm (Xác nhận và gửi, Gửi "
        "lại ngay), export (register downloads), settings. Anything but settings needs "
        "pin_hash.",
    )
    allowed_hosts: tuple[str, ...] = Field(
        (),
        description="Host names or addresses (no port) the UI also answers to, besides "
        "localhost, 127.0.0.1, [::1] and listen's own address; a request for any other "
        "name is refused (421). Name the station's LAN name or address here when listen is "
        "0.0.0.0.",
    )
    max_live_streams: int = Field(
        16,
        ge=1,
        le=256,
        description="Live-update streams (/api/events) open at once; more are refused with "
        "503 and Retry-After. Each open screen holds one.",
    )
    keyboard: KeyboardMode = Field(
        "touch",
        description="When the on-screen Vietnamese keyboard opens by itself: touch (a text "
        "field is tapped on a touchscreen), always (a text field gets the focus, for a "
        "touchscreen the browser takes for a mouse), or button (only from the ⌨ button).",
    )

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("use HOST:PORT, e.g. 127.0.0.1:8080")
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError as exc:
            if host != "localhost":
                raise ValueError("HOST must be an IP address or localhost") from exc
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(host_name_or_address(name) for name in value)

    @field_validator("password_hash", "pin_hash")
    @classmethod
    def _hash_format(cls, value: str | None) -> str | None:
        from station.common.auth import is_hash

        if value is not None and not is_hash(value):
            raise ValueError("not a password hash: make one with `scanstation passwd`")
        return value

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.listen.rpartition(":")[0].strip("[]"))

    @model_validator(mode="after")
    def _password_when_exposed(self) -> UiSection:
        if not self.is_loopback and not self.password_hash:
            raise PydanticCustomError(
                "config_key",
                "{value} is not loopback, so password_hash is required "
                "(make one with `scanstation passwd`), or listen on 127.0.0.1",
                {"key": "listen", "value": self.listen},
            )
        beyond = sorted(set(self.require_pin_for) - {"settings"})
        if beyond and not self.pin_hash:
            raise PydanticCustomError(
                "config_key",
                "require_pin_for lists {value} but pin_hash is not set "
                "(make one with `scanstation passwd --pin`)",
                {"key": "require_pin_for", "value": ", ".join(beyond)},
            )
        return self
