"""Guessing the PIN or the password is throttled (one Throttle for the three
ways in), and the counter's actions can be put behind the PIN by group."""

from __future__ import annotations

import base64
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from station.appliance.station import Station
from station.central.fleet import Fleet
from station.central.fleetdb import FleetDB
from station.common.auth import hash_secret
from station.errors import ConfigError
from station.ui import Services, WebSettings, create_app
from station.ui.review import pin
from station.ui.security import PasswordCheck
from station.ui.throttle import Throttle, client_key
from station.wire.mqtt import Connection
from tests.helpers.offline_station import offline_station

PIN = "2468"
PASSWORD = "mật-khẩu"
JSON = {"Accept": "application/json"}


def _station(tmp_path: Path, samples: Path, **ui: Any) -> Station:
    pin = hash_secret(PIN, iterations=1000)
    return offline_station(tmp_path / "data", samples, "st-pin", pin_hash=pin, **ui)


@pytest.fixture
def station(tmp_path: Path, sample_scans: Path) -> Iterator[Station]:
    st = _station(tmp_path, sample_scans)
    yield st
    st.store.close()


def _app(station: Station) -> Flask:
    return create_app(WebSettings(data_dir=station.store.data_dir), Services(station=station))


def _token(client: FlaskClient, path: str = "/") -> str:
    page = client.get(path).get_data(as_text=True)
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None, page
    return found.group(1)


# ------------------------------------------------------------------ the throttle


def test_the_wait_doubles_up_to_its_limit() -> None:
    now = [0.0]
    brake = Throttle(free_tries=3, first_wait_s=1, max_wait_s=60, clock=lambda: now[0])
    assert [brake.failed("a") for _ in range(3)] == [0, 0, 0]
    waits = []
    for _ in range(9):
        waits.append(brake.failed("a"))
        assert brake.wait("a") == waits[-1] and brake.wait("b") == 0
        now[0] += waits[-1]
        assert brake.wait("a") == 0
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60, 60]
    brake.succeeded("a")
    assert brake.failed("a") == 0  # a right secret starts afresh
    now[0] += 24 * 3600 + 1
    assert [brake.failed("a") for _ in range(3)] == [0, 0, 0]  # so does a day's silence


def test_clients_are_told_apart_by_address_and_ipv6_network() -> None:
    assert client_key("192.0.2.7") == "192.0.2.7"
    assert client_key("::ffff:192.0.2.7") == "192.0.2.7"
    assert client_key("2001:db8:1:2::5") == client_key("2001:db8:1:2:ffff::9")
    assert client_key("2001:db8:1:2::5") != client_key("2001:db8:1:3::5")
    brake = Throttle(max_clients=2)
    for who in ("a", "b", "c"):
        brake.failed(who)
    assert len(brake._clients) == 2


def test_one_throttle_class_for_pin_password_and_basic(station: Station, tmp_path: Path) -> None:
    app = _app(station)
    assert isinstance(app.extensions["pin_throttle"], Throttle)
    check = app.extensions["check_password"]
    assert isinstance(check, PasswordCheck) and isinstance(check.throttle, Throttle)


def test_wrong_pins_are_throttled_and_the_wait_grows(station: Station) -> None:
    client = _app(station).test_client()
    token = _token(client, "/pin")

    def attempt(value: str) -> Any:
        return client.post("/pin", data={"pin": value, "csrf_token": token})

    for _ in range(5):  # five wrong tries cost nothing
        wrong = attempt("1111")
        assert wrong.status_code == 200 and "Sai mã PIN" in wrong.get_data(as_text=True)
    locked = attempt("1111")
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
    text = locked.get_data(as_text=True)
    assert "Thử sai quá nhiều lần, vui lòng đợi 1 giây" in text
    assert "Too many attempts, wait 1 s" in text
    # while locked out even the right PIN is not looked at
    assert attempt(PIN).status_code == 429
    assert client.get("/settings").status_code == 302
    time.sleep(1.1)
    again = attempt("1111")
    assert again.status_code == 429 and again.headers["Retry-After"] == "2"
    time.sleep(1.0)
    assert attempt(PIN).status_code == 429  # still 1 s to go
    time.sleep(1.1)
    right = attempt(PIN)
    assert right.status_code == 302 and right.headers["Location"] == "/settings"
    assert client.get("/settings").status_code == 200
    # and the count starts afresh
    assert attempt("1111").status_code == 200


def test_the_pin_lockout_is_per_client(station: Station) -> None:
    app = _app(station)
    one = app.test_client()
    other = app.test_client()
    other.environ_base["REMOTE_ADDR"] = "192.0.2.7"
    token = _token(one, "/pin")
    for _ in range(6):
        last = one.post("/pin", data={"pin": "0000", "csrf_token": token})
    assert last.status_code == 429
    token = _token(other, "/pin")
    assert other.post("/pin", data={"pin": PIN, "csrf_token": token}).status_code == 302


@pytest.fixture
def fleet_client(tmp_path: Path) -> Iterator[FlaskClient]:
    db = FleetDB(tmp_path / "fleet")
    fleet = Fleet(Connection("mqtt://127.0.0.1:1", "fleet-x"), db)
    settings = WebSettings(
        listen="0.0.0.0:8090",
        data_dir=tmp_path,
        password_hash=hash_secret(PASSWORD, iterations=1000),
    )
    yield create_app(settings, Services(fleet=fleet)).test_client()
    db.close()


def _basic(password: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"x:{password}".encode()).decode()}


def test_sign_in_is_throttled(fleet_client: FlaskClient) -> None:
    token = _token(fleet_client, "/login")
    for _ in range(5):
        wrong = fleet_client.post("/login", data={"password": "sai", "csrf_token": token})
        assert wrong.status_code == 200 and "Sai mật khẩu" in wrong.get_data(as_text=True)
    locked = fleet_client.post("/login", data={"password": "sai", "csrf_token": token})
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
    assert "vui lòng đợi 1 giây" in locked.get_data(as_text=True)
    right = fleet_client.post("/login", data={"password": PASSWORD, "csrf_token": token})
    assert right.status_code == 429
    # the same brake holds HTTP Basic: one password, one count
    basic = fleet_client.get("/api/stations", headers=_basic(PASSWORD))
    assert basic.status_code == 429 and basic.json is not None
    assert basic.json["code"] == "throttled" and basic.json["retry_after"] == 1
    time.sleep(1.1)
    right = fleet_client.post("/login", data={"password": PASSWORD, "csrf_token": token})
    assert right.status_code == 302 and fleet_client.get("/").status_code == 200


def test_basic_auth_is_throttled(fleet_client: FlaskClient) -> None:
    for _ in range(5):
        assert fleet_client.get("/metrics", headers=_basic("sai")).status_code == 401
    locked = fleet_client.get("/metrics", headers=_basic("sai"))
    assert locked.status_code == 429 and locked.headers["Retry-After"] == "1"
    assert locked.json is not None and "Too many attempts, wait 1 s" in locked.json["error"]
    assert fleet_client.get("/metrics", headers=_basic(PASSWORD)).status_code == 429
    time.sleep(1.1)
    again = fleet_client.get("/metrics", headers=_basic("sai"))
    assert again.status_code == 429 and again.headers["Retry-After"] == "2"
    time.sleep(2.1)
    assert fleet_client.get("/metrics", headers=_basic(PASSWORD)).status_code == 200


# ------------------------------------------------------------------ require_pin_for


def test_every_post_route_belongs_to_a_group(station: Station) -> None:
    app = _app(station)
    posts = {r.endpoint for r in app.url_map.iter_rules() if "POST" in (r.methods or ())}
    assert posts - pin.UNGUARDED, "the station UI has actions"
    for endpoint in posts - pin.UNGUARDED:
        assert pin.group_of(app, endpoint) in pin.GROUPS, endpoint
    assert set(pin.GROUPS) == {"scan", "edit", "delete", "confirm", "export", "settings"}


def test_a_post_route_without_a_group_is_refused_at_start(station: Station) -> None:
    app = Flask(__name__)
    app.extensions["station"] = station
    app.add_url_rule("/rogue", "rogue", lambda: "", methods=["POST"])
    with pytest.raises(RuntimeError, match="rogue"):
        pin.install(app)


def _enqueued(station: Station, tmp_path: Path) -> str:
    pdf = tmp_path / "d1.pdf"
    pdf.write_bytes(b"%PDF-1.7 " + b"x" * 5000)
    station.store.outbox.enqueue("d1", pdf, {"Registration": "DEN-2026-000001"}, 4096)
    return "d1"


#: group -> (method, path, form data, what the route itself answers once the PIN is open)
ACTIONS: dict[str, tuple[str, str, dict[str, str], int]] = {
    "scan": ("POST", "/scan", {"profile": "nope"}, 400),  # the route ran: unknown profile
    "edit": ("POST", "/doc/nothing/fields", {"Subject": "x"}, 404),
    "delete": ("POST", "/page/99999/delete", {}, 404),
    "confirm": ("POST", "/outbox/d1/retry", {}, 200),
    "export": ("GET", "/register/export?format=csv", {}, 200),
    "settings": ("GET", "/settings", {}, 200),
}


@pytest.mark.parametrize("group", sorted(ACTIONS))
def test_each_group_needs_the_pin_when_configured(
    group: str, tmp_path: Path, sample_scans: Path
) -> None:
    station = _station(tmp_path, sample_scans, require_pin_for=[group])
    try:
        _enqueued(station, tmp_path)
        news = station.hub.subscribe()
        client = _app(station).test_client()
        token = _token(client)
        method, path, data, ran = ACTIONS[group]
        form = {**data, "csrf_token": token} if method == "POST" else None
        refused = client.open(path, method=method, data=form, headers=JSON)
        assert refused.status_code == 403 and refused.json is not None
        assert refused.json["code"] == "pin" and "PIN" in refused.json["error"]
        assert refused.json["pin_url"].startswith("/pin")
        page = client.open(path, method=method, data=form)
        assert page.status_code == 302 and page.headers["Location"].startswith("/pin")
        assert news.empty()  # nothing happened
        # the other groups stay open
        for other, (o_method, o_path, o_data, o_ran) in ACTIONS.items():
            if other not in (group, "settings"):
                o_form = {**o_data, "csrf_token": token} if o_method == "POST" else None
                answer = client.open(o_path, method=o_method, data=o_form, headers=JSON)
                assert answer.status_code == o_ran, other
        # with the PIN the action runs
        opened = client.post(
            f"/pin?next={path if method == 'GET' else '/'}", data={"pin": PIN, "csrf_token": token}
        )
        assert opened.status_code == 302
        assert opened.headers["Location"] == (path if method == "GET" else "/")
        done = client.open(path, method=method, data=form, headers=JSON)
        assert done.status_code == ran
        if group == "confirm":
            assert done.json == {"ok": True}
        if group == "export":
            assert done.mimetype == "text/csv"
    finally:
        station.store.close()


def test_by_default_only_settings_need_the_pin(station: Station, tmp_path: Path) -> None:
    _enqueued(station, tmp_path)
    client = _app(station).test_client()
    token = _token(client)
    for group, (method, path, data, ran) in ACTIONS.items():
        form = {**data, "csrf_token": token} if method == "POST" else None
        answer = client.open(path, method=method, data=form, headers=JSON)
        assert answer.status_code == (403 if group == "settings" else ran), group


def test_guarding_actions_needs_a_pin(tmp_path: Path) -> None:
    path = tmp_path / "station.toml"
    path.write_text('[ui]\nrequire_pin_for = ["confirm", "delete"]\n', encoding="utf-8")
    from station.config import load

    with pytest.raises(ConfigError, match=r"require_pin_for.*confirm, delete.*pin_hash"):
        load(path)
    path.write_text('[ui]\nrequire_pin_for = ["print"]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="require_pin_for"):
        load(path)


@pytest.mark.parametrize("proxies", [0, 1])
def test_behind_a_proxy_the_forwarded_client_is_throttled(tmp_path: Path, proxies: int) -> None:
    db = FleetDB(tmp_path / "fleet")
    try:
        settings = WebSettings(
            data_dir=tmp_path,
            password_hash=hash_secret(PASSWORD, iterations=1000),
            proxies=proxies,
        )
        client = create_app(
            settings, Services(fleet=Fleet(Connection("mqtt://127.0.0.1:1", "f"), db))
        ).test_client()
        for n in range(6):  # an attacker behind the proxy, a new X-Forwarded-For each time
            forged = {**_basic("sai"), "X-Forwarded-For": f"198.51.100.{n}, 203.0.113.9"}
            last = client.get("/metrics", headers=forged)
        assert last.status_code == 429  # the proxy's own hop is what counts
        someone = {**_basic(PASSWORD), "X-Forwarded-For": "203.0.113.50"}
        # one proxy trusted: another client is not locked out; none: all are one client
        assert client.get("/metrics", headers=someone).status_code == (200 if proxies else 429)
    finally:
        db.close()
