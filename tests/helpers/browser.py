"""Debian's chromium driven by Playwright (never a downloaded browser), and the
folder where the UI tests leave their screenshots for a person to look at."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

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


#: what a finger presses on the station's screens
CONTROLS = "button, input, select, textarea, a.button, .lang, summary"


def small_targets(page: Page, controls: str = CONTROLS) -> list[str]:
    """Visible controls a finger cannot hit: less than 48 px high or wide."""
    found: list[str] = page.evaluate(
        """(controls) => [...document.querySelectorAll(controls)]
            .filter(e => e.offsetParent !== null && e.type !== "hidden")
            .filter(e => { const r = e.getBoundingClientRect(); return r.height < 48 || r.width < 48; })
            .map(e => e.outerHTML.slice(0, 80))""",
        controls,
    )
    return found
