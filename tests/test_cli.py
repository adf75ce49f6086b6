"""The real ``scanstation`` command, run as a subprocess (python -m station)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from station.capture.folder import natural_key
from station.config import default_data_dir
from station.demo.samples import LABEL_YEAR
from station.store import Store
from tests.helpers.cli import scanstation

ROOT = Path(__file__).resolve().parent.parent
CHECK_KEYS = {"name", "ok", "detail", "fix", "required"}


def run(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return scanstation(*args, timeout=timeout)


def write_config(folder: Path, data_dir: Path, device: str, extra: str = "") -> Path:
    path = folder / "station.toml"
    path.write_text(
        "[station]\n"
        'id = "vks-test-vt01"\n'
        f'data_dir = "{data_dir}"\n'
        "min_free_mb = 50\n"
        "\n"
        "[scanner]\n"
        f'device = "{device}"\n' + extra,
        encoding="utf-8",
    )
    return path


@pytest.fixture
def cfg(tmp_path: Path) -> Path:
    """A valid config: data_dir in tmp_path, the scanner a folder (no hardware)."""
    incoming = tmp_path / "incoming"
    incoming.mkdir()
    return write_config(tmp_path, tmp_path / "data", f"folder:{incoming}")


def doctor_json(config: Path) -> tuple[int, dict[str, Any]]:
    proc = run("doctor", "--json", "--config", str(config))
    assert "Traceback" not in proc.stderr
    report = json.loads(proc.stdout)
    assert isinstance(report, dict)
    return proc.returncode, report


def checks_by_name(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    checks = report["checks"]
    assert isinstance(checks, list) and checks
    for check in checks:
        assert set(check) == CHECK_KEYS
        assert isinstance(check["name"], str) and check["name"]
        assert isinstance(check["ok"], bool) and isinstance(check["required"], bool)
        assert isinstance(check["detail"], str) and isinstance(check["fix"], str)
        if not check["ok"]:
            assert check["fix"], f"{check['name']} failed without a fix"
    return {c["name"]: c for c in checks}


# --------------------------------------------------------------------------- basics


def test_version() -> None:
    proc = run("--version")
    assert proc.returncode == 0
    assert proc.stdout.strip() == "scanstation 0.1.0"


def test_no_command_is_a_usage_error() -> None:
    proc = run()
    assert proc.returncode == 2
    assert "Chưa chọn lệnh" in proc.stderr and "no command given" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_option_is_a_usage_error() -> None:
    proc = run("scan", "--colour")
    assert proc.returncode == 2
    assert "--colour" in proc.stderr


# --------------------------------------------------------------------------- doctor


def test_doctor_json_all_ok(cfg: Path) -> None:
    code, report = doctor_json(cfg)
    checks = checks_by_name(report)
    failed = [c for c in checks.values() if c["required"] and not c["ok"]]
    assert failed == []
    assert report["ok"] is True and code == 0
    assert checks["config"]["ok"] and str(cfg) in checks["config"]["detail"]
    assert checks["scanner"]["ok"] and checks["scanner"]["detail"].startswith("folder:")
    assert checks["data-dir"]["ok"] and (cfg.parent / "data").is_dir()
    for name in (
        *("sane", "tesseract", "tesseract-vie", "tesseract-osd", "ghostscript", "disk-free"),
        *("zbar", "font-liberation-serif", "font-dejavu-sans", "font-dejavu-serif"),
    ):
        assert checks[name]["ok"], checks[name]


def test_doctor_invalid_config(tmp_path: Path) -> None:
    bad = tmp_path / "station.toml"
    bad.write_text('[station]\nid = "Trạm 1"\n', encoding="utf-8")
    # with the config refused, nothing that depends on it is checked or created
    fallback = default_data_dir()
    existed = fallback.exists()
    proc = run("doctor", "--config", str(bad))
    assert fallback.exists() == existed
    assert " data-dir " not in proc.stdout
    assert proc.returncode == 4
    assert "Traceback" not in proc.stderr
    config_line = next(line for line in proc.stdout.splitlines() if " config " in line)
    assert config_line.startswith("[LỖI")
    assert "'station.id'" in proc.stdout and "station.toml:2" in proc.stdout
    assert "cách sửa / fix" in proc.stdout
    assert "required check(s) failed" in proc.stdout


def test_doctor_data_dir_not_writable(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        # root writes anywhere: use a path below a regular file, so mkdir fails
        (tmp_path / "afile").write_text("not a folder", encoding="utf-8")
        data_dir = tmp_path / "afile" / "data"
    else:
        locked = tmp_path / "locked"
        locked.mkdir(mode=0o500)
        data_dir = locked / "data"
    config = write_config(tmp_path, data_dir, f"folder:{tmp_path}")
    try:
        code, report = doctor_json(config)
    finally:
        if data_dir.parent.is_dir():
            data_dir.parent.chmod(0o700)
    checks = checks_by_name(report)
    check = checks["data-dir"]
    assert check["ok"] is False and check["required"] is True
    assert str(data_dir) in check["detail"] and "not writable" in check["detail"]
    assert str(data_dir) in check["fix"]
    assert "disk-free" not in checks
    assert report["ok"] is False and code == 4


# --------------------------------------------------------------------------- devices


def test_devices_json(cfg: Path) -> None:
    proc = run("devices", "--json", "--config", str(cfg))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert [r["name"] for r in rows if r["kind"] == "sane"] == ["test:0", "test:1"]
    assert all(r["type"] == "virtual device" for r in rows if r["kind"] == "sane")
    folders = [r for r in rows if r["kind"] == "folder"]
    assert folders == [
        {
            "name": f"folder:{cfg.parent / 'incoming'}",
            "vendor": "",
            "model": "folder",
            "type": "",
            "kind": "folder",
        }
    ]


def test_devices_text(cfg: Path) -> None:
    proc = run("devices", "--config", str(cfg))
    assert proc.returncode == 0
    lines = proc.stdout.splitlines()
    assert lines[0].startswith("test:0") and lines[0].endswith("(sane)")
    assert lines[-1].endswith("(folder)")


# --------------------------------------------------------------------------- scan


@dataclass(frozen=True)
class Scanned:
    config: Path
    out: Path
    proc: subprocess.CompletedProcess[str]


@pytest.fixture(scope="module")
def scanned(tmp_path_factory: pytest.TempPathFactory, sample_scans: Path) -> Scanned:
    """One `scanstation scan` of the sample batch, shared by the tests that read it."""
    base = tmp_path_factory.mktemp("cli-scan")
    config = write_config(base, base / "data", "auto")  # --device overrides it
    out = base / "out"
    proc = run(
        "scan",
        "--config",
        str(config),
        "--device",
        f"folder:{sample_scans}",
        "--profile",
        "simplex",
        "--out",
        str(out),
    )
    return Scanned(config, out, proc)


def test_scan_folder_to_out(scanned: Scanned, sample_scans: Path) -> None:
    files = sorted(sample_scans.glob("scan_*.jpg"), key=lambda p: natural_key(p.name))
    proc = scanned.proc
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    lines = proc.stdout.splitlines()
    assert lines[0] == f"Đang quét / scanning: folder:{sample_scans}, simplex (200 dpi)"
    progress = [line for line in lines if line.lstrip().startswith("trang ")]
    assert len(progress) == len(files)
    assert progress[0].split(":")[0].split() == ["trang", "1", "/", "page", "1"]
    with Image.open(files[0]) as first:
        own = round(first.info["dpi"][0])
    assert f"{own} dpi, single" in progress[0]  # the file's own dpi
    assert any(f"{len(files)} trang / pages, captured" in line for line in lines)
    assert lines[-1] == f"Đã chép vào / copied to {scanned.out}"
    copied = sorted(scanned.out.iterdir())
    assert [p.name for p in copied] == [f"p{i:05d}.jpg" for i in range(1, len(files) + 1)]
    for page, original in zip(copied, files, strict=True):
        assert page.read_bytes() == original.read_bytes()


def test_batches_json(scanned: Scanned, sample_scans: Path) -> None:
    assert scanned.proc.returncode == 0
    proc = run("batches", "--json", "--config", str(scanned.config))
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert len(rows) == 1
    row = rows[0]
    assert row["id"] in scanned.proc.stdout
    assert row["state"] == "captured"
    assert row["pages"] == len(list(sample_scans.glob("scan_*.jpg")))
    assert row["device"] == f"folder:{sample_scans}"
    assert row["error"] is None


def test_scan_empty_folder(cfg: Path) -> None:
    incoming = cfg.parent / "incoming"
    proc = run("scan", "--config", str(cfg))
    assert proc.returncode == 6
    assert proc.stderr.strip() == (
        f"scanstation: Không có ảnh trang nào trong {incoming} / no page images in {incoming}"
    )
    assert "Traceback" not in proc.stderr
    assert "trang   1" not in proc.stdout
    batches = json.loads(run("batches", "--json", "--config", str(cfg)).stdout)
    assert [(b["state"], b["pages"], b["error"]) for b in batches] == [
        ("cancelled", 0, "scanner.no_paper")
    ]


def test_scan_missing_folder(cfg: Path) -> None:
    gone = cfg.parent / "gone"
    proc = run("scan", "--config", str(cfg), "--device", f"folder:{gone}")
    assert proc.returncode == 5
    assert f"Không có thư mục {gone} / folder {gone} does not exist" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_scan_with_invalid_config(tmp_path: Path) -> None:
    bad = write_config(tmp_path, tmp_path / "data", "folder:/x", "gpio_pin = 99\n")
    proc = run("scan", "--config", str(bad))
    assert proc.returncode == 3
    assert "'scanner.gpio_pin'" in proc.stderr and "station.toml:8" in proc.stderr
    assert "Fix:" in proc.stderr
    assert not (tmp_path / "data").exists()  # refused before touching the store


def test_scan_unknown_profile(cfg: Path) -> None:
    proc = run("scan", "--config", str(cfg), "--profile", "nope")
    assert proc.returncode == 3
    assert "no scan profile named 'nope'" in proc.stderr


# --------------------------------------------------------------------------- demo


@pytest.mark.slow
def test_demo_runs_the_whole_system_once(tmp_path: Path) -> None:
    """`scanstation demo --scan-once`: mosquitto, receiver, station and dashboard on
    loopback; one press of Quét; every document delivered with its receipt, handed
    to the stand-in DMS as edXML and answered by it up to 06 hoàn thành."""
    data_dir = tmp_path / "demo"
    proc = run("demo", "--data-dir", str(data_dir), "--pace", "0.1", "--scan-once", timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert "chế độ trình diễn / scan station demo" in out
    for line in ("trạm quét / station UI:", "giám sát / fleet dashboard:", "broker MQTT:"):
        assert re.search(rf"{line}\s+(http|mqtt)://127\.0\.0\.1:\d+", out), line
    samples = sorted((data_dir / "virtual-scanner").glob("scan_*.jpg"))
    assert len(samples) >= 10
    with Store(data_dir / "station") as store:
        (batch,) = store.batches()
        assert (batch.state, batch.trigger) == ("done", "ui")
        assert [p.input for p in store.pages(batch.id)] == [p.name for p in samples]
        assert [i.state for i in store.outbox.items(("received",))] == ["received"] * 3
    for label, pages in (("000123", 2), ("000124", 1), ("000125", 3)):
        assert f"văn bản / document DEN-{LABEL_YEAR}-{label}: {pages} trang / pages" in out
    assert "OrganName     Sở Tư pháp" in out
    # every document's statuses: the receiver's 01, then the stand-in DMS's 03 to 06
    for status in ("01 Đã nhận / Received", "03 Đã vào sổ / Registered",
                   "04 Đã phân công / Assigned", "05 Đang xử lý / In progress",
                   "06 Hoàn thành / Done"):  # fmt: skip
        assert out.count(f"    {status}  20") == 3, status
    assert out.count("Đã xử lý xong") == 3
    # the stand-in took them from the folder, as a DMS polling it does
    assert not list((data_dir / "dms-inbox").glob("*.edxml"))
    taken = sorted((data_dir / "dms-inbox-taken").glob("demo-vt01.*.edxml"))
    assert len(taken) == 3
    assert len(list((data_dir / "dms-inbox" / "answers" / "done").glob("*.edxml"))) == 12
    delivered = sorted((data_dir / "central").glob("demo-vt01/*/*/*.pdf"))
    assert len(delivered) == 3 and all(p.stat().st_size > 10_000 for p in delivered)
    assert "Đã dừng / stopped" in out
    assert "INFO" not in proc.stderr  # the terminal shows warnings only


def test_batches_close_only_interrupted(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    config = write_config(tmp_path, data_dir, f"folder:{tmp_path}")
    with Store(data_dir) as store:
        cut = store.create_batch("test:0", "standard", "cli")
        store.set_batch_state(cut.id, "interrupted", error_code="scanner.jam")
        done = store.create_batch("test:0", "standard", "cli")
        store.set_batch_state(done.id, "captured")
    refused = run("batches", "--config", str(config), "--close", done.id)
    assert refused.returncode == 2 and "interrupted" in refused.stderr
    closed = run("batches", "--config", str(config), "--close", cut.id)
    assert closed.returncode == 0 and "captured" in closed.stdout
    with Store(data_dir) as store:
        assert store.batch(cut.id).state == "captured"
        assert store.batch(done.id).state == "captured"
    missing = run("batches", "--config", str(config), "--close", "nope")
    assert missing.returncode == 9


def _secret_options(option: str) -> bool:
    """An option that would take a secret itself (not a file or a hash of it)."""
    secret = ("pin" in option and option != "--pin") or "password" in option
    return secret and "file" not in option and "hash" not in option


def test_passwd_reads_the_secret_from_standard_input_only() -> None:
    from station.cli import build_parser
    from station.common.auth import verify_secret

    done = subprocess.run(
        [sys.executable, "-m", "station", "passwd"], input="mật-khẩu-dài\n",
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0
    assert verify_secret("mật-khẩu-dài", done.stdout.strip())
    assert "mật-khẩu-dài" not in done.stdout + done.stderr
    short = subprocess.run(
        [sys.executable, "-m", "station", "passwd", "--pin"], input="12\n",
        capture_output=True, text=True, cwd=ROOT, timeout=60, check=False,
    )  # fmt: skip
    assert short.returncode == 2
    # no command takes a secret as an argument
    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    for name, command in sub.choices.items():  # type: ignore[union-attr]
        options = {o for a in command._actions for o in a.option_strings}
        assert not [o for o in options if _secret_options(o)], name
