"""The `scanstation` subcommands, thin: parse, call a room, print. Shared here: output, config
loading, signals. May import every room (the `demo` command imports the demo)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from pathlib import Path
from types import FrameType

from station import config as config_mod
from station.config import remote as settings


def say(text: str = "") -> None:
    print(text, flush=True)


def load_config(args: argparse.Namespace) -> config_mod.Config:
    """The effective config: the file (or defaults) with the fleet's saved settings."""
    path = Path(args.config) if getattr(args, "config", None) else None
    return settings.load(path)


def stop_on_signals(
    notice: str = "Đang dừng sau trang hiện tại… / stopping after this page…",
) -> threading.Event:
    """A stop event set by SIGINT/SIGTERM (a second signal interrupts at once):
    the page being written is finished first."""
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        print(f"\n{notice}", file=sys.stderr)

    signal.signal(signal.SIGINT, handler)
    signal.signal(signal.SIGTERM, handler)
    return stop
