"""Every MQTT topic the station and the central side use (docs/mqtt.md).

One module, so that a topic is spelled once; docs/mqtt.md has one heading per
entry of :data:`DOCUMENTED` and a test keeps the two equal.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "scanstation/v1"
STATION_ID = re.compile(r"^[a-z0-9-]{1,32}$")
#: document and file ids: letters, digits, "-" and "_" (they become file names)
SAFE_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
SHA256 = re.compile(r"^[0-9a-f]{64}$")

#: topic templates under the station's root, as documented in docs/mqtt.md
DOCUMENTED = (
    "state",
    "health",
    "event",
    "file/{file_id}/init",
    "file/{file_id}/{offset}/{sha256}",
    "file/{file_id}/fin/{size}/{sha256}",
    "file/{file_id}/abort",
    "file-response",
    "doc/{doc_id}",
    "doc/{doc_id}/receipt",
    "cmd/{name}",
    "cmd-resp/{name}",
    "$file-async/{file_id}/…",
    "$file-response/{client_id}",
)

# EIP-0021 reason codes of a file-response
OK = 0x00
RESEND = 0x80  # unspecified error: send the command again
CANCEL = 0x83  # implementation specific error: give this file id up
RETRY_LATER = 0x97  # quota exceeded: wait, then send again


def root(station_id: str, base: str = VERSION) -> str:
    """A station's subtree: under ``VERSION``, or for its file transfers and
    documents under another ``base`` (an independent LAN's secret documents,
    ``[security] secret_topic_root``, docs/mqtt.md#another-topic-root)."""
    if not STATION_ID.fullmatch(station_id):
        raise ValueError(f"not a station id: {station_id!r}")
    return f"{base}/{station_id}"


def state(station_id: str) -> str:
    return f"{root(station_id)}/state"


def health(station_id: str) -> str:
    return f"{root(station_id)}/health"


def event(station_id: str) -> str:
    return f"{root(station_id)}/event"


def doc(station_id: str, doc_id: str, base: str = VERSION) -> str:
    return f"{root(station_id, base)}/doc/{doc_id}"


def receipt(station_id: str, doc_id: str, base: str = VERSION) -> str:
    return f"{doc(station_id, doc_id, base)}/receipt"


def cmd(station_id: str, name: str) -> str:
    return f"{root(station_id)}/cmd/{name}"


def cmd_resp(station_id: str, name: str) -> str:
    return f"{root(station_id)}/cmd-resp/{name}"


@dataclass(frozen=True)
class FileTopics:
    """The file-transfer topics of one station in one mode: under the
    station's root ("station"), or EMQX's own ("emqx")."""

    station_id: str
    mode: str = "station"
    client_id: str = ""
    base: str = VERSION

    @property
    def _base(self) -> str:
        return "$file-async" if self.mode == "emqx" else f"{root(self.station_id, self.base)}/file"

    def init(self, file_id: str) -> str:
        return f"{self._base}/{file_id}/init"

    def segment(self, file_id: str, offset: int, sha256: str) -> str:
        return f"{self._base}/{file_id}/{offset}/{sha256}"

    def fin(self, file_id: str, size: int, sha256: str) -> str:
        return f"{self._base}/{file_id}/fin/{size}/{sha256}"

    def abort(self, file_id: str) -> str:
        return f"{self._base}/{file_id}/abort"

    @property
    def response(self) -> str:
        if self.mode == "emqx":
            return f"$file-response/{self.client_id or self.station_id}"
        return f"{root(self.station_id, self.base)}/file-response"


def file_response(station_id: str, base: str = VERSION) -> str:
    return FileTopics(station_id, base=base).response


def receiver_files(base: str = VERSION) -> str:
    """What the central receiver subscribes to for the files (optionally shared)."""
    return f"{base}/+/file/#"


def receiver_docs(base: str = VERSION) -> str:
    return f"{base}/+/doc/+"


RECEIVER_FILES = receiver_files()
RECEIVER_DOCS = receiver_docs()


def station_of(topic: str, base: str = VERSION) -> str | None:
    """The station id of a topic under ``base``, or None."""
    depth = base.count("/") + 1
    parts = topic.split("/")
    if len(parts) <= depth + 1 or "/".join(parts[:depth]) != base:
        return None
    return parts[depth] if STATION_ID.fullmatch(parts[depth]) else None


def shared(group: str, topic_filter: str) -> str:
    return f"$share/{group}/{topic_filter}" if group else topic_filter


@dataclass(frozen=True)
class FileCommand:
    """A file-transfer command parsed from a topic under a station's root."""

    station_id: str
    file_id: str
    kind: str  # "init", "segment", "fin" or "abort"
    offset: int = 0
    size: int = 0
    sha256: str = ""


def parse_file_topic(topic: str, base: str = VERSION) -> FileCommand | None:
    """The command a topic under ``base`` names, or None for anything malformed."""
    depth = base.count("/") + 1
    parts = topic.split("/")
    if len(parts) < depth + 3 or "/".join(parts[:depth]) != base or parts[depth + 1] != "file":
        return None
    station_id, file_id, rest = parts[depth], parts[depth + 2], parts[depth + 3 :]
    if not STATION_ID.fullmatch(station_id) or not SAFE_ID.fullmatch(file_id):
        return None
    if rest == ["init"]:
        return FileCommand(station_id, file_id, "init")
    if rest == ["abort"]:
        return FileCommand(station_id, file_id, "abort")
    if len(rest) == 3 and rest[0] == "fin" and rest[1].isdigit() and SHA256.fullmatch(rest[2]):
        return FileCommand(station_id, file_id, "fin", size=int(rest[1]), sha256=rest[2])
    if len(rest) == 2 and rest[0].isdigit() and SHA256.fullmatch(rest[1]):
        return FileCommand(station_id, file_id, "segment", offset=int(rest[0]), sha256=rest[1])
    return None


def parse_doc_topic(topic: str, base: str = VERSION) -> tuple[str, str] | None:
    """(station_id, doc_id) of a ``doc/{doc_id}`` topic under ``base``, or None."""
    depth = base.count("/") + 1
    parts = topic.split("/")
    if len(parts) != depth + 3 or "/".join(parts[:depth]) != base or parts[depth + 1] != "doc":
        return None
    if not STATION_ID.fullmatch(parts[depth]) or not SAFE_ID.fullmatch(parts[depth + 2]):
        return None
    return parts[depth], parts[depth + 2]
