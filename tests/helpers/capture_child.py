"""A capturing process for the crash tests: captures a folder into a store and
prints one line per page *after* the store reported it durable."""

from __future__ import annotations

import sys
from pathlib import Path

from station.capture.folder import FolderSource
from station.capture.session import capture_batch
from station.config import Profile
from station.store import Page, Store


def main() -> None:
    data_dir, folder = Path(sys.argv[1]), Path(sys.argv[2])
    resume = sys.argv[3] if len(sys.argv) > 3 else None
    store = Store(data_dir, owner=True)
    store.recover()

    def report(page: Page) -> None:
        print(f"PAGE {page.batch_id} {page.seq} {page.sha256}", flush=True)

    result = capture_batch(
        store, FolderSource(folder), "standard", Profile(), on_page=report, resume=resume
    )
    print(f"DONE {result.batch.id} {result.batch.state}", flush=True)


if __name__ == "__main__":
    main()
