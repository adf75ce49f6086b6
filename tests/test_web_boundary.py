"""What both web apps check before any route runs: the Host (DNS rebinding),
the path's bytes, redirects that stay on the site, and the number of open
live-update streams. Over the Flask test client with explicit Host headers and
over real sockets to the werkzeug server the station runs."""

from __future__ import annotations

import http.client
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from station import config
from station.appliance.station import Station
from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.cli import build_parser
from station.commands.central import _host_names
from station.common.auth import hash_secret
from station.config import Config
from station.errors import ConfigError, UsageError
from station.ui import Services, WebSettings, create_app
from station.ui.app import WebServer
from station.ui.security import local_target
from station.wire.mqtt import Connection
from tests.helpers.offline_station import offline_station

PASSWORD = "mật-khẩu"


def _station(tmp_path: Path, samples: Path, **ui: Any) -> Station:
    return offline_station(tmp_path / "data", samples, "st-web", **ui)


@pytest.fixture
def station(tmp_path: Path, sample_scans: Path) -> Iterator[Station]:
    st = _station(tmp_path, sample_scans)
    yield st
    st.store.close()


@pytest.fixture
def fleet(tmp_path: Path) -> Iterator[Fleet]:
    db = FleetDB(tmp_path / "fleet")
    yield Fleet(Connection("mqtt://127.0.0.1:1", "fleet-x"), db)
    db.close()


def _client(station: Station, **web: Any) -> FlaskClient:
    settings = WebSettings(data_dir=station.store.data_dir, **web)
    return create_app(settings, Services(station=station)).test_client()


def _token(client: FlaskClient, path: str = "/", **kw: Any) -> str:
    page = client.get(path, **kw).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


# ------------------------------------------------------------------ Host (finding 4)

LOOPBACK_HOSTS = [
    "localhost",
    "localhost:8080",
    "LocalHost:8080",
    "127.0.0.1",
    "127.0.0.1:8080",
    "127.0.0.1:9999",  # an SSH tunnel's own port
    "[::1]",
    "[::1]:8080",
]
FOREIGN_HOSTS = [
    "evil.example:18080",
    "evil.example",
    "localhost.evil.example:8080",
    "127.0.0.1.nip.io:8080",
    "192.168.1.20:8080",
    "localhost:80x",
    "localhost:",
    "[::1",
    "::1",
    "",
]


@pytest.mark.parametrize("host", LOOPBACK_HOSTS)
def test_the_station_answers_its_loopback_names(station: Station, host: str) -> None:
    client = _client(station)
    assert client.get("/", headers={"Host": host}).status_code == 200


@pytest.mark.parametrize("host", FOREIGN_HOSTS)
def test_the_station_refuses_other_host_names(station: Station, host: str) -> None:
    client = _client(station)
    # a token from a real page: only the Host stops the action
    token = _token(client)
    for method, path, data in [
        ("GET", "/", None),
        ("GET", "/api/status", None),
        ("GET", "/work/thumbs/x.jpg", None),
        ("GET", "/settings", None),
        ("POST", "/outbox/d1/retry", {"csrf_token": token}),
        ("GET", "/no/such/route", None),
    ]:
        answer = client.open(path, method=method, data=data, headers={"Host": host})
        assert answer.status_code == 421, (method, path)
        assert "không thuộc trạm" in answer.get_data(as_text=True)
    assert station.store.query("SELECT count(*) AS n FROM events")[0]["n"] == 0


def test_a_refused_action_does_not_run(station: Station, tmp_path: Path) -> None:
    pdf = tmp_path / "d1.pdf"
    pdf.write_bytes(b"%PDF-1.7 " + b"x" * 5000)
    station.store.outbox.enqueue("d1", pdf, {"Registration": "DEN-2026-000001"}, 4096)
    news = station.hub.subscribe()  # "Gửi lại ngay" tells every screen
    client = _client(station)
    token = _token(client)
    refused = client.post(
        "/outbox/d1/retry",
        data={"csrf_token": token},
        headers={"Host": "evil.example:18080", "Accept": "application/json"},
    )
    assert refused.status_code == 421 and news.empty()
    done = client.post(
        "/outbox/d1/retry",
        data={"csrf_token": token},
        headers={"Host": "localhost:8080", "Accept": "application/json"},
    )
    assert done.json == {"ok": True} and news.get_nowait()[0] == "outbox"


def test_extra_names_and_the_listen_address(station: Station) -> None:
    client = _client(
        station,
        listen="192.168.1.20:8080",
        password_hash=hash_secret(PASSWORD, iterations=1000),
        allowed_hosts=("scan-01.lan",),
    )
    for host in ("192.168.1.20:8080", "192.168.1.20", "scan-01.lan", "SCAN-01.lan:8080"):
        assert client.get("/login", headers={"Host": host}).status_code == 200, host
    for host in ("scan-02.lan", "evil.example:8080", "192.168.1.21:8080"):
        assert client.get("/login", headers={"Host": host}).status_code == 421, host


def test_allowed_hosts_in_the_config(tmp_path: Path) -> None:
    ui = Config.model_validate(
        {"ui": {"allowed_hosts": ["Scan-01.LAN", "[fe80::1]", "10.0.0.5"]}}
    ).ui
    assert ui.allowed_hosts == ("scan-01.lan", "fe80::1", "10.0.0.5")
    path = tmp_path / "station.toml"
    for bad in ("http://scan-01.lan", "scan-01.lan:8080", "a b", "*", ""):
        path.write_text(f'[ui]\nallowed_hosts = ["{bad}"]\n', encoding="utf-8")
        with pytest.raises(ConfigError, match=r"station.toml:2: 'ui.allowed_hosts'"):
            config.load(path)


def test_the_fleet_refuses_other_host_names(fleet: Fleet, tmp_path: Path) -> None:
    settings = WebSettings(data_dir=tmp_path, allowed_hosts=_host_names(["fleet.so.gov.vn"]))
    client = create_app(settings, Services(fleet=fleet)).test_client()
    for host in ("localhost:8090", "[::1]:8090", "fleet.so.gov.vn", "fleet.so.gov.vn:443"):
        assert client.get("/api/stations", headers={"Host": host}).status_code == 200
    for host in ("evil.example:8090", "fleet.so.gov.vn.evil.example"):
        assert client.get("/api/stations", headers={"Host": host}).status_code == 421
        assert client.get("/metrics", headers={"Host": host}).status_code == 421
    args = build_parser().parse_args(
        ["fleet", "--broker", "mqtt://127.0.0.1:1", "--allowed-host", "a.lan",
         "--allowed-host", "10.0.0.9"]
    )  # fmt: skip
    assert _host_names(args.allowed_host) == ("a.lan", "10.0.0.9")
    with pytest.raises(UsageError, match="--allowed-host"):
        _host_names(["evil.example:80"])


def _raw(port: int, path: str, host: str, method: str = "GET") -> http.client.HTTPResponse:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
    conn.putheader("Host", host)
    conn.endheaders()
    return conn.getresponse()


@pytest.fixture
def served(station: Station) -> Iterator[tuple[Station, int]]:
    web = WebSettings(listen="127.0.0.1:0", data_dir=station.store.data_dir)
    server = WebServer(create_app(web, Services(station=station)), web)
    server.start()
    yield station, int(server.server.server_address[1])
    server.stop()


def test_dns_rebinding_over_a_real_socket(served: tuple[Station, int]) -> None:
    _, port = served
    foreign = _raw(port, "/api/status", f"evil.example:{port}")
    assert foreign.status == 421 and "không thuộc trạm".encode() in foreign.read()
    own = _raw(port, "/api/status", f"localhost:{port}")
    assert own.status == 200 and b"scanner" in own.read()


# ------------------------------------------------------------------ bad paths (finding 9)


@pytest.mark.parametrize(
    "path",
    [
        "/work/a%00b",
        "/work/%00",
        "/work/thumbs/%00.jpg",
        "/work/%ff",
        "/work/%c0%af",
        "/work/%ed%a0%80",
        "/work/a%0ab",
        "/work/a%7fb",
        "/work/a%09b",
        "/batch/%00",
        "/api/batch/%00",
        "/work/no-such-file.jpg",
    ],
)
def test_bad_paths_are_not_found(station: Station, path: str) -> None:
    answer = _client(station).get(path)
    assert answer.status_code == 404


def test_a_nul_byte_over_a_real_socket(served: tuple[Station, int]) -> None:
    _, port = served
    for path in ("/work/a%00b", "/work/%ff%fe", "/batch/%00/docs"):
        answer = _raw(port, path, f"127.0.0.1:{port}")
        assert answer.status == 404, path
        answer.read()


# ------------------------------------------------------------------ redirects (finding 9)

REDIRECTS = [
    ("/%09/evil.example", "/"),  # the campaign's payload: a tab browsers drop
    ("/%2F/evil.example", "/"),
    ("/%5Cevil.example", "/"),
    ("/%0d%0a/evil.example", "/"),
    ("/\t/evil.example", "/"),
    ("/\n/evil.example", "/"),
    ("/\r\n/evil.example", "/"),
    ("/\x00/evil.example", "/"),
    ("/\x7f/evil.example", "/"),
    ("//evil.example", "/"),
    ("///evil.example", "/"),
    ("/\\evil.example", "/"),
    ("\\\\evil.example", "/"),
    ("https://evil.example/", "/"),
    ("http:evil.example", "/"),
    ("javascript:alert(1)", "/"),
    ("evil.example", "/"),
    (" //evil.example", "/"),
    ("", "/"),
    ("/", "/"),
    ("/batch/b1", "/batch/b1"),
    ("/register?from=2026-01&to=2026-02", "/register?from=2026-01&to=2026-02"),
    ("/settings", "/settings"),
]


@pytest.mark.parametrize(("raw", "kept"), REDIRECTS)
def test_only_local_redirects(raw: str, kept: str) -> None:
    assert local_target(raw) == kept


def test_sign_in_does_not_send_you_elsewhere(fleet: Fleet, tmp_path: Path) -> None:
    settings = WebSettings(
        listen="0.0.0.0:8090",
        data_dir=tmp_path,
        password_hash=hash_secret(PASSWORD, iterations=1000),
    )
    client = create_app(settings, Services(fleet=fleet)).test_client()
    for query, where in [
        ("next=/%09/evil.example", "/"),
        ("next=%2F%09%2Fevil.example", "/"),
        ("next=/%5Cevil.example", "/"),
        ("next=/alerts", "/alerts"),
    ]:
        token = _token(client, f"/login?{query}")
        answer = client.post(f"/login?{query}", data={"password": PASSWORD, "csrf_token": token})
        assert answer.status_code == 302
        assert answer.headers["Location"] == where, query
        client.post("/logout", data={"csrf_token": token})


# ------------------------------------------------------------------ live streams (finding 9)


def _stream(port: int) -> tuple[http.client.HTTPConnection, http.client.HTTPResponse]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", "/api/events", headers={"Host": f"127.0.0.1:{port}"})
    return conn, conn.getresponse()


def test_live_streams_are_capped(tmp_path: Path, sample_scans: Path) -> None:
    station = _station(tmp_path, sample_scans, max_live_streams=3)
    web = WebSettings(listen="127.0.0.1:0", data_dir=station.store.data_dir)
    server = WebServer(create_app(web, Services(station=station)), web)
    server.start()
    port = int(server.server.server_address[1])
    opened: list[http.client.HTTPConnection] = []
    try:
        for _ in range(3):
            conn, answer = _stream(port)
            opened.append(conn)
            assert answer.status == 200
            assert answer.readline() == b"retry: 2000\n"
        conn, refused = _stream(port)
        assert refused.status == 503 and refused.headers["Retry-After"] == "5"
        assert b"Too many" in refused.read()
        conn.close()
        # a screen that closes gives its place back (noticed at its next write)
        opened.pop().close()
        deadline = time.monotonic() + 10
        while True:
            station.hub.publish("scanner", status="ready")
            conn, answer = _stream(port)
            if answer.status == 200:
                opened.append(conn)
                break
            conn.close()
            assert time.monotonic() < deadline, "the closed stream kept its place"
            time.sleep(0.2)
    finally:
        for conn in opened:
            conn.close()
        server.stop()
        station.store.close()
