"""A station without a broker, on a folder of sample scans, for the web tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from station.appliance.station import Station
from station.config import Config
from station.config.remote import Settings
from station.store import Store


def offline_station(data: Path, samples: Path, station_id: str, **ui: Any) -> Station:
    """A station keeping its store in ``data``, scanning ``samples``, with these ``[ui]`` keys."""
    config = Config.model_validate(
        {
            "station": {"id": station_id, "data_dir": str(data)},
            "scanner": {"device": f"folder:{samples}"},
            "ui": ui,
        }
    )
    return Station(Settings(config), Store(config.station.data_dir), connect=False)
