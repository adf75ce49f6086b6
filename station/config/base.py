"""What every section shares: strict frozen models, the defaults, the station id."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

DEFAULT_PATH = Path("/etc/scanstation/station.toml")
DEFAULT_REGISTRATION = r"^DEN-(?P<year>\d{4})-(?P<number>\d{6})$"

StationId = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,32}$")]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def default_data_dir() -> Path:
    """systemd's ``StateDirectory`` for the service, ``/var/lib/scanstation`` as
    root, the user's data folder otherwise."""
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if state:
        return Path(state)
    if os.geteuid() == 0:
        return Path("/var/lib/scanstation")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "scanstation"
