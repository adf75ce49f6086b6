"""Commands about the machine and its settings: doctor, passwd."""

from __future__ import annotations

import argparse
import json
import sys

from station import config as config_mod
from station.commands import load_config, say
from station.errors import StationError, UsageError


def cmd_doctor(args: argparse.Namespace) -> int:
    from station.appliance.doctor import Check, run_checks

    cfg: config_mod.Config | None
    try:
        cfg = load_config(args)
        source = args.config or (
            str(config_mod.DEFAULT_PATH)
            if config_mod.DEFAULT_PATH.exists()
            else "built-in defaults"
        )
        config_check = Check("config", True, f"valid ({source})")
    except StationError as exc:
        cfg = None  # checks that depend on the config are skipped, nothing is created
        config_check = Check("config", False, exc.message_en, "edit the file as the message says")
    checks = run_checks(cfg, config_check)
    failed = [c for c in checks if not c.ok and c.required]
    if args.json:
        say(json.dumps({"ok": not failed, "checks": [c.as_dict() for c in checks]}, indent=2))
    else:
        for check in checks:
            mark = "OK  " if check.ok else ("LỖI" if check.required else "CHÚ Ý")
            say(f"[{mark:5}] {check.name:18} {check.detail}")
            if not check.ok and check.fix:
                say(f"{'':8}{'':18} cách sửa / fix: {check.fix}")
        say()
        say(
            "Sẵn sàng / ready"
            if not failed
            else f"Thiếu {len(failed)} thành phần bắt buộc / {len(failed)} required check(s) failed"
        )
    return 4 if failed else 0


def cmd_passwd(args: argparse.Namespace) -> int:
    import getpass

    from station.common.auth import hash_secret

    if sys.stdin.isatty():
        first = getpass.getpass("Mật khẩu mới / new password: ")
        if getpass.getpass("Nhập lại / again: ") != first:
            raise UsageError("the two entries differ", "Hai lần nhập không khớp")
    else:
        first = sys.stdin.readline().rstrip("\n")
    if len(first) < (4 if args.pin else 8):
        raise UsageError(
            f"too short: at least {4 if args.pin else 8} characters",
            f"Quá ngắn: ít nhất {4 if args.pin else 8} ký tự",
        )
    say(hash_secret(first))
    return 0
