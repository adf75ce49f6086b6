"""Reading ``station.toml``: a config, or a refusal that names the key, the line and the fix."""

from __future__ import annotations

import os
from pathlib import Path

from station.common.tomlconfig import parse_toml
from station.config.base import (
    DEFAULT_PATH,
)
from station.config.model import Config
from station.errors import ConfigError


def load(path: Path | None = None) -> Config:
    """Load and validate a config file; ``None`` means the default path if it exists.

    With no file at all the built-in defaults are used.
    """
    if path is None:
        if not DEFAULT_PATH.exists():
            return Config()
        path = DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist. Fix: copy "
            f"firmware_config/station.example.toml to {path} and edit it",
            f"Không có tệp cấu hình {path}. Cách sửa: chép "
            f"firmware_config/station.example.toml sang {path} rồi sửa",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc}", f"Không đọc được tệp cấu hình {path}: {exc}"
        ) from None
    return parse(text, source=str(path))


def parse(text: str, source: str = "station.toml") -> Config:
    return parse_toml(text, Config, source)


def read_secret(file: Path | None, env: str) -> str | None:
    """A secret from the environment variable ``env`` or from ``file`` (first line)."""
    value = os.environ.get(env)
    if value:
        return value
    if file is None:
        return None
    try:
        return file.read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, IndexError) as exc:
        raise ConfigError(
            f"cannot read secret file {file}: {exc}",
            f"Không đọc được tệp bí mật {file}: {exc}",
        ) from None


# --------------------------------------------------------------------------- reference
