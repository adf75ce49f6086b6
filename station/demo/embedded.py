"""The embedded default (docs/cli.md, `demo`): the whole system on one machine, on loopback.

- a virtual scanner: the generated Vietnamese sample stack, fed at a feeder's pace;
- mosquitto, started as a child process on a free port;
- the central receiver, storing delivered documents under ``DATA/central`` and
  handing each to the DMS as edXML in ``DATA/dms-inbox``;
- a stand-in for the agency's DMS that answers each document 03, 04, 05, 06;
- the station with its UI;
- the fleet dashboard.

:class:`Demo` starts them in that order and stops them in the reverse one.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from station.appliance.station import Station
from station.central.agencies import Agency
from station.central.dms import DmsHandOff
from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.central.receiver import Receiver
from station.central.settings import DmsSettings
from station.config import Config
from station.config.remote import Settings
from station.demo.dms import DmsStandIn
from station.demo.localbroker import LocalBroker, free_port
from station.demo.samples import write_sample_batch
from station.edxml import Organ
from station.store import Store
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from station.wire.mqtt import Connection

STATION_ID = "demo-vt01"
UNIT = "Viện kiểm sát nhân dân tỉnh Thanh Hóa"
#: our agency as its DMS knows it (a demo OrganId: H99 is no province)
DMS = Organ(organ_id="000.00.00.H99", organ_name=UNIT)
#: the issuing agencies of the sample batch, in the demo's agency directory
AGENCIES = (
    Agency("000.00.00.H99", UNIT),
    Agency("000.00.12.H99", "Sở Tư pháp", "Ủy ban nhân dân tỉnh Thanh Hóa"),
    Agency("000.00.03.H99", "Viện kiểm sát nhân dân khu vực 3", UNIT),
)


@dataclass
class Demo:
    data_dir: Path
    pace_s: float = 0.5
    auto_confirm_s: int = 10
    #: seconds between the stand-in DMS's answers (03, 04, 05, 06)
    dms_step_s: float = 3.0
    broker: LocalBroker | None = None
    station: Station | None = None
    store: Store | None = None
    urls: dict[str, str] = field(default_factory=dict)
    _stops: list[Any] = field(default_factory=list)

    @property
    def samples(self) -> Path:
        return self.data_dir / "virtual-scanner"

    @property
    def central(self) -> Path:
        return self.data_dir / "central"

    def start(self) -> None:
        try:
            self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not any(self.samples.glob("scan_*.jpg")):
            write_sample_batch(self.samples, dpi=200)
        folder = self.data_dir / "broker"
        folder.mkdir(exist_ok=True)
        self.broker = LocalBroker(folder)
        self.broker.start()
        self._stops.append(self.broker.stop)
        self.urls["broker"] = self.broker.url

        tag = f"{socket.gethostname()}-{os.getpid()}"[:40]
        receiver = Connection(self.broker.url, f"demo-central-{tag}", clean_start=True)
        dms = DmsHandOff(self._dms_settings(), receiver)
        Receiver(receiver, self.central, hand_off=dms.gateway.delivered)
        receiver.start()
        self._stops.append(receiver.stop)
        dms.start()
        self._stops.append(dms.stop)
        stand_in = DmsStandIn(dms.settings.edxml.inbox, DMS, step_s=self.dms_step_s)
        stand_in.start()
        self._stops.append(stand_in.stop)
        self.urls["dms"] = str(dms.settings.edxml.inbox)

        fleet_dir = self.data_dir / "fleet"
        db = FleetDB(fleet_dir)
        self._stops.append(db.close)
        fleet_conn = Connection(self.broker.url, f"demo-fleet-{tag}")
        fleet = Fleet(fleet_conn, db)
        fleet_conn.start()
        self._stops.append(fleet_conn.stop)
        fleet.alerting.start()
        self._stops.append(fleet.alerting.stop)
        fleet_web = WebSettings(listen=f"127.0.0.1:{free_port()}", data_dir=fleet_dir)
        fleet_server = WebServer(create_app(fleet_web, Services(fleet=fleet)), fleet_web)
        fleet_server.start()
        self._stops.append(fleet_server.stop)
        self.urls["fleet"] = f"{fleet_server.url}/"

        config = Config.model_validate(
            {
                "station": {
                    "id": STATION_ID,
                    "unit_name": UNIT,
                    "data_dir": str(self.data_dir / "station"),
                },
                "scanner": {"device": f"folder:{self.samples}?pace={self.pace_s}"},
                "pipeline": {"auto_confirm_seconds": self.auto_confirm_s},
                "uplink": {"broker": self.broker.url, "keepalive_s": 10},
                "telemetry": {"interval_s": 10},
                "ui": {"listen": f"127.0.0.1:{free_port()}"},
            }
        )
        self.store = Store(config.station.data_dir, owner=True)
        self._stops.append(self.store.close)
        self.station = Station(Settings(config), self.store)
        web = WebSettings(listen=config.ui.listen, data_dir=config.station.data_dir)
        server = WebServer(create_app(web, Services(station=self.station)), web)
        self.station.start()
        self._stops.append(self.station.stop)
        server.start()
        self._stops.append(server.stop)
        self.urls["station"] = f"{server.url}/"
        self.urls["central"] = str(self.central)

    def _dms_settings(self) -> DmsSettings:
        """Our agency and the agencies of the sample batch (demo OrganIds)."""
        directory = self.data_dir / "agencies.csv"
        directory.write_text(
            "organ_id,name,in_charge\n"
            + "".join(f"{a.organ_id},{a.name},{a.in_charge}\n" for a in AGENCIES),
            encoding="utf-8",
        )
        return DmsSettings.model_validate(
            {
                "agency": {"organ_id": DMS.organ_id, "name": DMS.organ_name},
                "edxml": {"inbox": str(self.data_dir / "dms-inbox"), "directory": str(directory)},
            }
        )

    def stop(self) -> None:
        while self._stops:
            self._stops.pop()()
