"""A station's delivery loop in its own process, to be killed by the tests.

python -m tests.helpers.uplink_child DATA_DIR BROKER_URL
"""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from station.store import Store
from station.uplink.sender import Uplink
from station.wire.mqtt import Connection


def main() -> None:
    data, url = Path(sys.argv[1]), sys.argv[2]
    store = Store(data)
    conn = Connection(url, "st-a")
    uplink = Uplink(store, conn, "st-a", window=4, response_timeout_s=5)
    conn.start()
    print("ready", flush=True)
    uplink.run(threading.Event())


if __name__ == "__main__":
    main()
