"""A small stand-in for the agency's DMS, for the demo: it takes each edXML
document from the inbox folder, as a DMS polling a folder would (moving it to
``INBOX-taken/``, which the inbox counts as taken), and answers
it through the answers folder: 03 đã tiếp nhận (vào sổ), then 04 phân công,
05 đang xử lý and 06 hoàn thành, ``step_s`` apart.

It reads and writes with the station's own edXML library, so the demo shows
the whole path: station → receiver → edXML → status → station.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from datetime import datetime
from pathlib import Path

from station.common.clock import VIETNAM
from station.common.fsutil import fsync_dir
from station.common.supervisor import supervised
from station.edxml import (
    DocumentMessage,
    EdxmlError,
    Organ,
    ResponseFor,
    StaffInfo,
    StatusMessage,
    read_message,
    status_bytes,
)

log = logging.getLogger("scanstation.demo.dms")

#: what the stand-in answers, in order, with the words of its clerks
ANSWERS = (
    ("03", "Đã vào sổ văn bản đến"),
    ("04", "Đã phân công: Phòng Văn phòng tổng hợp"),
    ("05", "Đang xử lý"),
    ("06", "Đã xử lý xong"),
)


class DmsStandIn:
    def __init__(self, inbox: Path, organ: Organ, step_s: float = 3.0) -> None:
        self.inbox = inbox
        self.answers = inbox / "answers"
        self.organ = organ
        self.step_s = step_s
        #: where it keeps what it took (beside the inbox, not in it)
        self.taken = inbox.parent / f"{inbox.name}-taken"
        self._stop = threading.Event()
        self._thread = supervised("demo-dms", self._run, self._stop)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)

    def _run(self) -> None:
        pending: list[tuple[float, DocumentMessage, int]] = []
        while not self._stop.wait(0.5):
            try:
                for path in sorted(self.inbox.glob("*.edxml")):
                    # taken as a DMS polling the folder takes it: moved out
                    self.taken.mkdir(parents=True, exist_ok=True)
                    kept = self.taken / path.name
                    try:
                        path.replace(kept)
                        message = read_message(kept.read_bytes())
                    except (OSError, EdxmlError) as exc:
                        log.warning("the stand-in DMS cannot read %s: %s", path.name, exc)
                        continue
                    if isinstance(message, DocumentMessage):
                        pending.append((time.monotonic() + self.step_s, message, 0))
                now = time.monotonic()
                later = []
                for due, message, step in pending:
                    if due > now:
                        later.append((due, message, step))
                        continue
                    self._answer(message, *ANSWERS[step])
                    if step + 1 < len(ANSWERS):
                        later.append((now + self.step_s, message, step + 1))
                pending = later
            except Exception:  # the demo's DMS must not take the demo down
                log.exception("the stand-in DMS failed")

    def _answer(self, message: DocumentMessage, code: str, words: str) -> None:
        number = "/".join(p for p in (message.code_number, message.code_notation) if p)
        status = StatusMessage(
            sender=self.organ,
            response_for=ResponseFor(
                organ_id=message.sender.organ_id,
                code=number,
                promulgation_date=message.promulgation_date,
                document_id=message.document_id,
            ),
            status_code=code,
            description=words,
            timestamp=datetime.now(VIETNAM).replace(tzinfo=None, microsecond=0),
            staff=StaffInfo(department="Văn thư", staff="Nguyễn Thị Lan"),
        )
        self.answers.mkdir(parents=True, exist_ok=True)
        key = hashlib.sha256(message.document_id.encode()).hexdigest()[:16]
        name = f"status-{key}-{code}.edxml"
        tmp = self.answers / f".{name}.tmp"
        tmp.write_bytes(status_bytes(status))
        tmp.replace(self.answers / name)
        fsync_dir(self.answers)
