"""A station's MQTT session (sender, telemetry, commands) in its own process,
to be killed or stopped by the tests.

python -m tests.helpers.station_child CONFIG.toml
"""

from __future__ import annotations

import sys
from pathlib import Path

from station.appliance.stats import ScannerState
from station.commands import stop_on_signals
from station.config import remote as settings
from station.config.remote import Settings
from station.store import Store
from station.uplink.link import StationLink


def main() -> None:
    config = settings.load(Path(sys.argv[1]))
    stop = stop_on_signals("stopping")
    store = Store(config.station.data_dir)
    link = StationLink.build(store, Settings(config), ScannerState(model="test", status="ready"))
    link.start()
    if not link.connection.connected.wait(20):
        sys.exit("no broker")
    print("ready", flush=True)
    stop.wait()
    link.stop()
    store.close()


if __name__ == "__main__":
    main()
