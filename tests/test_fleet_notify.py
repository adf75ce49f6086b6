"""Alerts that reach people, end to end: stations publish over a real mosquitto,
the fleet raises, acknowledges, clears and raises again, and the notifier sends
e-mail to a real SMTP server (STARTTLS and SMTPS, with a login) and JSON to a
real webhook receiver that checks the HMAC signature. Quiet hours run on a
clock the test sets; ``lost`` comes from a station process killed without a
disconnect."""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from station.central.channels import DELIVERY_HEADER, channels
from station.central.fleet import Fleet, iso
from station.central.fleetconfig import FleetSettings
from station.central.fleetdb import FleetDB
from station.central.notify import Notifier
from station.common.clock import VIETNAM
from station.ui import Services, WebSettings, create_app
from station.wire import topics
from station.wire.mqtt import Connection
from tests.helpers.broker import Mosquitto
from tests.helpers.cli import ROOT
from tests.helpers.notify import Hook, Mailbox, smtp_server, webhook_server
from tests.helpers.pki import Pki
from tests.helpers.wait import until
from tests.test_fleet_payloads import EVENT, STATE, health

pytestmark = pytest.mark.slow

SMTP_LOGIN = "giamsat@vks.thanhhoa.gov.vn"
SMTP_PASSWORD = "mật-khẩu-thư-7Q2x"
HOOK_SECRET = "khóa-ký-webhook-91c4"
ADMIN = "quantri@vks.thanhhoa.gov.vn"


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    pki = Pki(tmp_path_factory.mktemp("pki"))
    pki.issue("smtp", server=True)
    return pki


@pytest.fixture(scope="module")
def mailbox(pki: Pki) -> Iterator[Mailbox]:
    cert, key = pki.folder / "smtp.crt", pki.folder / "smtp.key"
    with smtp_server(cert, key, SMTP_LOGIN, SMTP_PASSWORD) as box:
        yield box


@pytest.fixture(scope="module")
def hook() -> Iterator[Hook]:
    with webhook_server(HOOK_SECRET) as server:
        yield server


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Mosquitto]:
    """A broker of the test's own: no retained state of another test's stations."""
    server = Mosquitto(_folder(tmp_path, "broker"))
    server.start()
    yield server
    server.stop()


def _folder(root: Path, name: str) -> Path:
    folder = root / name
    folder.mkdir(exist_ok=True)
    return folder


class Clock:
    """The notifier's clock, set by the test."""

    def __init__(self, at: datetime) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at


def _secret(folder: Path, name: str, text: str) -> str:
    path = folder / name
    path.write_text(text + "\n", encoding="utf-8")
    path.chmod(0o600)
    return str(path)


def _settings(
    folder: Path,
    pki: Pki,
    mailbox: Mailbox | None,
    hook: Hook | None,
    *,
    password: str = SMTP_PASSWORD,
    security: str = "starttls",
    **sections: dict[str, Any],
) -> FleetSettings:
    data: dict[str, Any] = {
        "notify": {"quiet_hours": "", "group_seconds": 0.5,
                   "dashboard_url": "https://giamsat.vks.thanhhoa.gov.vn/"},
    }  # fmt: skip
    if mailbox is not None:
        data["email"] = {
            "host": "127.0.0.1", "port": mailbox.port, "security": security,
            "username": SMTP_LOGIN, "password_file": _secret(folder, "smtp-password", password),
            "sender": SMTP_LOGIN, "to": [ADMIN], "ca_file": str(pki.ca), "timeout_s": 5,
            "retries": 2, "backoff_s": 0.2,
        }  # fmt: skip
    if hook is not None:
        data["webhook"] = {
            "url": hook.url, "secret_file": _secret(folder, "hook-secret", HOOK_SECRET),
            "timeout_s": 2, "retries": 3, "backoff_s": 0.2,
        }  # fmt: skip
    for name, values in sections.items():
        data[name] = {**data.get(name, {}), **values}
    return FleetSettings.model_validate(data)


@dataclass
class Board:
    fleet: Fleet
    notifier: Notifier
    db: FleetDB
    folder: Path

    def stop(self) -> None:
        self.notifier.stop()
        self.fleet.conn.stop()
        self.db.close()

    def active(self, kind: str, subject: str) -> Any:
        found = [
            a for a in self.fleet.alerting.store.active() if (a.kind, a.subject) == (kind, subject)
        ]
        return found[0] if found else None


@pytest.fixture
def boards(broker: Mosquitto, tmp_path: Path) -> Iterator[list[Board]]:
    made: list[Board] = []
    yield made
    for board in made:
        board.stop()


def _board(
    boards: list[Board],
    broker: Mosquitto,
    folder: Path,
    settings: FleetSettings,
    clock: Clock | None = None,
) -> Board:
    db = FleetDB(folder / "fleet")
    conn = Connection(broker.url, f"fleet-{len(boards)}", clean_start=True)
    fleet = Fleet(conn, db, settings)
    notifier = Notifier(
        fleet.alerting.store, settings, channels(settings), clock or (lambda: datetime.now(UTC)),
        tick_s=0.1,
    )  # fmt: skip
    fleet.alerting.listeners.append(notifier.wake.set)
    conn.start()
    assert conn.ready.wait(10)
    notifier.start()
    board = Board(fleet, notifier, db, folder)
    boards.append(board)
    return board


def _station(broker: Mosquitto, station_id: str) -> Connection:
    conn = Connection(broker.url, f"pub-{station_id}", clean_start=True)
    conn.start()
    assert conn.connected.wait(10)
    return conn


def _publish(conn: Connection, station_id: str, kind: str, body: dict[str, Any]) -> None:
    topic = {"state": topics.state, "health": topics.health, "event": topics.event}[kind]
    retain = kind != "event"
    conn.publish(topic(station_id), json.dumps(body, ensure_ascii=False).encode(), qos=1,
                 retain=retain)  # fmt: skip


def _report(conn: Connection, station_id: str, **changes: Any) -> None:
    body = health(station_id, ts=iso(datetime.now(UTC)), **changes)
    body["scanner"] = {**body["scanner"], "status": "ready",
                       "status_text": {"vi": "sẵn sàng", "en": "ready"}}  # fmt: skip
    _publish(conn, station_id, "health", body)


def _changes(hook: Hook) -> list[tuple[str, str, str]]:
    """(what, kind, subject) of every change the webhook was sent, in order."""
    return [
        (c["what"], c["alert"]["kind"], c["alert"]["subject"])
        for post in hook.posts
        for c in post.json["changes"]
    ]


# ---------------------------------------------------------------------- lost


def _station_child(broker: Mosquitto, folder: Path, station_id: str) -> subprocess.Popen[str]:
    folder.mkdir()
    config = folder / "station.toml"
    config.write_text(
        f'[station]\nid = "{station_id}"\nunit_name = "Viện kiểm sát nhân dân huyện Nga Sơn"\n'
        f'data_dir = "{folder / "data"}"\n'
        f'[uplink]\nbroker = "{broker.url}"\nkeepalive_s = 5\n[telemetry]\ninterval_s = 5\n',
        encoding="utf-8",
    )
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.helpers.station_child", str(config)],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
    )  # fmt: skip
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    return proc


def _online(board: Board, station_id: str) -> bool:
    found = board.db.station(station_id)
    return found is not None and found.state == "online"


def test_lost_is_raised_within_a_second_and_many_are_one_message(
    broker: Mosquitto,
    boards: list[Board],
    pki: Pki,
    mailbox: Mailbox,
    hook: Hook,
    tmp_path: Path,
) -> None:
    hook.clear()
    mailbox.mails.clear()
    settings = _settings(tmp_path, pki, mailbox, hook, notify={"group_seconds": 2.0})
    board = _board(boards, broker, tmp_path, settings)
    ids = ["vks-ns-01", "vks-ns-02", "vks-ns-03"]
    procs = [_station_child(broker, tmp_path / i, i) for i in ids]
    try:
        until(lambda: all(_online(board, i) for i in ids), 20)
        # SIGKILL: the connection ends without a DISCONNECT; the broker sends the will
        killed = time.monotonic()
        for proc in procs:
            os.kill(proc.pid, signal.SIGKILL)
        raised: dict[str, float] = {}
        deadline = killed + 5
        while len(raised) < len(ids) and time.monotonic() < deadline:
            for station_id in ids:
                if station_id not in raised and board.active("lost", station_id):
                    raised[station_id] = time.monotonic() - killed
            time.sleep(0.01)
        assert set(raised) == set(ids), raised
        assert max(raised.values()) < 1.0, raised
        print(f"lost raised {max(raised.values()):.3f} s after SIGKILL")
    finally:
        for proc in procs:
            proc.kill()
            proc.wait(10)
            assert proc.stdout is not None
            proc.stdout.close()
    # one message for the three, on each channel
    until(lambda: hook.posts and mailbox.mails, timeout=15)
    time.sleep(1.0)
    assert len(hook.posts) == 1 and len(mailbox.mails) == 1
    post, mail = hook.posts[0], mailbox.mails[0]
    assert sorted(_changes(hook)) == [("raise", "lost", i) for i in ids]
    assert hook.bad_signatures == 0 and post.headers[DELIVERY_HEADER.lower()]
    assert post.json["summary"]["vi"] == "Cảnh báo mới: Mất kết nối (3 trạm)"
    assert "Mất kết nối (3 trạm)" in mail.subject and "3 stations" in mail.subject
    assert "vks-ns-01, vks-ns-02, vks-ns-03" in mail.text
    assert mail.authenticated and mail.over_tls and mail.rcpt_tos == [ADMIN]
    assert "https://giamsat.vks.thanhhoa.gov.vn/" in mail.text
    # the page says so too
    client = create_app(WebSettings(data_dir=tmp_path), Services(fleet=board.fleet)).test_client()
    page = client.get("/alerts").get_data(as_text=True)
    assert all(f'data-subject="{i}"' in page for i in ids)


# ---------------------------------------------------------------------- the life of an alert


def _token(page: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert found is not None
    return found.group(1)


def test_raised_acknowledged_still_true_cleared_and_raised_again(
    broker: Mosquitto,
    boards: list[Board],
    pki: Pki,
    mailbox: Mailbox,
    hook: Hook,
    tmp_path: Path,
) -> None:
    hook.clear()
    mailbox.mails.clear()
    board = _board(boards, broker, tmp_path, _settings(tmp_path, pki, mailbox, hook))
    station = _station(broker, "vks-hh-02")
    try:
        _publish(station, "vks-hh-02", "state", STATE)
        _report(station, "vks-hh-02", cpu_temp_c=84.5)
        first = until(lambda: board.active("temperature", "vks-hh-02"))
        assert first.value == 84.5 and first.occurrence == 1 and first.acked_at is None
        until(lambda: ("raise", "temperature", "vks-hh-02") in _changes(hook))
        until(lambda: len(mailbox.mails) == 1)
        assert "Nhiệt độ CPU" in mailbox.mails[0].subject
        assert "CPU nóng: 84.5 °C" in mailbox.mails[0].text

        # "Đã biết", with a name and a note, through the page
        client = create_app(
            WebSettings(data_dir=tmp_path), Services(fleet=board.fleet)
        ).test_client()
        page = client.get("/alerts").get_data(as_text=True)
        assert f'id="alert-{first.id}"' in page and "Đã biết" in page
        answer = client.post(
            f"/alerts/{first.id}/ack",
            data={"csrf_token": _token(page), "by": "Nguyễn Văn An", "note": "đã mở quạt"},
        )
        assert answer.status_code == 302
        seen = board.fleet.alerting.store.get(first.id)
        assert seen is not None and seen.acked_by == "Nguyễn Văn An"
        assert seen.ack_note == "đã mở quạt" and seen.acked_at
        # a second acknowledgement is refused, and no name is no acknowledgement
        again = client.post(f"/alerts/{first.id}/ack", data={"csrf_token": _token(page), "by": "B"})
        assert again.status_code == 409

        # still hot (above 80 - 5): the same alert, still acknowledged, nothing sent
        _report(station, "vks-hh-02", cpu_temp_c=77.0)
        until(lambda: (a := board.active("temperature", "vks-hh-02")) and a.last_value == 77.0)
        still = board.active("temperature", "vks-hh-02")
        assert still.id == first.id and still.acked_by == "Nguyễn Văn An"
        page = client.get("/alerts").get_data(as_text=True)
        assert "Nguyễn Văn An" in page and "đã mở quạt" in page

        # cooled down: cleared, and the clear is sent
        _report(station, "vks-hh-02", cpu_temp_c=60.0)
        until(lambda: board.active("temperature", "vks-hh-02") is None)
        until(lambda: ("clear", "temperature", "vks-hh-02") in _changes(hook))

        # hot again: a new alert, raised again, not acknowledged, sent again
        _report(station, "vks-hh-02", cpu_temp_c=91.0)
        back = until(lambda: board.active("temperature", "vks-hh-02"))
        assert back.id != first.id and back.occurrence == 2 and back.acked_at is None
        until(lambda: ("reraise", "temperature", "vks-hh-02") in _changes(hook))
        assert [w for w, k, _ in _changes(hook) if k == "temperature"] == [
            "raise", "clear", "reraise",
        ]  # fmt: skip
        until(lambda: len(mailbox.mails) == 3)
        assert "Lặp lại sau khi đã hết" in mailbox.mails[2].subject
        assert hook.bad_signatures == 0

        history = board.fleet.alerting.store.history(subject="vks-hh-02")
        assert [(a.occurrence, a.cleared_at is None) for a in history] == [(2, True), (1, False)]
        assert history[1].acked_by == "Nguyễn Văn An"
        api = client.get("/api/alerts?history=1").json
        assert api is not None and api["active"][0]["occurrence"] == 2
        assert api["history"][1]["acknowledged"]["by"] == "Nguyễn Văn An"
    finally:
        station.stop()


# ---------------------------------------------------------------------- quiet hours


def test_quiet_hours_hold_all_but_critical_and_send_a_digest_after(
    broker: Mosquitto,
    boards: list[Board],
    pki: Pki,
    mailbox: Mailbox,
    hook: Hook,
    tmp_path: Path,
) -> None:
    hook.clear()
    mailbox.mails.clear()
    night = datetime(2026, 11, 25, 23, 0, tzinfo=VIETNAM)
    clock = Clock(night)
    settings = _settings(tmp_path, pki, mailbox, hook, notify={"quiet_hours": "22:00-06:00"})
    board = _board(boards, broker, tmp_path, settings, clock)
    station = _station(broker, "vks-qx-03")
    try:
        _publish(station, "vks-qx-03", "state", STATE)
        _report(station, "vks-qx-03",
                disk={"free_bytes": 400 * 2**20, "total_bytes": 63 * 2**30, "free_percent": 0.6,
                      "floor_bytes": 500 * 2**20},
                queue={**health("x")["queue"], "depth": 150})  # fmt: skip
        until(lambda: board.active("disk", "vks-qx-03") and board.active("backlog", "vks-qx-03"))
        time.sleep(1.5)  # more than the grouping window
        assert hook.posts == [] and mailbox.mails == []
        assert all(c.held for c in board.fleet.alerting.store.open_changes())

        # a secret document is critical: sent at once, with its level and nothing else
        secret = {**EVENT, "id": 77, "type": "secret.detected", "severity": "warning",
                  "message": {"vi": "Văn bản mật (Tối mật) đã dừng", "en": "Secret stopped"},
                  "detail": {"level": "Tối mật", "subject": "Về phương án bảo vệ mục tiêu K3",
                             "number": "12/KH-VKS"}}  # fmt: skip
        _publish(station, "vks-qx-03", "event", secret)
        until(lambda: hook.posts and mailbox.mails)
        assert _changes(hook) == [("raise", "secret", "vks-qx-03")]
        sent = hook.posts[0].body.decode() + mailbox.mails[0].text + mailbox.mails[0].subject
        assert "Tối mật" in sent
        assert "K3" not in sent and "12/KH-VKS" not in sent and "mục tiêu" not in sent
        assert hook.posts[0].json["changes"][0]["alert"]["severity"] == "critical"

        # morning: the quiet hours end, the held alerts go as one digest
        clock.at = datetime(2026, 11, 26, 6, 0, 5, tzinfo=VIETNAM)
        board.notifier.wake.set()
        until(lambda: len(hook.posts) == 2 and len(mailbox.mails) == 2)
        digest = hook.posts[1].json
        assert digest["digest"] is True and digest["quiet_hours"] == "22:00-06:00"
        assert sorted(_changes(hook)[1:]) == [
            ("raise", "backlog", "vks-qx-03"), ("raise", "disk", "vks-qx-03"),
        ]  # fmt: skip
        assert "Tóm tắt giờ yên lặng 22:00-06:00" in mailbox.mails[1].subject
        assert "Quiet hours digest" in mailbox.mails[1].subject
        assert digest["sent_at"].startswith("2026-11-25T23:00:05")
        time.sleep(1.0)
        assert len(hook.posts) == 2  # nothing twice

        # the secret alert ends when a person acknowledges it
        alert = board.active("secret", "vks-qx-03")
        assert board.fleet.alerting.acknowledge(alert.id, "Lê Thị Bình", "đã báo Phòng PA03")
        assert board.active("secret", "vks-qx-03") is None
    finally:
        station.stop()


# ---------------------------------------------------------------------- the channels


def test_the_webhook_is_retried_with_backoff_and_a_timeout(
    broker: Mosquitto, boards: list[Board], pki: Pki, hook: Hook, tmp_path: Path
) -> None:
    hook.clear()
    hook.slow_s = 3.0
    hook.plan.extend([503, "slow", 200])
    settings = _settings(tmp_path, pki, None, hook, webhook={"timeout_s": 1.0, "backoff_s": 0.3})
    board = _board(boards, broker, tmp_path, settings)
    station = _station(broker, "vks-ts-04")
    try:
        _publish(station, "vks-ts-04", "state", STATE)
        _report(station, "vks-ts-04", queue={**health("x")["queue"], "rejected": 2})
        row = until(
            lambda: [n for n in board.fleet.alerting.store.notifications() if n["sent_at"]],
            timeout=20,
        )[0]
        assert row["attempts"] == 3 and row["channel"] == "webhook"
        assert len(hook.posts) == 3 and hook.bad_signatures == 0
        # the same delivery each time, so the receiver can drop a repeat
        assert len({p.headers[DELIVERY_HEADER.lower()] for p in hook.posts}) == 1
        gaps = [b.at - a.at for a, b in zip(hook.posts, hook.posts[1:], strict=False)]
        assert gaps[0] >= 0.3 and gaps[1] >= 1.0 + 0.6 - 0.05  # a timeout, then twice the wait

        # a refusal (400) is not tried again
        hook.clear()
        hook.plan.append(400)
        _report(station, "vks-ts-04", queue={**health("x")["queue"], "rejected": 0})
        gave_up = until(
            lambda: [n for n in board.fleet.alerting.store.notifications() if n["gave_up_at"]]
        )[0]
        assert gave_up["attempts"] == 1 and gave_up["last_error"] == "HTTP 400"
        time.sleep(0.8)
        assert len(hook.posts) == 1
        client = create_app(
            WebSettings(data_dir=tmp_path), Services(fleet=board.fleet)
        ).test_client()
        metrics = client.get("/metrics").get_data(as_text=True)
        assert 'scanstation_fleet_notifications_failed{channel="webhook"} 1.0' in metrics
        unit = "Viện kiểm sát nhân dân huyện Đông Sơn"
        assert (
            f'scanstation_alerts_unacknowledged{{station="vks-ts-04",unit="{unit}"}} 0.0' in metrics
        )
    finally:
        station.stop()


def test_smtps_and_a_wrong_password_never_logged(
    broker: Mosquitto,
    boards: list[Board],
    pki: Pki,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    cert, key = pki.folder / "smtp.crt", pki.folder / "smtp.key"
    with smtp_server(cert, key, SMTP_LOGIN, SMTP_PASSWORD, implicit_tls=True) as smtps:
        good = _settings(_folder(tmp_path, "good"), pki, smtps, None, security="ssl")
        board = _board(boards, broker, _folder(tmp_path, "a"), good)
        station = _station(broker, "vks-ss-05")
        try:
            _publish(station, "vks-ss-05", "state", STATE)
            _report(station, "vks-ss-05", counters={**health("x")["counters"],
                                                    "sheets_since_roller": 200_000})  # fmt: skip
            mail = until(lambda: smtps.mails and smtps.mails[0])
            assert mail.authenticated and "Trục cuốn giấy" in mail.subject
            assert "Cần thay trục cuốn giấy: 200.000 / 200.000 tờ" in mail.text
            assert mail.message["From"] == SMTP_LOGIN and mail.message["Auto-Submitted"]
        finally:
            station.stop()
        board.stop()
        boards.remove(board)

        wrong = "sai-mật-khẩu-ZZ9"
        bad = _settings(_folder(tmp_path, "bad"), pki, smtps, None, password=wrong, security="ssl")
        board = _board(boards, broker, _folder(tmp_path, "b"), bad)
        station = _station(broker, "vks-ss-06")
        try:
            _publish(station, "vks-ss-06", "state", {**STATE, "state": "lost"})
            row = until(
                lambda: [n for n in board.fleet.alerting.store.notifications() if n["gave_up_at"]]
            )[0]
            assert row["attempts"] == 1 and row["last_error"].startswith("login refused")
            assert smtps.refused_logins >= 1 and len(smtps.mails) == 1
        finally:
            station.stop()
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (SMTP_PASSWORD, wrong):
        assert secret not in logged
        assert all(secret not in str(n) for n in board.fleet.alerting.store.notifications())
    assert SMTP_PASSWORD not in repr(channels(good))


def test_what_is_sent_is_set_in_the_config(
    broker: Mosquitto, boards: list[Board], pki: Pki, hook: Hook, tmp_path: Path
) -> None:
    hook.clear()
    settings = _settings(
        tmp_path, pki, None, hook, notify={"send_on": ["raise"]},
        rules={"disk": {"notify": False}},
    )  # fmt: skip
    board = _board(boards, broker, tmp_path, settings)
    station = _station(broker, "vks-cf-07")
    try:
        _publish(station, "vks-cf-07", "state", STATE)
        low = {"free_bytes": 2**20, "total_bytes": 2**30, "free_percent": 0.1, "floor_bytes": 0}
        _report(station, "vks-cf-07", disk=low, cpu_temp_c=81.0)
        until(lambda: ("raise", "temperature", "vks-cf-07") in _changes(hook))
        assert board.active("disk", "vks-cf-07")  # on the dashboard, not sent
        _report(station, "vks-cf-07", cpu_temp_c=50.0)
        until(lambda: board.active("temperature", "vks-cf-07") is None)
        until(lambda: not board.fleet.alerting.store.open_changes())
        time.sleep(0.8)
        assert _changes(hook) == [("raise", "temperature", "vks-cf-07")]
    finally:
        station.stop()


def test_a_blip_within_the_grouping_window_is_not_sent(
    broker: Mosquitto, boards: list[Board], pki: Pki, hook: Hook, tmp_path: Path
) -> None:
    hook.clear()
    settings = _settings(tmp_path, pki, None, hook, notify={"group_seconds": 1.5})
    board = _board(boards, broker, tmp_path, settings)
    station = _station(broker, "vks-bl-08")
    try:
        _publish(station, "vks-bl-08", "state", {**STATE, "state": "lost"})
        until(lambda: board.active("lost", "vks-bl-08"))
        _publish(station, "vks-bl-08", "state", {**STATE, "since": iso(datetime.now(UTC))})
        until(lambda: board.active("lost", "vks-bl-08") is None)
        until(lambda: not board.fleet.alerting.store.open_changes(), timeout=5)
        time.sleep(0.5)
        assert hook.posts == []
        assert [a.kind for a in board.fleet.alerting.store.history(subject="vks-bl-08")] == ["lost"]
    finally:
        station.stop()


def test_a_restart_sends_nothing_again(
    broker: Mosquitto, boards: list[Board], pki: Pki, hook: Hook, tmp_path: Path
) -> None:
    """The alerts and what was sent are kept: a restarted dashboard that hears
    the same retained state raises nothing new."""
    hook.clear()
    settings = _settings(tmp_path, pki, None, hook)
    board = _board(boards, broker, tmp_path, settings)
    station = _station(broker, "vks-rs-09")
    try:
        _publish(station, "vks-rs-09", "state", {**STATE, "state": "lost"})
        until(lambda: len(hook.posts) == 1)
        board.stop()
        boards.remove(board)
        again = _board(boards, broker, tmp_path, settings)
        until(lambda: again.db.station("vks-rs-09"))
        time.sleep(1.5)
        assert len(hook.posts) == 1
        assert again.active("lost", "vks-rs-09") is not None
    finally:
        station.stop()


def test_when_the_clock_says_quiet(tmp_path: Path) -> None:
    settings = FleetSettings.model_validate({"notify": {"quiet_hours": "22:00-06:00"}})
    at = datetime(2026, 11, 25, 15, 30, tzinfo=UTC)  # 22:30 in Vietnam
    assert settings.is_quiet(at) and not settings.is_quiet(at - timedelta(hours=1))
    assert settings.quiet_end(at) == datetime(2026, 11, 26, 6, 0, tzinfo=VIETNAM)
    assert not FleetSettings.model_validate({"notify": {"quiet_hours": ""}}).is_quiet(at)
