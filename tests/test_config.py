"""station.toml: the example file, defaults, refusals with key/line/fix, helpers."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from station import config
from station.config import Config, Profile, key_lines, read_secret
from station.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "firmware_config" / "station.example.toml"
#: "# key = value": an optional setting shown commented out (TOML has no null).
COMMENTED_KEY = re.compile(r"^#\s?([a-z0-9_]+)\s*=\s*\S")
HEADER = re.compile(r"^\[([^\]]+)\]")


def _refusal(tmp_path: Path, text: str) -> str:
    """Load ``text`` as a station.toml and return the refusal's message."""
    path = tmp_path / "station.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        config.load(path)
    assert info.value.exit_code == 3
    assert info.value.code == "config"
    return info.value.message_en


def _section_keys(text: str) -> dict[str, set[str]]:
    """Keys per table of ``text``, counting "# key = value" lines as present."""
    keys: dict[str, set[str]] = {}
    table = ""
    for raw in text.splitlines():
        line = raw.strip()
        if header := HEADER.match(line):
            table = header.group(1)
            keys.setdefault(table, set())
        elif commented := COMMENTED_KEY.match(line):
            keys.setdefault(table, set()).add(commented.group(1))
    for path in key_lines(text):
        for cut in range(1, len(path)):  # [a.b.c] also puts b in a (implicit tables)
            keys.setdefault(".".join(path[:cut]), set()).add(path[cut])
    return keys


# --------------------------------------------------------------------------- example


def test_example_loads() -> None:
    cfg = config.load(EXAMPLE)
    assert cfg.station.id == "vks-thanhhoa-vt01"
    assert cfg.station.unit_name == "Viện kiểm sát nhân dân tỉnh Thanh Hóa"
    assert cfg.station.data_dir == Path("/var/lib/scanstation")
    assert cfg.uplink.broker.startswith("mqtts://") and cfg.uplink.broker.endswith(":8883")
    for tls in (cfg.uplink.ca_file, cfg.uplink.cert_file, cfg.uplink.key_file):
        assert tls is not None and tls.parent == Path("/etc/scanstation/tls")
    assert cfg.ui.listen == "127.0.0.1:8080" and cfg.ui.is_loopback
    assert len(cfg.scanner.profiles) == 2
    assert cfg.scanner.default_profile in cfg.scanner.profiles
    assert cfg.profile() is cfg.scanner.profiles[cfg.scanner.default_profile]
    assert cfg.profile().file_format == "jpeg"
    assert cfg.profile("archive").file_format == "png"


def test_example_covers_every_field() -> None:
    """A key added to the model must be added to the example too."""
    keys = _section_keys(EXAMPLE.read_text(encoding="utf-8"))
    for section, field in Config.model_fields.items():
        model = field.annotation
        assert isinstance(model, type) and issubclass(model, BaseModel)
        assert section in keys, f"[{section}] is missing from {EXAMPLE.name}"
        missing = set(model.model_fields) - keys[section]
        assert not missing, f"[{section}] of {EXAMPLE.name} lacks {sorted(missing)}"
    profiles = [t for t in keys if t.startswith("scanner.profiles.")]
    assert len(profiles) == 2
    for table in profiles:
        assert keys[table] >= set(Profile.model_fields), table


def test_example_optional_settings_are_valid_when_enabled() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    enabled = "\n".join(
        re.sub(r"^#\s?", "", line) if COMMENTED_KEY.match(line) else line
        for line in text.splitlines()
    )
    cfg = config.parse(enabled)
    assert cfg.scanner.gpio_pin is not None
    assert cfg.uplink.username == cfg.station.id
    assert cfg.uplink.password_file is not None
    assert cfg.ui.password_hash and cfg.ui.pin_hash
    assert cfg.ui.password_hash.startswith("pbkdf2_sha256$")


def test_example_every_key_has_its_line() -> None:
    text = EXAMPLE.read_text(encoding="utf-8")
    lines = text.splitlines()
    found = key_lines(text)

    def walk(table: dict[str, object], prefix: tuple[str, ...]) -> None:
        for name, value in table.items():
            path = (*prefix, name)
            if isinstance(value, dict):  # a table, possibly implicit ([scanner.profiles])
                walk(value, path)
                continue
            assert path in found, path
            assert name in lines[found[path] - 1], (path, found[path])

    walk(tomllib.loads(text), ())


# --------------------------------------------------------------------------- defaults


def test_defaults_are_valid() -> None:
    cfg = Config()
    assert cfg.station.id == "station"
    assert cfg.scanner.default_profile in cfg.scanner.profiles
    assert cfg.profile().resolution >= 200
    assert cfg.ui.is_loopback
    assert Config.model_validate(cfg.model_dump()) == cfg


def test_default_registration_pattern() -> None:
    match = re.fullmatch(Config().pipeline.registration_pattern, "DEN-2024-000123")
    assert match is not None
    assert match.group("year") == "2024"
    assert match.group("number") == "000123"
    assert re.fullmatch(Config().pipeline.registration_pattern, "DEN-24-123") is None


def test_unknown_profile_name() -> None:
    with pytest.raises(ConfigError, match=r"'nope'.*archive, flatbed, simplex, standard"):
        Config().profile("nope")


# --------------------------------------------------------------------------- refusals


def test_bad_station_id(tmp_path: Path) -> None:
    message = _refusal(tmp_path, '[station]\nunit_name = "VKS"\nid = "Trạm 1"\n')
    assert "'station.id'" in message
    assert "station.toml:3" in message
    assert "Fix:" in message and 'id = "vks-thanhhoa-vt01"' in message


def test_unknown_key_suggests_the_right_one(tmp_path: Path) -> None:
    text = (
        "[scanner]\n"
        'default_profile = "fast"\n'
        "\n"
        "[scanner.profiles.fast]\n"
        'mode = "gray"\n'
        "resolutoin = 300\n"
    )
    message = _refusal(tmp_path, text)
    assert "unknown key 'scanner.profiles.fast.resolutoin'" in message
    assert "station.toml:6" in message
    assert "Fix: did you mean 'resolution'?" in message


def test_unknown_section(tmp_path: Path) -> None:
    message = _refusal(tmp_path, '[station]\nid = "a"\n\n[scaner]\ndevice = "auto"\n')
    assert "unknown key 'scaner'" in message
    assert "station.toml:4" in message
    assert "Fix: did you mean 'scanner'?" in message


def test_resolution_out_of_range(tmp_path: Path) -> None:
    message = _refusal(tmp_path, "[scanner.profiles.standard]\nmode = 'gray'\nresolution = 5000\n")
    assert "'scanner.profiles.standard.resolution'" in message
    assert "station.toml:3" in message
    assert "1200" in message and "Fix:" in message


def test_registration_pattern_without_groups(tmp_path: Path) -> None:
    message = _refusal(tmp_path, '[pipeline]\nregistration_pattern = "^DEN-(\\\\d{4})$"\n')
    assert "'pipeline.registration_pattern'" in message
    assert "station.toml:2" in message
    assert "(?P<year>" in message and "Fix:" in message


def test_clean_memory_below_one_page(tmp_path: Path) -> None:
    message = _refusal(tmp_path, "[pipeline]\nclean_memory_mb = 200\n")
    assert "'pipeline.clean_memory_mb'" in message
    assert "station.toml:2" in message
    assert "at least 512 MB" in message and "or 0" in message
    path = tmp_path / "station.toml"
    path.write_text("[pipeline]\nclean_memory_mb = 768\n", encoding="utf-8")
    assert config.load(path).pipeline.clean_memory_mb == 768


@pytest.mark.parametrize(
    ("broker", "why"),
    [
        ("http://mqtt.example.vn:8883", "must start with mqtts://"),
        ("mqtts://vt01:secret@mqtt.example.vn:8883", "no user or password in the URL"),
    ],
)
def test_bad_broker(tmp_path: Path, broker: str, why: str) -> None:
    message = _refusal(tmp_path, f'[station]\nid = "a"\n[uplink]\nbroker = "{broker}"\n')
    assert "'uplink.broker'" in message
    assert "station.toml:4" in message
    assert why in message and "Fix:" in message


@pytest.mark.parametrize(
    ("text", "key", "line"),
    [
        ('[ui]\n# open to the office LAN\nlisten = "0.0.0.0:8080"\n', "ui.listen", 3),
        (
            '[scanner]\ndevice = "auto"\ndefault_profile = "archive"\n'
            "[scanner.profiles.standard]\nresolution = 200\n",
            "scanner.default_profile",
            3,
        ),
    ],
    ids=["ui-exposed-without-password", "default-profile-missing"],
)
def test_model_level_refusals(tmp_path: Path, text: str, key: str, line: int) -> None:
    message = _refusal(tmp_path, text)
    assert "password_hash" in message or "not one of the profiles: standard" in message
    assert f"'{key}'" in message
    assert f"station.toml:{line}:" in message
    assert "Fix:" in message


def test_toml_syntax_error(tmp_path: Path) -> None:
    message = _refusal(tmp_path, '[station]\nid = "abc\nunit_name = "x"\n')
    assert str(tmp_path / "station.toml") in message
    assert re.search(r"line 2, column \d+", message)
    assert "Fix:" in message


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "station.toml"
    with pytest.raises(ConfigError) as info:
        config.load(missing)
    assert info.value.exit_code == 3
    assert str(missing) in info.value.message_en
    assert "Fix:" in info.value.user_message()
    assert "station.example.toml" in info.value.user_message()


def test_no_file_means_defaults_or_default_path(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without a path: the defaults while the default file is absent, that file
    once it is there (the default path moved into the test's own folder)."""
    from station.config import loading

    default = tmp_path / "etc" / "station.toml"
    monkeypatch.setattr(loading, "DEFAULT_PATH", default)
    assert config.load() == Config()
    default.parent.mkdir()
    default.write_text('[station]\nid = "vks-default"\n', encoding="utf-8")
    assert config.load().station.id == "vks-default"


# --------------------------------------------------------------------------- key_lines


def test_key_lines_tables_and_dotted_keys() -> None:
    text = (
        "# comment\n"  # 1
        "[station]\n"  # 2
        'id = "a"\n'  # 3
        "\n"  # 4
        "[scanner]\n"  # 5
        "profiles.fast.resolution = 150\n"  # 6
        '"default_profile" = "fast"\n'  # 7
        "\n"  # 8
        "[scanner.profiles.standard]  # the usual one\n"  # 9
        "resolution = 300\n"  # 10
        "[ scanner . profiles . 'quoted' ]\n"  # 11
        "mode = 'gray'\n"  # 12
    )
    found = key_lines(text)
    assert found[("station",)] == 2
    assert found[("station", "id")] == 3
    assert found[("scanner",)] == 5
    assert found[("scanner", "profiles", "fast", "resolution")] == 6
    assert found[("scanner", "default_profile")] == 7
    assert found[("scanner", "profiles", "standard")] == 9
    assert found[("scanner", "profiles", "standard", "resolution")] == 10
    assert found[("scanner", "profiles", "quoted", "mode")] == 12


def test_key_lines_multiline_arrays_and_strings() -> None:
    text = (
        "[ocr]\n"  # 1
        "languages = [\n"  # 2
        '    "vie",  # [main] language\n'  # 3
        '    ["nested", "eng"],\n'  # 4
        "]\n"  # 5
        "jobs = 2\n"  # 6
        '[pipeline]\nseparator_text = """\n'  # 7, 8
        "[not.a.table]\n"  # 9
        'fake = 1\n"""\n'  # 10, 11
        "auto_confirm_seconds = 5\n"  # 12
    )
    found = key_lines(text)
    assert found[("ocr", "languages")] == 2
    assert found[("ocr", "jobs")] == 6
    assert found[("pipeline",)] == 7
    assert found[("pipeline", "auto_confirm_seconds")] == 12
    assert ("not", "a", "table") not in found
    assert ("pipeline", "fake") not in found


def test_key_lines_brackets_in_strings_and_comments() -> None:
    text = (
        "[pipeline]\n"  # 1
        'separator_text = "[PATCH"\n'  # 2
        "[station]\n"  # 3
        'id = "a"  # xem mục [1\n'  # 4
        "[telemetry]\n"  # 5
        "interval_s = 1\n"  # 6
    )
    found = key_lines(text)
    assert found.get(("station", "id")) == 4
    assert found.get(("telemetry", "interval_s")) == 6
    with pytest.raises(ConfigError, match=r"station\.toml:6: 'telemetry\.interval_s'"):
        config.parse(text)


def test_key_lines_implicit_parent_tables() -> None:
    text = '[station]\nid = "a"\n\n[scanner.profiles.Fast]\nresolution = 200\n'
    assert key_lines(text).get(("scanner", "profiles")) == 4
    with pytest.raises(ConfigError, match=r"station\.toml:4: 'scanner\.profiles'.*'Fast'"):
        config.parse(text)


# --------------------------------------------------------------------------- secrets


def test_read_secret_env_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "mqtt-password"
    secret.write_text("from-file\n", encoding="utf-8")
    monkeypatch.setenv("SCANSTATION_TEST_SECRET", "from-env")
    assert read_secret(secret, "SCANSTATION_TEST_SECRET") == "from-env"
    monkeypatch.setenv("SCANSTATION_TEST_SECRET", "")
    assert read_secret(secret, "SCANSTATION_TEST_SECRET") == "from-file"


def test_read_secret_file_first_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SCANSTATION_TEST_SECRET", raising=False)
    secret = tmp_path / "mqtt-password"
    secret.write_text("  s3cr3t-mật-khẩu \t\nsecond line\n", encoding="utf-8")
    assert read_secret(secret, "SCANSTATION_TEST_SECRET") == "s3cr3t-mật-khẩu"
    assert read_secret(None, "SCANSTATION_TEST_SECRET") is None


@pytest.mark.parametrize("content", [None, ""], ids=["missing", "empty"])
def test_read_secret_unreadable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, content: str | None
) -> None:
    monkeypatch.delenv("SCANSTATION_TEST_SECRET", raising=False)
    secret = tmp_path / "mqtt-password"
    if content is not None:
        secret.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match="mqtt-password") as info:
        read_secret(secret, "SCANSTATION_TEST_SECRET")
    assert info.value.exit_code == 3


# --------------------------------------------------------------------------- frozen


def test_config_is_frozen() -> None:
    cfg = config.load(EXAMPLE)
    with pytest.raises(ValidationError, match="frozen"):
        cfg.station.id = "other"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        cfg.scanner = config.ScannerSection()  # type: ignore[misc]
    with pytest.raises(ValidationError, match="frozen"):
        cfg.scanner.profiles["standard"].resolution = 600  # type: ignore[misc]
    assert cfg.station.id == "vks-thanhhoa-vt01"
    assert cfg.scanner.profiles["standard"].resolution == 200
