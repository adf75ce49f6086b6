"""The appliance: ``scanstation run``."""

from __future__ import annotations

import argparse
import logging

from station.appliance import systemd
from station.commands import load_config, say, stop_on_signals


def cmd_run(args: argparse.Namespace) -> int:
    from station.appliance.station import Station
    from station.config.remote import Settings
    from station.store import Store
    from station.ui import Services, WebSettings, create_app
    from station.ui.app import WebServer

    config = load_config(args)
    for handler in logging.getLogger().handlers:  # the journal keeps the station's INFO lines
        handler.setLevel(min(handler.level, logging.INFO))
    web = WebSettings(
        listen=config.ui.listen,
        password_hash=config.ui.password_hash,
        data_dir=config.station.data_dir,
        language=config.station.language,
        allowed_hosts=config.ui.allowed_hosts,
    )
    web.check()
    stop = stop_on_signals("Đang dừng… / stopping…")
    with Store(
        config.station.data_dir, min_free_bytes=config.station.min_free_mb * 2**20, owner=True
    ) as store:
        settings = Settings(config)
        station = Station(settings, store, connect=not args.offline)
        server = WebServer(
            create_app(web, Services(station=station)), web, on_crash=station.report_crash
        )
        station.start()
        server.start()
        say(f"Trạm quét / scan station {config.station.id}: {server.url}/")
        systemd.notify("READY=1", f"STATUS=scanning station {config.station.id} on {server.url}")
        interval = systemd.watchdog_interval()
        if interval is not None:
            systemd.Watchdog(station.alive, stop, interval).start()
        try:
            stop.wait()
        finally:
            systemd.notify("STOPPING=1", "STATUS=stopping: finishing the page being written")
            server.stop()
            station.stop()
    say("Đã dừng / stopped")
    return 0
