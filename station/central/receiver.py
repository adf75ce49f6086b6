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
  (``{doc_id}.json``) and receipt 01 is published, retained, on
  ``doc/{doc_id}/receipt``.

Every command is answered on the station's ``file-response`` topic with an
EIP-0021 reason code. Everything is idempotent: a repeated segment, ``fin``
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
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from station.fsutil import atomic_write, fsync_dir, sha256_file
from station.uplink import topics
from station.uplink.mqtt import Connection, json_object

log = logging.getLogger("scanstation.receiver")

#: the largest init or doc message accepted (metadata, not file data)
MAX_JSON = 256 * 1024


class Receiver:
    def __init__(self, connection: Connection, out: Path, share_group: str = "") -> None:
        self.out = out
        self.transfer = out / ".transfer"
        self.transfer.mkdir(parents=True, exist_ok=True)
        self.conn = connection
        self.group = share_group
        self._lock = threading.Lock()
        connection.on_message = self._on_message
        connection.subscribe(topics.shared(share_group, topics.RECEIVER_FILES))
        connection.subscribe(topics.shared(share_group, topics.RECEIVER_DOCS))

    # ------------------------------------------------------------------ messages

    def _on_message(self, topic: str, payload: bytes) -> None:
        try:
            command = topics.parse_file_topic(topic)
            if command is not None:
                self._file(command, payload, topic)
                return
            named = topics.parse_doc_topic(topic)
            if named is not None:
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
        self.conn.publish(topics.file_response(station_id), json.dumps(body).encode(), qos=1)

    def _dir(self, command: topics.FileCommand) -> Path:
        return self.transfer / command.station_id / command.file_id

    def _file(self, command: topics.FileCommand, payload: bytes, topic: str) -> None:
        folder = self._dir(command)
        if command.kind == "init":
            info = json_object(payload, MAX_JSON)
            if info is None or not isinstance(info.get("name"), str):
                self._respond(command.station_id, topic, topics.CANCEL, "init is not valid JSON")
                return
            user = info.get("user_data") or {}
            doc_id = user.get("doc_id") if isinstance(user, dict) else None
            if not isinstance(doc_id, str) or not topics.SAFE_ID.fullmatch(doc_id):
                self._respond(command.station_id, topic, topics.CANCEL, "init has no valid doc_id")
                return
            folder.mkdir(parents=True, exist_ok=True)
            atomic_write(folder / "init.json", payload, mode=0o644)
            # a transfer that resumes: the segments already here need not come again
            have = sorted(int(p.stem) for p in folder.glob("*.seg") if p.stem.isdigit())
            self._respond(command.station_id, topic, topics.OK, segments=have)
        elif command.kind == "segment":
            if hashlib.sha256(payload).hexdigest() != command.sha256:
                self._respond(command.station_id, topic, topics.RESEND, "segment checksum")
                return
            if not (folder / "init.json").exists():
                self._respond(command.station_id, topic, topics.RESEND, "no init for this file")
                return
            atomic_write(folder / f"{command.offset:015d}.seg", payload, mode=0o644)
            self._respond(command.station_id, topic, topics.OK)
        elif command.kind == "fin":
            code, why = self._finish(command)
            self._respond(command.station_id, topic, code, why)
        elif command.kind == "abort":
            for part in folder.glob("*"):
                part.unlink(missing_ok=True)
            self._respond(command.station_id, topic, topics.OK)

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
        final = self.final_path(station_id, doc_id, info)
        sha = info.get("sha256")
        if not final.exists() or sha256_file(final) != sha:
            log.warning("doc %s/%s announced before its file arrived", station_id, doc_id)
            return
        atomic_write(
            final.with_suffix(".json"),
            (json.dumps(info, ensure_ascii=False, indent=2) + "\n").encode(),
            mode=0o644,
        )
        body = {
            "status": "01",
            "sha256": sha,
            "at": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        self.conn.publish(
            topics.receipt(station_id, doc_id), json.dumps(body).encode(), qos=1, retain=True
        )
        # the segments are no longer needed
        file_id = info.get("file_id")
        if isinstance(file_id, str) and topics.SAFE_ID.fullmatch(file_id):
            folder = self.transfer / station_id / file_id
            for part in folder.glob("*"):
                part.unlink(missing_ok=True)
            if folder.exists():
                folder.rmdir()
