"""The central receiver: file transfers from the stations into a folder tree.

For every station (``scanstation/v1/+/…``, optionally in a shared
subscription group):

- ``file/{file_id}/init``: the file's name, size, checksum and the document's
  metadata, kept beside its segments;
- ``file/{file_id}/{offset}/{sha256}``: a segment, kept only when its SHA-256
  matches (else the station is asked to send it again, 0x80);
- ``file/{file_id}/fin/{size}/{sha256}``: the segments must cover the file
  without a gap and the whole must match; the file is assembled and moved
  atomically to ``OUT/{station_id}/{yyyy}/{mm}/{doc_id}.pdf``;
- ``doc/{doc_id}``: the metadata is written beside the file
  (``{doc_id}.json``), the document is handed off (the DMS's edXML inbox,
  :mod:`station.central.dms`, when configured) and receipt 01 is published,
  retained, on ``doc/{doc_id}/receipt``.

Every command is answered on the station's ``file-response`` topic with an
EIP-0021 reason code. The station is always the one the topic names, never
what a payload claims. What one station may hold in flight is bounded
(:mod:`station.central.transfers`), and each station's messages are handled
on a worker of its own (:mod:`station.central.workers`), in order, so one
station's traffic does not hold up another's. The first metadata stored for a
document is kept: a ``doc`` announced again with other metadata is logged and
ignored. Everything is idempotent: a repeated segment, ``fin``
or ``doc`` changes nothing and is answered the same. Segments are kept in
``OUT/.transfer/`` so that receivers sharing ``OUT`` (a shared-subscription
group) can each take any message of a transfer; the final move uses a hard
link, which fails when another receiver got there first, so each document is
written exactly once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station.central.transfers import MAX_JSON, ReceiverLimits, Transfers
from station.central.workers import StationWorkers
from station.common.fsutil import atomic_write, fsync_dir, sha256_file
from station.common.supervisor import supervised
from station.wire import topics
from station.wire.mqtt import Connection, json_object

log = logging.getLogger("scanstation.receiver")

__all__ = ["MAX_JSON", "Receiver", "ReceiverLimits"]

#: what is done with a document stored whole: (station_id, doc_id, metadata, file)
HandOff = Callable[[str, str, dict[str, Any], Path], object]

#: the payload keys that name the station; the topic's station id replaces them
STATION_KEYS = ("station_id", "StationId")


class Receiver:
    def __init__(
        self,
        connection: Connection,
        out: Path,
        share_group: str = "",
        limits: ReceiverLimits | None = None,
        base: str = topics.VERSION,
        hand_off: HandOff | None = None,
    ) -> None:
        self.out = out
        #: called with every document stored whole, before its receipt 01: the
        #: edXML inbox of the agency's DMS (station.central.dms); a failure
        #: leaves the receipt out, so the station announces the document again
        self.hand_off = hand_off
        #: the topic root it takes documents under: the stations' own, or an
        #: independent LAN's root of secret documents (docs/mqtt.md#another-topic-root)
        self.base = base
        self.transfer = out / ".transfer"
        self.transfer.mkdir(parents=True, exist_ok=True)
        self.conn = connection
        self.group = share_group
        self.limits = limits or ReceiverLimits()
        self.transfers = Transfers(self.transfer, self.limits)
        self.workers = StationWorkers(self.handle, self.limits.queue_bytes)
        self._stop = threading.Event()
        self._sweeper: threading.Thread | None = None
        connection.on_message = self._on_message
        connection.subscribe(topics.shared(share_group, topics.receiver_files(base)))
        connection.subscribe(topics.shared(share_group, topics.receiver_docs(base)))

    # ------------------------------------------------------------------ threads

    def _start_sweeper(self) -> None:
        """Idle transfers are swept from the first message on (not in the
        connect callback: that would hold up the subscriptions)."""
        if self._sweeper is None and not self._stop.is_set():
            self._sweeper = supervised("receiver-sweep", self._sweep_loop, self._stop)
            self._sweeper.start()

    def _sweep_loop(self) -> None:
        interval = min(60.0, max(0.5, self.limits.idle_s / 4))
        while True:
            try:
                self.transfers.sweep()
            except Exception:  # a folder that vanished mid-sweep: try again later
                log.exception("could not sweep idle transfers")
            if self._stop.wait(interval):
                return

    def stop(self) -> None:
        """Finish the queued messages and stop the sweeper (after the connection stopped)."""
        self._stop.set()
        self.workers.stop()
        if self._sweeper is not None:
            self._sweeper.join(10)

    # ------------------------------------------------------------------ messages

    def _on_message(self, topic: str, payload: bytes) -> None:
        """On the network thread: hand the message to its station's worker."""
        self._start_sweeper()
        station_id = topics.station_of(topic, self.base)
        if station_id is None:
            log.warning("ignored a message on an unknown topic: %r", topic[:200])
            return
        command = topics.parse_file_topic(topic, self.base)
        if command is None:
            # doc messages have no answer to say "later": they always queue
            # (a doc larger than MAX_JSON is ignored anyway)
            if len(payload) <= MAX_JSON:
                self.workers.submit(station_id, topic, payload, force=True)
            else:
                log.warning("ignored an oversized message on %r", topic[:200])
            return
        if not self.workers.submit(station_id, topic, payload):
            log.info("station %s has too much queued: %r is to be sent later", station_id,
                     topic[:200])  # fmt: skip
            self._respond(station_id, topic, topics.RETRY_LATER, "receiver busy with this station")

    def handle(self, topic: str, payload: bytes) -> None:
        """Handle one message now (on the station's worker)."""
        try:
            command = topics.parse_file_topic(topic, self.base)
            if command is not None:
                with self.transfers.lock(command.station_id):
                    self._file(command, payload, topic)
                return
            named = topics.parse_doc_topic(topic, self.base)
            if named is not None:
                with self.transfers.lock(named[0]):
                    self._doc(named[0], named[1], payload)
                return
            log.warning("ignored a message on an unknown topic: %r", topic[:200])
        except Exception:  # a bad message must not stop the receiver
            log.exception("could not handle a message on %r", topic[:200])

    def _respond(
        self, station_id: str, topic: str, code: int, why: str = "", **extra: object
    ) -> None:
        body = {"vsn": "0.1", "topic": topic, "reason_code": code, "reason_description": why}
        body.update(extra)
        self.conn.publish(
            topics.file_response(station_id, self.base), json.dumps(body).encode(), qos=1
        )

    def _dir(self, command: topics.FileCommand) -> Path:
        return self.transfers.folder(command.station_id, command.file_id)

    def _file(self, command: topics.FileCommand, payload: bytes, topic: str) -> None:
        station, file_id = command.station_id, command.file_id
        folder = self._dir(command)
        if command.kind == "init":
            code, why = self._init(command, payload)
            if code != topics.OK:
                if code != topics.RETRY_LATER:
                    log.warning("refused init %s/%s: %s", station, file_id, why)
                self._respond(station, topic, code, why)
                return
            # a transfer that resumes: the segments already here need not come again
            have = sorted(int(p.stem) for p in folder.glob("*.seg") if p.stem.isdigit())
            self._respond(station, topic, topics.OK, segments=have)
        elif command.kind == "segment":
            if hashlib.sha256(payload).hexdigest() != command.sha256:
                self._respond(station, topic, topics.RESEND, "segment checksum")
                return
            code, why = self.transfers.admit_segment(station, file_id, command.offset,
                                                     len(payload))  # fmt: skip
            if code != topics.OK:
                if code == topics.CANCEL:
                    log.warning("refused segment %s/%s@%d: %s", station, file_id,
                                command.offset, why)  # fmt: skip
                self._respond(station, topic, code, why)
                return
            atomic_write(folder / f"{command.offset:015d}.seg", payload, mode=0o644)
            self.transfers.stored(station, file_id, command.offset, len(payload))
            self._respond(station, topic, topics.OK)
        elif command.kind == "fin":
            code, why = self._finish(command)
            self._respond(station, topic, code, why)
        elif command.kind == "abort":
            self.transfers.drop(station, file_id)
            self._respond(station, topic, topics.OK)

    def _init(self, command: topics.FileCommand, payload: bytes) -> tuple[int, str]:
        """Check an init and keep it; the reason code and why."""
        info = json_object(payload, MAX_JSON)
        size = info.get("size") if info else None
        if (
            info is None
            or not isinstance(info.get("name"), str)
            or not isinstance(size, int)
            or isinstance(size, bool)
            or size < 0
        ):
            return topics.CANCEL, "init is not valid JSON with a name and a size"
        user = info.get("user_data") or {}
        doc_id = user.get("doc_id") if isinstance(user, dict) else None
        if not isinstance(doc_id, str) or not topics.SAFE_ID.fullmatch(doc_id):
            return topics.CANCEL, "init has no valid doc_id"
        folder = self._dir(command)
        kept = json_object(_read(folder / "init.json"), MAX_JSON)
        if kept is not None and (kept.get("size"), kept.get("checksum")) != (
            size,
            info.get("checksum"),
        ):
            return topics.CANCEL, "this file id was used for another file"
        code, why = self.transfers.admit_init(command.station_id, command.file_id, size)
        if code != topics.OK:
            return code, why
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(folder / "init.json", payload, mode=0o644)
        self.transfers.started(command.station_id, command.file_id, size)
        return topics.OK, ""

    def _finish(self, command: topics.FileCommand) -> tuple[int, str]:
        folder = self._dir(command)
        info = (
            json_object((folder / "init.json").read_bytes(), MAX_JSON)
            if (folder / "init.json").exists()
            else None
        )
        if info is None:
            return topics.CANCEL, "no init for this file"
        doc_id = info["user_data"]["doc_id"]
        final = self.final_path(command.station_id, doc_id, info["user_data"])
        if final.exists():
            same = sha256_file(final) == command.sha256
            return (topics.OK, "") if same else (topics.CANCEL, "a different file has this doc_id")
        segments = sorted((int(p.stem), p) for p in folder.glob("*.seg") if p.stem.isdigit())
        position = 0
        digest = hashlib.sha256()
        parts = []
        for offset, path in segments:
            if offset > position:
                return topics.RESEND, f"missing segment at {position}"
            size = path.stat().st_size
            if offset + size <= position:
                continue  # wholly covered by an earlier segment
            parts.append((offset, path))
            position = offset + size
        if position != command.size:
            return topics.RESEND, f"have {position} of {command.size} bytes"
        final.parent.mkdir(parents=True, exist_ok=True)
        tmp = final.parent / f".{final.name}.{os.getpid()}.{threading.get_ident()}.tmp"
        with tmp.open("wb") as stream:
            written = 0
            for offset, path in parts:
                data = path.read_bytes()[written - offset :]
                stream.write(data)
                digest.update(data)
                written += len(data)
            stream.flush()
            os.fsync(stream.fileno())
        if digest.hexdigest() != command.sha256:
            tmp.unlink(missing_ok=True)
            for _, path in segments:
                path.unlink(missing_ok=True)
            self.transfers.forget_segments(command.station_id, command.file_id)
            return topics.RESEND, "file checksum"
        try:
            os.link(tmp, final)  # fails when another receiver wrote it first
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
        fsync_dir(final.parent)
        same = sha256_file(final) == command.sha256
        return (topics.OK, "") if same else (topics.CANCEL, "a different file has this doc_id")

    def final_path(self, station_id: str, doc_id: str, user_data: dict[str, Any]) -> Path:
        """``OUT/{station_id}/{yyyy}/{mm}/{doc_id}.pdf``; the month is the
        document's creation at the station, so every receiver picks the same."""
        created = str(user_data.get("created_at", ""))
        match = re.match(r"^(\d{4})-(\d{2})", created)
        year, month = match.groups() if match else (f"{datetime.now(UTC):%Y}", "00")
        return self.out / station_id / year / month / f"{doc_id}.pdf"

    def _doc(self, station_id: str, doc_id: str, payload: bytes) -> None:
        info = json_object(payload, MAX_JSON)
        if info is None or info.get("doc_id") != doc_id:
            log.warning("ignored a malformed doc message for %s/%s", station_id, doc_id)
            return
        record = _own(station_id, info)
        final = self.final_path(station_id, doc_id, record)
        sha = record.get("sha256")
        if not final.exists() or sha256_file(final) != sha:
            log.warning("doc %s/%s announced before its file arrived", station_id, doc_id)
            return
        if not self._keep_metadata(final.with_suffix(".json"), record):
            log.warning(
                "doc %s/%s announced again with other metadata: the first is kept, "
                "this one ignored",
                station_id,
                doc_id,
            )
            return
        if self.hand_off is not None:
            try:
                self.hand_off(station_id, doc_id, record, final)
            except Exception:  # no receipt: the station announces it again later
                log.exception("could not hand %s/%s to the DMS", station_id, doc_id)
                return
        body = {
            "status": "01",
            "sha256": sha,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.conn.publish(
            topics.receipt(station_id, doc_id, self.base),
            json.dumps(body).encode(),
            qos=1,
            retain=True,
        )
        # the segments are no longer needed
        file_id = record.get("file_id")
        if isinstance(file_id, str) and topics.SAFE_ID.fullmatch(file_id):
            self.transfers.drop(station_id, file_id)

    @staticmethod
    def _keep_metadata(path: Path, record: dict[str, Any]) -> bool:
        """Store a document's metadata once: True when ``record`` is what is
        stored (now or before), False when other metadata was stored first."""
        if not path.exists():
            data = (json.dumps(record, ensure_ascii=False, indent=2) + "\n").encode()
            tmp = path.parent / f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp"
            atomic_write(tmp, data, mode=0o644)
            try:
                os.link(tmp, path)  # fails when another receiver of the group wrote it first
            except FileExistsError:
                pass
            finally:
                tmp.unlink(missing_ok=True)
            fsync_dir(path.parent)
        return json_object(_read(path), 4 * MAX_JSON) == record


def _own(station_id: str, info: dict[str, Any]) -> dict[str, Any]:
    """The metadata with the station named by the topic: a payload's own claim
    is replaced (and logged when it differs)."""
    claims = {k: info[k] for k in STATION_KEYS if k in info and info[k] != station_id}
    if claims:
        log.warning("doc from %s claims to come from %r: the topic's station is kept",
                    station_id, claims)  # fmt: skip
    record = dict(info)
    record["station_id"] = station_id
    if "StationId" in record:
        record["StationId"] = station_id
    return record


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return b""
