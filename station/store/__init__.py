"""The store: SQLite and the spool; schema, batches and their state machine, outbox, event log.
Imports only station.common and station.errors.
"""

from station.store.batches import (
    BATCH_TRANSITIONS,
    FORWARD,
    PAGE_STATES,
    Batch,
    Page,
    RecoveryReport,
    forward_steps,
    new_batch_id,
)
from station.store.connection import now_iso
from station.store.database import Store, duplicate_key
from station.store.events import Event, EventLog
from station.store.outbox import OUTBOX_STATES, Outbox, OutboxItem
from station.store.retention import Periods, Removal, Retention

__all__ = [
    "BATCH_TRANSITIONS",
    "FORWARD",
    "OUTBOX_STATES",
    "PAGE_STATES",
    "Batch",
    "Event",
    "EventLog",
    "Outbox",
    "OutboxItem",
    "Page",
    "Periods",
    "RecoveryReport",
    "Removal",
    "Retention",
    "Store",
    "duplicate_key",
    "forward_steps",
    "new_batch_id",
    "now_iso",
]
