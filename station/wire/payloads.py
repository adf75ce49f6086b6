"""The payloads of the station's reports, as the fleet takes them (docs/mqtt.md).

One pydantic model per topic a station publishes to the fleet: :class:`State`,
:class:`Health`, :class:`Event` and :class:`CmdResp`. The fleet decodes every
message with :func:`decode` before it stores or shows anything; the station's
tests check that what the station publishes fits the same models.

The models are strict: JSON types must match (no ``"48"`` for a number), keys
not listed are refused, numbers are finite, counters are not negative, strings
and nesting are bounded. A message that does not fit is a :class:`Rejected`
with one of :data:`REASONS` (a fixed set, so that it can label a metric).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from station.wire.topics import STATION_ID

#: a document's receipt statuses (``doc/{doc_id}/receipt``), those of the
#: national document axis (QCVN 102:2016), as the clerk and the fleet read them
RECEIPT_WORDS: dict[str, tuple[str, str]] = {
    "01": ("Đã nhận", "Received"),
    "02": ("Bị từ chối", "Rejected"),
    "03": ("Đã vào sổ", "Registered"),
    "04": ("Đã phân công", "Assigned"),
    "05": ("Đang xử lý", "In progress"),
    "06": ("Hoàn thành", "Done"),
}

#: scanner status -> (Vietnamese, English), as the clerk and the fleet read it
SCANNER_STATUS: dict[str, tuple[str, str]] = {
    "ready": ("sẵn sàng", "ready"),
    "scanning": ("đang quét", "scanning"),
    "no_paper": ("hết giấy", "no paper"),
    "jammed": ("kẹt giấy", "paper jam"),
    "cover_open": ("nắp đang mở", "cover open"),
    "busy": ("máy quét đang bận", "scanner busy"),
    "offline": ("không thấy máy quét", "scanner not found"),
    "error": ("máy quét báo lỗi", "scanner error"),
    "unknown": ("chưa rõ", "unknown"),
}

#: the states a station reports (``lost`` is its last will)
STATES = ("online", "offline", "lost")
SEVERITIES = ("info", "warning", "error")
#: the largest message taken on each topic, in bytes
MAX_BYTES = {"state": 4096, "health": 64 * 1024, "event": 64 * 1024, "cmd-resp": 64 * 1024}
#: why a message was dropped (the ``reason`` label of the fleet's metric)
REASONS = (
    "bad_topic",
    "too_large",
    "not_utf8",
    "not_json",
    "not_object",
    "missing_field",
    "unknown_field",
    "wrong_type",
    "bad_value",
)
#: the largest integer taken (JSON numbers are safe up to here everywhere)
MAX_INT = 2**53
#: how deep free-form parts (an event's ``detail``, a reply's ``result``) may nest
MAX_DEPTH = 6

EVENT_TYPE = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
COMMAND_ID = re.compile(r"^[A-Za-z0-9_.:-]{1,64}$")


def _one_of(choices: Collection[str]) -> Callable[[str], str]:
    def check(value: str) -> str:
        if value not in choices:
            raise ValueError(f"not one of {', '.join(choices)}")
        return value

    return check


def _timestamp(value: str) -> str:
    datetime.fromisoformat(value)  # a ValueError says what is wrong
    return value


def _free_form(value: dict[str, Any]) -> dict[str, Any]:
    def depth(item: object) -> int:
        if isinstance(item, dict):
            return 1 + max(map(depth, item.values()), default=0)
        if isinstance(item, list):
            return 1 + max(map(depth, item), default=0)
        return 0

    if depth(value) > MAX_DEPTH:
        raise ValueError(f"nested deeper than {MAX_DEPTH} levels")
    return value


Short = Annotated[str, StringConstraints(max_length=64)]
Name = Annotated[str, StringConstraints(max_length=200)]
Long = Annotated[str, StringConstraints(max_length=4000)]
Version = Annotated[str, StringConstraints(max_length=40)]
Timestamp = Annotated[str, StringConstraints(max_length=40), AfterValidator(_timestamp)]
Count = Annotated[int, Field(ge=0, le=MAX_INT)]
Seconds = Annotated[float, Field(ge=0, le=MAX_INT)]
Percent = Annotated[float, Field(ge=0, le=100)]
Month = Annotated[str, StringConstraints(pattern=r"^[0-9]{4}-(0[1-9]|1[0-2])$")]
EventType = Annotated[str, StringConstraints(pattern=EVENT_TYPE.pattern)]
FreeForm = Annotated[dict[str, Any], AfterValidator(_free_form)]


class Wire(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False, frozen=True)


class Message(Wire):
    """A text the station wrote in both languages."""

    vi: Long
    en: Long


# ---------------------------------------------------------------------- state


class State(Wire):
    state: Annotated[str, AfterValidator(_one_of(STATES))]
    boot: Count
    version: Version
    since: Timestamp


# ---------------------------------------------------------------------- health


class Queue(Wire):
    depth: Count
    to_send: Count
    held: Count
    awaiting_receipt: Count
    oldest_pending_s: Seconds | None
    oldest_unsent_s: Seconds | None
    #: documents the agency's system refused (02) that the clerk has not answered
    rejected: Count = 0


class Disk(Wire):
    free_bytes: Count | None
    total_bytes: Count | None
    free_percent: Percent | None
    #: missing when the disk could not be read
    floor_bytes: Count | None = None


class Memory(Wire):
    rss_bytes: Count | None
    available_bytes: Count | None
    total_bytes: Count | None


class Scanner(Wire):
    model: Name
    device: Name
    status: Annotated[str, AfterValidator(_one_of(SCANNER_STATUS))]
    status_text: Message


class Counters(Wire):
    pages_total: Count
    pages_since_roller: Count
    sheets_total: Count
    sheets_since_roller: Count
    roller_limit: Count


class MonthCounts(Wire):
    documents: Count
    pages: Count
    #: of the documents, those received and those sent; absent from stations older
    #: than them; given together, and adding up to ``documents``
    incoming: Count | None = None
    outgoing: Count | None = None

    @model_validator(mode="after")
    def _split_adds_up(self) -> MonthCounts:
        if (self.incoming is None) != (self.outgoing is None):
            raise ValueError("incoming and outgoing come together")
        if self.incoming is not None and self.incoming + (self.outgoing or 0) != self.documents:
            raise ValueError("incoming + outgoing is not documents")
        return self


class ErrorReport(Wire):
    """A station error as ``StationError.to_json()`` writes it."""

    error: Long
    code: Short
    message: Message


class Signing(Wire):
    enabled: bool
    held: Count | None = None
    ok: bool | None = None
    at: Timestamp | None = None
    subject: Long | None = None
    error: ErrorReport | None = None


class LastError(Wire):
    type: EventType
    ts: Timestamp
    message: Message


class Health(Wire):
    """The station's stats snapshot (``station/appliance/stats.py``)."""

    station_id: Annotated[str, StringConstraints(pattern=STATION_ID.pattern)]
    unit: Name
    version: Version
    boot: Count
    ts: Timestamp
    uptime_s: Count
    interval_s: Annotated[int, Field(ge=1, le=86400)]
    broker_connected: bool | None
    queue: Queue
    disk: Disk
    cpu_temp_c: Annotated[float, Field(ge=-273, le=1000)] | None
    memory: Memory
    scanner: Scanner
    counters: Counters
    digitized: Annotated[dict[Month, MonthCounts], Field(max_length=120)]
    signing: Signing
    last_error: LastError | None
    #: ``[security] network``; absent from stations older than it
    network: Literal["connected", "independent_lan"] | None = None


# ---------------------------------------------------------------------- event


class Event(Wire):
    id: Count
    type: EventType
    severity: Annotated[str, AfterValidator(_one_of(SEVERITIES))]
    ts: Timestamp
    message: Message
    detail: FreeForm


# ---------------------------------------------------------------------- cmd-resp


class CommandError(Wire):
    code: Short
    message: Message


class CmdResp(Wire):
    """A command's reply; ``id`` is null when the command's id could not be read."""

    id: Annotated[str, StringConstraints(pattern=COMMAND_ID.pattern)] | None
    ok: bool
    result: FreeForm | None = None
    error: CommandError | None = None

    @model_validator(mode="after")
    def _one_outcome(self) -> CmdResp:
        if self.ok and self.result is None:
            raise PydanticCustomError("missing", "an ok reply has a result")
        if not self.ok and self.error is None:
            raise PydanticCustomError("missing", "a refused reply has an error")
        return self


# ---------------------------------------------------------------------- decoding

MODELS: dict[str, type[Wire]] = {
    "state": State,
    "health": Health,
    "event": Event,
    "cmd-resp": CmdResp,
}

M = TypeVar("M", bound=Wire)


@dataclass(frozen=True)
class Rejected:
    """Why a message was dropped: one of :data:`REASONS`, and where."""

    reason: str
    detail: str


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _reason(error: ValidationError) -> Rejected:
    first = error.errors(include_url=False, include_input=False)[0]
    kind = first["type"]
    if kind == "missing":
        reason = "missing_field"
    elif kind == "extra_forbidden":
        reason = "unknown_field"
    elif kind.endswith("_type"):
        reason = "wrong_type"
    else:
        reason = "bad_value"
    where = ".".join(str(part)[:40] for part in first["loc"]) or "(payload)"
    return Rejected(reason, f"{where}: {first['msg'][:120]}")


def decode(model: type[M], payload: bytes, limit: int) -> M | Rejected:
    """The message as ``model``, or why it does not fit (never an exception)."""
    if len(payload) > limit:
        return Rejected("too_large", f"{len(payload)} bytes, at most {limit}")
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        return Rejected("not_utf8", f"byte {exc.start}")
    try:
        value = json.loads(text, parse_constant=_no_constant)
    except (ValueError, RecursionError) as exc:
        return Rejected("not_json", str(exc)[:120])
    if not isinstance(value, dict):
        return Rejected("not_object", type(value).__name__)
    try:
        # a lone surrogate ("\\ud800") is JSON but not text: it cannot be stored
        json.dumps(value, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return Rejected("not_utf8", "a lone surrogate escape")
    try:
        return model.model_validate(value)
    except ValidationError as exc:
        return _reason(exc)
