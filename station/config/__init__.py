"""The station's configuration: one strict, documented ``station.toml``.

Every key is described here; docs/config.md is the reader's version of the same.
Unknown keys, wrong types and impossible values are refused with the key, the
line in the file and the fix. Runtime state never goes into these objects: they
are frozen.
"""

from __future__ import annotations

import difflib
import ipaddress
import json
import os
import re
import tomllib
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from pydantic_core import PydanticCustomError

from station.errors import ConfigError

DEFAULT_PATH = Path("/etc/scanstation/station.toml")
DEFAULT_REGISTRATION = r"^DEN-(?P<year>\d{4})-(?P<number>\d{6})$"

StationId = Annotated[str, Field(pattern=r"^[a-z0-9-]{1,32}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, validate_default=True)


def default_data_dir() -> Path:
    """systemd's ``StateDirectory`` for the service, ``/var/lib/scanstation`` as
    root, the user's data folder otherwise."""
    state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
    if state:
        return Path(state)
    if os.geteuid() == 0:
        return Path("/var/lib/scanstation")
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base) / "scanstation"


class StationSection(_Strict):
    id: StationId = Field(
        "station",
        description="Station id: 1-32 lowercase letters, digits or '-'. Equals the MQTT "
        "username and the TLS certificate CN.",
        json_schema_extra={"example": '"vks-thanhhoa-vt01"'},
    )
    unit_name: str = Field(
        "",
        max_length=200,
        description="The unit this counter belongs to, as printed on documents.",
        json_schema_extra={"example": '"Viện kiểm sát nhân dân tỉnh Thanh Hóa"'},
    )
    data_dir: Path = Field(
        default_factory=default_data_dir,
        description="Where the store (SQLite database and page spool) lives.",
        json_schema_extra={"example": '"/var/lib/scanstation"'},
    )
    language: Literal["vi", "en"] = Field("vi", description="Language of the UI and messages.")
    min_free_mb: int = Field(
        500,
        ge=50,
        le=1_000_000,
        description="Free space floor in MiB: capture stops before the disk gets fuller.",
    )


SourceName = Literal["adf-duplex", "adf-front", "adf-back", "flatbed", "auto"]
ModeName = Literal["color", "gray", "lineart"]
PAGE_SIZES_MM: dict[str, tuple[float, float]] = {
    "A3": (297.0, 420.0),
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "Letter": (215.9, 279.4),
    "Legal": (215.9, 355.6),
}


class Profile(_Strict):
    source: SourceName = Field(
        "adf-duplex",
        description="Paper source: adf-duplex, adf-front, adf-back, flatbed or auto; mapped "
        "onto each scanner's own source names.",
    )
    mode: ModeName = Field("color", description="Colour mode: color, gray or lineart.")
    resolution: int = Field(
        200, ge=75, le=1200, description="Resolution in dpi (Decree 30 asks for at least 200)."
    )
    page_size: Literal["A3", "A4", "A5", "Letter", "Legal", "max"] = Field(
        "max",
        description="Scan area: a paper size, or max for the whole area the scanner offers "
        "(the pipeline crops to the paper edge).",
    )
    max_pages: int = Field(
        1000, ge=1, le=100_000, description="Stop a batch after this many pages (a guard)."
    )
    file_format: Literal["jpeg", "png"] = Field(
        "jpeg",
        description="How captured pages are stored: jpeg (4:4:4, keeps up with fast duplex "
        "scanners) or png (lossless, about 20 times slower to encode and 9 times larger).",
    )
    jpeg_quality: int = Field(92, ge=70, le=100, description="JPEG quality of captured pages.")


def _default_profiles() -> dict[str, Profile]:
    return {
        "standard": Profile(source="adf-duplex", mode="color", resolution=200),
        "simplex": Profile(source="adf-front", mode="color", resolution=200),
        "archive": Profile(source="adf-duplex", mode="color", resolution=300),
        "flatbed": Profile(source="flatbed", mode="color", resolution=300, page_size="A4"),
    }


class ScannerSection(_Strict):
    device: str = Field(
        "auto",
        min_length=1,
        max_length=512,
        description="Scanner to use: auto (the first SANE scanner found), a SANE device "
        "name or glob (fujitsu:*), or folder:PATH for a folder of images (add ?mode=hot to "
        "consume files as they arrive).",
        json_schema_extra={"example": '"fujitsu:*"'},
    )
    default_profile: str = Field(
        "standard", description="Profile used by the scan button and the GPIO button."
    )
    profiles: dict[str, Profile] = Field(
        default_factory=_default_profiles,
        description="Named scan profiles; a [scanner.profiles] table replaces the built-in ones.",
    )
    poll_buttons: bool = Field(
        True, description="Poll the scanner's own buttons (SANE sensor options)."
    )
    button_sensors: tuple[Annotated[str, Field(min_length=1, max_length=64)], ...] = Field(
        ("scan", "email", "copy", "pdf", "file", "ocr", "start", "button*"),
        description="Names (globs) of the scanner's sensor options that are buttons; other "
        "sensors such as cover-open or page-loaded never start a batch.",
    )
    button_poll_ms: int = Field(
        500, ge=100, le=10_000, description="How often the scanner's buttons are read, in ms."
    )
    gpio_pin: int | None = Field(
        None, ge=0, le=53, description="BCM number of a GPIO push button (none: no GPIO button)."
    )
    roller_limit: int = Field(
        200_000,
        ge=1000,
        le=10_000_000,
        description="Sheets the scanner's feed rollers last (see the scanner's manual); the "
        "fleet dashboard warns when the counter since the last roller change passes it.",
    )

    @field_validator("profiles")
    @classmethod
    def _profile_names(cls, value: dict[str, Profile]) -> dict[str, Profile]:
        if not value:
            raise ValueError("at least one profile is needed")
        for name in value:
            if not re.fullmatch(r"[a-z0-9_-]{1,32}", name):
                raise ValueError(f"profile name {name!r}: use 1-32 lowercase letters, digits, _ -")
        return value

    @model_validator(mode="after")
    def _default_exists(self) -> ScannerSection:
        if self.default_profile not in self.profiles:
            raise PydanticCustomError(
                "config_key",
                "{value!r} is not one of the profiles: {known}",
                {
                    "key": "default_profile",
                    "value": self.default_profile,
                    "known": ", ".join(sorted(self.profiles)),
                },
            )
        return self


class PipelineSection(_Strict):
    blank_sensitivity: Literal["low", "medium", "high"] = Field(
        "medium",
        description="How readily a page is taken for blank: high drops more (faint pages "
        "too), low keeps more. A page with a signature or a few lines is never dropped.",
    )
    registration_pattern: str = Field(
        DEFAULT_REGISTRATION,
        description="Regular expression of a registration label, with named groups "
        "'year' and 'number' (the Số đến).",
    )
    separator_text: str = Field(
        "PATCHT",
        min_length=1,
        max_length=64,
        pattern=r"^[\x21-\x7e]+$",
        description="Barcode text of a separator sheet (printable ASCII, no spaces).",
    )
    auto_confirm_seconds: int = Field(
        10,
        ge=0,
        le=600,
        description="Countdown before a clean batch is confirmed by itself; 0 turns it off.",
    )

    @field_validator("registration_pattern")
    @classmethod
    def _pattern_groups(cls, value: str) -> str:
        try:
            compiled = re.compile(value)
        except re.error as exc:
            raise ValueError(f"not a valid regular expression: {exc}") from exc
        missing = {"year", "number"} - set(compiled.groupindex)
        if missing:
            raise ValueError("the pattern needs the named groups (?P<year>…) and (?P<number>…)")
        return value


class OcrSection(_Strict):
    languages: tuple[Annotated[str, Field(pattern=r"^[a-z_]{3,16}$")], ...] = Field(
        ("vie", "eng"),
        min_length=1,
        description="Tesseract languages, most likely first.",
    )
    jobs: int = Field(
        0,
        ge=0,
        le=64,
        description="Tesseract processes the station runs at once (pages in parallel); 0 uses "
        "all cores but one, so capture keeps a core.",
    )
    page_timeout_s: int = Field(
        180, ge=10, le=3600, description="Give up OCR of one page after this many seconds."
    )


class UplinkSection(_Strict):
    broker: str = Field(
        "mqtts://localhost:8883",
        description="Broker URL: mqtts://host:port (TLS) or mqtt://host:port (loopback or "
        "tests only).",
        json_schema_extra={"example": '"mqtts://mqtt.vks.thanhhoa.gov.vn:8883"'},
    )
    ca_file: Path | None = Field(None, description="CA certificate that signed the broker's.")
    cert_file: Path | None = Field(None, description="This station's client certificate.")
    key_file: Path | None = Field(None, description="This station's private key (mode 0600).")
    username: str | None = Field(
        None, max_length=64, description="MQTT username; defaults to the station id."
    )
    password_file: Path | None = Field(
        None,
        description="File holding the MQTT password (or set SCANSTATION_MQTT_PASSWORD); "
        "never put it on the command line.",
    )
    topic_mode: Literal["station", "emqx"] = Field(
        "station",
        description="File transfer topics: station (under the station's own root) or emqx "
        "($file-async/…, EMQX stores the files).",
    )
    segment_size: int = Field(
        262_144, ge=4096, le=16 * 1024 * 1024, description="File transfer segment size, bytes."
    )
    window: int = Field(8, ge=1, le=256, description="Segments in flight before waiting.")
    keepalive_s: int = Field(60, ge=5, le=3600, description="MQTT keep-alive, seconds.")
    retention_hours: int = Field(
        168,
        ge=0,
        le=24 * 365,
        description="Keep the local copy this long after the receipt; 0 deletes at once.",
    )

    @field_validator("broker")
    @classmethod
    def _broker_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"mqtt", "mqtts", "ws", "wss"}:
            raise ValueError("the URL must start with mqtts://, mqtt://, wss:// or ws://")
        if not parts.hostname:
            raise ValueError("the URL has no host")
        try:
            _ = parts.port
        except ValueError as exc:
            raise ValueError("the port is not a number from 1 to 65535") from exc
        if parts.username or parts.password:
            raise ValueError("no user or password in the URL: use username and password_file")
        return value


#: the counter's actions that ``[ui] require_pin_for`` can put behind the PIN
PinGroup = Literal["scan", "edit", "delete", "confirm", "export", "settings"]
_HOST_NAME = re.compile(
    r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$"
)


def host_name_or_address(value: str) -> str:
    """A host name or IP address as a browser sends it in ``Host`` (no port), lower-case."""
    name = value.strip().lower()
    bare = name[1:-1] if name.startswith("[") and name.endswith("]") else name
    try:
        return str(ipaddress.ip_address(bare))
    except ValueError:
        pass
    if not _HOST_NAME.match(name):
        raise ValueError(f"{value!r} is not a host name or IP address (no port, no scheme)")
    return name


class UiSection(_Strict):
    listen: str = Field(
        "127.0.0.1:8080",
        description="Address and port of the station UI. Anything other than loopback "
        "needs password_hash.",
    )
    password_hash: str | None = Field(
        None,
        description="Hash of the UI password (scanstation passwd prints one); required when "
        "listen is not loopback.",
    )
    pin_hash: str | None = Field(
        None,
        description="Hash of the PIN that opens settings and diagnostics, and the actions "
        "listed in require_pin_for.",
    )
    require_pin_for: tuple[PinGroup, ...] = Field(
        ("settings",),
        description="The counter's actions that need the PIN (open for 10 minutes once "
        "entered): scan (Quét), edit (page and field changes, the register's later columns, "
        "stopping the countdown), delete (deleting a page), confirm (Xác nhận và gửi, Gửi "
        "lại ngay), export (register downloads), settings. Anything but settings needs "
        "pin_hash.",
    )
    allowed_hosts: tuple[str, ...] = Field(
        (),
        description="Host names or addresses (no port) the UI also answers to, besides "
        "localhost, 127.0.0.1, [::1] and listen's own address; a request for any other "
        "name is refused (421). Name the station's LAN name or address here when listen is "
        "0.0.0.0.",
    )
    max_live_streams: int = Field(
        16,
        ge=1,
        le=256,
        description="Live-update streams (/api/events) open at once; more are refused with "
        "503 and Retry-After. Each open screen holds one.",
    )

    @field_validator("listen")
    @classmethod
    def _listen(cls, value: str) -> str:
        host, sep, port = value.rpartition(":")
        if not sep or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError("use HOST:PORT, e.g. 127.0.0.1:8080")
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError as exc:
            if host != "localhost":
                raise ValueError("HOST must be an IP address or localhost") from exc
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _hosts(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(host_name_or_address(name) for name in value)

    @field_validator("password_hash", "pin_hash")
    @classmethod
    def _hash_format(cls, value: str | None) -> str | None:
        from station.common.auth import is_hash

        if value is not None and not is_hash(value):
            raise ValueError("not a password hash: make one with `scanstation passwd`")
        return value

    @property
    def is_loopback(self) -> bool:
        host = self.listen.rpartition(":")[0].strip("[]")
        return host == "localhost" or ipaddress.ip_address(host).is_loopback

    @model_validator(mode="after")
    def _password_when_exposed(self) -> UiSection:
        if not self.is_loopback and not self.password_hash:
            raise PydanticCustomError(
                "config_key",
                "{value} is not loopback, so password_hash is required "
                "(make one with `scanstation passwd`), or listen on 127.0.0.1",
                {"key": "listen", "value": self.listen},
            )
        beyond = sorted(set(self.require_pin_for) - {"settings"})
        if beyond and not self.pin_hash:
            raise PydanticCustomError(
                "config_key",
                "require_pin_for lists {value} but pin_hash is not set "
                "(make one with `scanstation passwd --pin`)",
                {"key": "require_pin_for", "value": ", ".join(beyond)},
            )
        return self


class TelemetrySection(_Strict):
    interval_s: int = Field(60, ge=5, le=3600, description="Seconds between health reports.")
    disk_alert_percent: int = Field(
        10,
        ge=1,
        le=90,
        description="Report disk.low when less than this share (%) of the disk is free.",
    )
    upload_alert_minutes: int = Field(
        15,
        ge=1,
        le=1440,
        description="Report upload.failing when a document has waited this long to be sent.",
    )
    backlog_alert_hours: int = Field(
        8,
        ge=1,
        le=720,
        description="Report backlog.old when a document has waited this long for its receipt "
        "(Decree 30: delivered the same working day).",
    )


class SigningSection(_Strict):
    enabled: bool = Field(
        False,
        description="Sign every delivered document with the agency's key (a certified copy, "
        "Decree 30 Art. 25): PAdES, the signature image not shown, the copy's text at the "
        "top right of page 1.",
    )
    key_store: Literal["pkcs11", "pkcs12"] = Field(
        "pkcs11",
        description="Where the key is: pkcs11 (the agency's key device, a USB token or HSM) "
        "or pkcs12 (a .p12/.pfx file).",
    )
    pkcs11_module: Path | None = Field(
        None,
        description="The token's PKCS#11 library (from its vendor).",
        json_schema_extra={"example": '"/usr/lib/x86_64-linux-gnu/opensc-pkcs11.so"'},
    )
    token_label: str | None = Field(
        None, max_length=64, description="Label of the token to use (none: the first one)."
    )
    key_label: str | None = Field(
        None, max_length=128, description="Label of the signing key on the token."
    )
    cert_label: str | None = Field(
        None,
        max_length=128,
        description="Label of the certificate on the token (default: the key's label).",
    )
    cert_file: Path | None = Field(
        None, description="The signer's certificate, when the token does not hold it."
    )
    chain_files: tuple[Path, ...] = Field(
        (), description="Intermediate CA certificates to embed with the signature."
    )
    pkcs12_file: Path | None = Field(None, description="The .p12/.pfx file (key_store = pkcs12).")
    pin_file: Path | None = Field(
        None,
        description="File holding the token PIN or the .p12 passphrase (or set "
        "SCANSTATION_SIGNING_PIN); never on the command line.",
    )
    timestamp_url: str | None = Field(
        None,
        description="RFC 3161 time stamp server: with it signatures are PAdES B-T, without it B-B.",
    )
    copy_type: str = Field(
        "Sao y",
        min_length=1,
        max_length=40,
        description="Type of copy shown on page 1 (Sao y, Sao lục, Trích sao).",
    )
    agency: str = Field(
        "",
        max_length=200,
        description="The copying agency shown on page 1 (default: [station] unit_name).",
    )
    allow_unsigned: bool = Field(
        False,
        description="Send a document unsigned when signing fails (otherwise it waits in the "
        "outbox until the token works).",
    )

    @model_validator(mode="after")
    def _complete(self) -> SigningSection:
        if not self.enabled:
            return self
        if self.key_store == "pkcs12" and self.pkcs12_file is None:
            raise PydanticCustomError(
                "config_key", "key_store = pkcs12 needs pkcs12_file", {"key": "pkcs12_file"}
            )
        if self.key_store == "pkcs11" and self.pkcs11_module is None:
            raise PydanticCustomError(
                "config_key",
                "key_store = pkcs11 needs the token's library in pkcs11_module",
                {"key": "pkcs11_module"},
            )
        if self.key_store == "pkcs11" and not (self.key_label or self.cert_label):
            raise PydanticCustomError(
                "config_key", "name the key on the token: key_label", {"key": "key_label"}
            )
        return self


class IncomingSection(_Strict):
    """The incoming register (Sổ đăng ký văn bản đến)."""

    holidays: tuple[date, ...] = Field(
        (),
        max_length=400,
        description="Days off besides Saturdays, Sundays and the fixed national holidays "
        "(1/1, 30/4, 1/5, 2/9): Tết, the Hùng Kings' day, days moved by the government. "
        "A registration later than the next working day after arrival is flagged.",
        json_schema_extra={"example": '["2026-02-16", "2026-02-17", "2026-04-26"]'},
    )
    keeper: str = Field(
        "",
        max_length=120,
        description="Name printed under the signature line of an exported register "
        "(the clerk who keeps it); empty leaves the line blank.",
    )


class Config(_Strict):
    station: StationSection = Field(default_factory=StationSection)
    scanner: ScannerSection = Field(default_factory=ScannerSection)
    pipeline: PipelineSection = Field(default_factory=PipelineSection)
    ocr: OcrSection = Field(default_factory=OcrSection)
    uplink: UplinkSection = Field(default_factory=UplinkSection)
    ui: UiSection = Field(default_factory=UiSection)
    telemetry: TelemetrySection = Field(default_factory=TelemetrySection)
    signing: SigningSection = Field(default_factory=SigningSection)
    incoming: IncomingSection = Field(default_factory=IncomingSection)

    def profile(self, name: str | None = None) -> Profile:
        key = name or self.scanner.default_profile
        try:
            return self.scanner.profiles[key]
        except KeyError:
            raise ConfigError(
                f"no scan profile named {key!r}; known: {', '.join(sorted(self.scanner.profiles))}",
                f"Không có cấu hình quét {key!r}; hiện có: "
                f"{', '.join(sorted(self.scanner.profiles))}",
            ) from None


# --------------------------------------------------------------------------- loading


def load(path: Path | None = None) -> Config:
    """Load and validate a config file; ``None`` means the default path if it exists.

    With no file at all the built-in defaults are used.
    """
    if path is None:
        if not DEFAULT_PATH.exists():
            return Config()
        path = DEFAULT_PATH
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist. Fix: copy "
            f"firmware_config/station.example.toml to {path} and edit it",
            f"Không có tệp cấu hình {path}. Cách sửa: chép "
            f"firmware_config/station.example.toml sang {path} rồi sửa",
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(
            f"cannot read config file {path}: {exc}", f"Không đọc được tệp cấu hình {path}: {exc}"
        ) from None
    return parse(text, source=str(path))


def parse(text: str, source: str = "station.toml") -> Config:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        at = re.search(r"line (\d+)", str(exc))
        where = f"{source}:{at.group(1)}" if at else source
        raise ConfigError(
            f"{where}: not valid TOML: {exc}. Fix: check quotes, brackets and '=' on that line",
            f"{where}: không đúng cú pháp TOML: {exc}. Cách sửa: kiểm tra dấu ngoặc kép, "
            "ngoặc vuông và dấu '=' trên dòng đó",
        ) from None
    try:
        return Config.model_validate(data)
    except ValidationError as exc:
        lines = key_lines(text)
        problems = [_describe(err, lines, source) for err in exc.errors()]
        raise ConfigError(
            "invalid config:\n" + "\n".join(problems),
            "Cấu hình không hợp lệ:\n" + "\n".join(problems),
            problems=problems,
        ) from None


def key_lines(text: str) -> dict[tuple[str, ...], int]:
    """Map every table and key path of a TOML text to its 1-based line number."""
    found: dict[tuple[str, ...], int] = {}
    table: tuple[str, ...] = ()
    depth = 0
    in_multiline = False
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if in_multiline:
            if line.count('"""') % 2 == 1 or line.count("'''") % 2 == 1:
                in_multiline = False
            continue
        if depth > 0:
            depth += _bracket_balance(line)
            continue
        if not line or line.startswith("#"):
            continue
        header = re.fullmatch(r"\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?", line)
        if header:
            table = _split_key(header.group(1))
            for cut in range(1, len(table) + 1):  # implicit parents too
                found.setdefault(table[:cut], number)
            continue
        match = _KEY_LINE.match(line)
        if not match:
            continue
        path = table + _split_key(match.group(1))
        found.setdefault(path, number)
        value = match.group(2)
        if value.count('"""') == 1 or value.count("'''") == 1:
            in_multiline = True
        depth = max(0, _bracket_balance(value))
    return found


_KEY_PART = r"""(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')"""
_KEY_LINE = re.compile(rf"({_KEY_PART}(?:\s*\.\s*{_KEY_PART})*)\s*=(.*)")
_STRINGS_AND_COMMENT = re.compile(r""""(?:[^"\\]|\\.)*"|'[^']*'|#.*$""")


def _bracket_balance(text: str) -> int:
    """Opening minus closing brackets outside strings and comments."""
    bare = _STRINGS_AND_COMMENT.sub("", text)
    return bare.count("[") - bare.count("]")


def _split_key(key: str) -> tuple[str, ...]:
    parts = re.findall(r'"([^"]*)"|\'([^\']*)\'|([A-Za-z0-9_-]+)', key)
    return tuple(next(p for p in part if p) if any(part) else "" for part in parts)


def _model_at(loc: tuple[str | int, ...]) -> type[BaseModel] | None:
    """The model class that holds the field at ``loc``, walking dicts of models."""
    model: Any = Config
    for part in loc[:-1]:
        if model is None or not isinstance(model, type) or not issubclass(model, BaseModel):
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            # a dict key (a profile name): the value type is the next model
            continue
        annotation = field.annotation
        args = getattr(annotation, "__args__", ())
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            model = annotation
        elif args and isinstance(args[-1], type) and issubclass(args[-1], BaseModel):
            model = args[-1]
        else:
            model = None
    if isinstance(model, type) and issubclass(model, BaseModel):
        return model
    return None


def _describe(err: Any, lines: dict[tuple[str, ...], int], source: str) -> str:
    raw_loc = tuple(err["loc"])
    ctx_key = (err.get("ctx") or {}).get("key")
    if ctx_key:  # a check across fields names the key it is about
        raw_loc += (ctx_key,)
    loc = tuple(str(p) for p in raw_loc)
    key = ".".join(loc) if loc else "(top level)"
    line = None
    for cut in range(len(loc), 0, -1):
        if loc[:cut] in lines:
            line = lines[loc[:cut]]
            break
    where = f"{source}:{line}" if line else source
    model = _model_at(raw_loc) if loc else Config
    field_name = loc[-1] if loc else ""
    fix = ""
    if err["type"] == "extra_forbidden":
        known = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(field_name, known, n=1)
        fix = f"did you mean '{close[0]}'? " if close else ""
        fix += "remove the key; known keys here: " + ", ".join(known)
        message = f"unknown key '{key}'"
    else:
        message = f"'{key}': {err['msg']}"
        if model and field_name in model.model_fields:
            info = model.model_fields[field_name]
            fix = info.description or ""
            extra = info.json_schema_extra
            if isinstance(extra, dict) and "example" in extra:
                fix += f" Example: {field_name} = {extra['example']}"
        if err["type"] == "missing":
            fix = f"add {field_name} = … under [{'.'.join(loc[:-1])}]. " + fix
    return f"{where}: {message}. Fix: {fix.strip()}" if fix else f"{where}: {message}"


def read_secret(file: Path | None, env: str) -> str | None:
    """A secret from the environment variable ``env`` or from ``file`` (first line)."""
    value = os.environ.get(env)
    if value:
        return value
    if file is None:
        return None
    try:
        return file.read_text(encoding="utf-8").splitlines()[0].strip()
    except (OSError, IndexError) as exc:
        raise ConfigError(
            f"cannot read secret file {file}: {exc}",
            f"Không đọc được tệp bí mật {file}: {exc}",
        ) from None


# --------------------------------------------------------------------------- reference


def markdown_reference() -> str:
    """docs/config.md's key tables, generated from the models (a test keeps them equal)."""
    out = [
        "<!-- generated by `python -m station.config`; edit the models in station/config.py -->",
        "",
    ]
    sections: list[tuple[str, type[BaseModel]]] = [
        (name, field.annotation)  # type: ignore[misc]
        for name, field in Config.model_fields.items()
    ]
    sections.insert(2, ("scanner.profiles.NAME", Profile))
    for name, model in sections:
        out += [f"### [{name}]", "", "| key | default | meaning |", "|---|---|---|"]
        defaults = model() if name != "scanner.profiles.NAME" else Profile()
        for key, info in model.model_fields.items():
            if key == "profiles":
                value = "see below"
            else:
                raw = getattr(defaults, key)
                if isinstance(raw, tuple):
                    raw = json.dumps(list(raw), ensure_ascii=False)
                elif isinstance(raw, bool):
                    raw = str(raw).lower()
                value = f"`{raw!s}`" if raw not in (None, "") else "none"
                if key == "data_dir":
                    value = (
                        "systemd's `$STATE_DIRECTORY`, else `/var/lib/scanstation` (root), "
                        "else `~/.local/share/scanstation`"
                    )
            description = (info.description or "").replace("|", r"\|")
            value = value.replace("|", r"\|")
            out.append(f"| `{key}` | {value} | {description} |")
        out.append("")
    return "\n".join(out)
