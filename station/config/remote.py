"""Settings the fleet may change remotely, kept beside the config file.

``station.toml`` is the installer's file (read-only under systemd); the fleet
administrator's changes (the ``config`` command, docs/mqtt.md) go to
``{data_dir}/settings.json``, a JSON object ``{"section": {"key": value}}``
written atomically with mode 0600 and laid over the file at every start.
Only the keys in :data:`REMOTE_KEYS` may be set; every change is validated
against the whole config before it is saved.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from station import config as config_mod
from station.common.fsutil import atomic_write
from station.errors import ConfigError, UsageError
from station.wire.remote import REMOTE_KEYS

FILE_NAME = "settings.json"


def overlay_path(config: config_mod.Config) -> Path:
    return config.station.data_dir / FILE_NAME


def read_overlay(path: Path) -> dict[str, dict[str, Any]]:
    """The saved remote settings ({} when there are none)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (FileNotFoundError, NotADirectoryError):
        return {}  # no settings sent yet (or no data folder: doctor reports that)
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: the fleet's saved settings cannot be read ({exc}). Fix: delete the file "
            "and send the settings again",
            f"{path}: không đọc được cấu hình do trung tâm gửi ({exc}). Cách sửa: xóa tệp rồi "
            "gửi lại cấu hình",
        ) from None
    flat = _flatten(data) if isinstance(data, dict) else None
    if flat is None or not set(flat) <= set(REMOTE_KEYS):
        raise ConfigError(
            f"{path}: holds keys the fleet may not set. Fix: delete the file",
            f"{path}: có khóa không được phép đặt từ xa. Cách sửa: xóa tệp",
        )
    return {section: dict(values) for section, values in data.items()}


def _flatten(data: Mapping[str, Any]) -> dict[str, Any] | None:
    flat: dict[str, Any] = {}
    for section, values in data.items():
        if not isinstance(values, dict):
            return None
        for key, value in values.items():
            flat[f"{section}.{key}"] = value
    return flat


def _merged(config: config_mod.Config, changes: Mapping[str, Any]) -> config_mod.Config:
    data = config.model_dump()
    for dotted, value in changes.items():
        section, key = dotted.split(".", 1)
        data[section][key] = value
    return config_mod.Config.model_validate(data)


def with_overlay(config: config_mod.Config) -> config_mod.Config:
    """``config`` with the saved remote settings laid over it."""
    path = overlay_path(config)
    flat = _flatten(read_overlay(path)) or {}
    if not flat:
        return config
    try:
        return _merged(config, flat)
    except ValidationError as exc:
        problems = "; ".join(_problem(err) for err in exc.errors())
        raise ConfigError(
            f"{path}: {problems}. Fix: delete the file or send valid settings",
            f"{path}: {problems}. Cách sửa: xóa tệp hoặc gửi lại cấu hình hợp lệ",
        ) from None


def load(path: Path | None = None) -> config_mod.Config:
    """The effective config: the file (or defaults), then the remote settings."""
    return with_overlay(config_mod.load(path))


def _problem(err: Any) -> str:
    return f"'{'.'.join(str(p) for p in err['loc'])}': {err['msg']}"


def current(config: config_mod.Config) -> dict[str, Any]:
    """The remotely settable keys and their values now."""
    values: dict[str, Any] = {}
    for dotted in REMOTE_KEYS:
        section, key = dotted.split(".", 1)
        values[dotted] = getattr(getattr(config, section), key)
    return values


class Settings:
    """The station's config now, and the one place that changes it at run time.

    Readers take :attr:`config` each time they need it; :meth:`change` validates,
    saves, swaps and tells the listeners.
    """

    def __init__(self, config: config_mod.Config) -> None:
        self._config = config
        self._lock = threading.Lock()
        self.listeners: list[Callable[[config_mod.Config], None]] = []

    @property
    def config(self) -> config_mod.Config:
        return self._config

    def change(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply ``{"section.key": value}``: all of them, or none with an error."""
        unknown = sorted(set(changes) - set(REMOTE_KEYS))
        if unknown:
            raise UsageError(
                f"cannot be set remotely: {', '.join(unknown)}; allowed: {', '.join(REMOTE_KEYS)}",
                f"không được đặt từ xa: {', '.join(unknown)}",
            )
        if not changes:
            raise UsageError("no settings given", "chưa có cấu hình nào")
        with self._lock:
            try:
                updated = _merged(self._config, changes)
            except ValidationError as exc:
                problems = "; ".join(_problem(err) for err in exc.errors())
                raise UsageError(
                    f"invalid settings: {problems}", f"cấu hình không hợp lệ: {problems}"
                ) from None
            path = overlay_path(updated)
            saved = _flatten(read_overlay(path)) or {}
            saved.update({k: current(updated)[k] for k in changes})
            write_overlay(path, saved)
            self._config = updated
        for listener in self.listeners:
            listener(updated)
        return {k: current(updated)[k] for k in changes}


def write_overlay(path: Path, flat: Mapping[str, Any]) -> None:
    """Write the settings file atomically with mode 0600."""
    nested: dict[str, dict[str, Any]] = {}
    for dotted, value in sorted(flat.items()):
        section, key = dotted.split(".", 1)
        nested.setdefault(section, {})[key] = value
    data = json.dumps(nested, ensure_ascii=False, indent=2, default=str).encode() + b"\n"
    atomic_write(path, data, mode=0o600)
