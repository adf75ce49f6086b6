"""Sign-in, CSRF and response headers for every web interface.

- With a password hash configured, every page needs a signed-in session, and
  ``/api`` and ``/metrics`` also take HTTP Basic (for scripts and Prometheus).
  Without one the app must listen on loopback (the callers check that).
- Every POST carries the session's CSRF token (a form field or the
  ``X-CSRF-Token`` header).
- Pages may not be framed and load nothing from elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, jsonify, redirect, request, session, url_for

from station.auth import verify_secret
from station.fsutil import atomic_write

PUBLIC_ENDPOINTS = {"login", "static", "set_language"}
MACHINE_PREFIXES = ("/api/", "/metrics")


def secret_key(path: Path) -> bytes:
    """The key that signs sessions, kept in a 0600 file so sign-ins survive a restart."""
    try:
        key = path.read_bytes()
        if len(key) >= 32:
            return key
    except FileNotFoundError:
        pass
    key = secrets.token_bytes(32)
    atomic_write(path, key, mode=0o600)
    return key


def csrf_token() -> str:
    token = session.get("csrf")
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session["csrf"] = token
    return token


class _Verified:
    """Remembers a password that checked out (PBKDF2 is slow on purpose)."""

    def __init__(self) -> None:
        self.digests: set[bytes] = set()

    def check(self, password: str, stored: str) -> bool:
        digest = hashlib.sha256(f"{stored}\0{password}".encode()).digest()
        if digest in self.digests:
            return True
        if verify_secret(password, stored):
            self.digests.add(digest)
            return True
        return False


def install(app: Flask, password_hash: str | None) -> None:
    verified = _Verified()
    app.config["PASSWORD_HASH"] = password_hash
    app.jinja_env.globals["csrf_token"] = csrf_token

    @app.before_request
    def guard() -> Any:
        if (
            password_hash
            and request.endpoint not in PUBLIC_ENDPOINTS
            and not session.get("signed_in")
        ):
            auth = request.authorization
            machine = request.path.startswith(MACHINE_PREFIXES)
            if not (
                machine
                and auth is not None
                and auth.password is not None
                and verified.check(auth.password, password_hash)
            ):
                if machine:
                    response = jsonify({"error": "sign-in required", "code": "auth"})
                    response.status_code = 401
                    response.headers["WWW-Authenticate"] = 'Basic realm="scanstation"'
                    return response
                return redirect(url_for("login", next=request.full_path))
        if request.method == "POST":
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
            if not hmac.compare_digest(str(sent), csrf_token()):
                abort(400, description="csrf")
        return None

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        )
        return response

    def check_password(password: str) -> bool:
        return bool(password_hash) and verified.check(password, password_hash or "")

    app.extensions["check_password"] = check_password
