"""Debian's chromium driven by Playwright (never a downloaded browser), and the
folder where the UI tests leave their screenshots for a person to look at."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, sync_playwright

from tests.helpers.cli import ROOT

CHROMIUM = "/usr/bin/chromium"


def artifacts() -> Path:
    """``test-artifacts/`` in the checkout, or ``$SCANSTATION_ARTIFACTS``."""
    folder = Path(os.environ.get("SCANSTATION_ARTIFACTS") or ROOT / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=["--no-sandbox", "--lang=vi-VN"]
        )
        try:
            yield browser
        finally:
            browser.close()
