"""What every web interface checks before any of its pages runs.

- The ``Host`` of every request must be one of the app's own names (the
  loopback names, the listen address, the configured extra names): a page of
  another site that points its own name at this machine (DNS rebinding) is
  refused with 421 before Flask sees the request.
- A path with control characters or bytes that are not UTF-8 is not found (404).
- With a password hash configured, every page needs a signed-in session, and
  ``/api`` and ``/metrics`` also take HTTP Basic (for scripts and Prometheus).
  Without one the app must listen on loopback (the callers check that).
  Wrong passwords are throttled per client (:mod:`station.ui.throttle`).
- Every POST carries the session's CSRF token (a form field or the
  ``X-CSRF-Token`` header).
- Redirects go only to paths on this site (:func:`local_target`).
- Pages may not be framed and load nothing from elsewhere.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import secrets
import socket
import unicodedata
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from flask import (
    Flask,
    Response,
    abort,
    jsonify,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from station.common.auth import verify_secret
from station.common.fsutil import atomic_write
from station.ui import throttle
from station.ui.throttle import Throttle

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

PUBLIC_ENDPOINTS = {"login", "static", "set_language"}
MACHINE_PREFIXES = ("/api/", "/metrics")
#: the names of this machine that no other site can take
LOOPBACK_NAMES = ("localhost", "127.0.0.1", "::1")
MISDIRECTED = (
    "Địa chỉ này không thuộc trạm; hãy mở bằng tên đã cấu hình "
    "/ This host name is not served here; open the configured address\n"
)


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


# ------------------------------------------------------------------ host names


def host_name(header: str) -> str | None:
    """The name in a ``Host`` header (``name``, ``name:port``, ``[v6]:port``), lower-case;
    None when it is not one."""
    value = header.strip().lower()
    if value.startswith("["):
        name, bracket, port = value[1:].partition("]")
        if not bracket or (port and not port.startswith(":")):
            return None
        port = port[1:]
    else:
        name, colon, port = value.partition(":")
        if colon and not port:
            return None
    if port and not port.isdigit():
        return None
    return name or None


def allowed_names(listen_host: str, extra: Iterable[str]) -> frozenset[str]:
    """The names a request may carry: loopback, the listen address (or this
    machine's own names when it listens on every address) and ``extra``."""
    names = set(LOOPBACK_NAMES)
    names.update(name.strip().strip("[]").lower() for name in extra)
    host = listen_host.strip("[]").lower()
    if _unspecified(host):
        own = socket.gethostname().lower()
        names.update({own, f"{own}.local"})
    else:
        names.add(host)
    return frozenset(names)


def _unspecified(host: str) -> bool:
    try:
        return not host or ipaddress.ip_address(host).is_unspecified
    except ValueError:
        return False


class HostCheck:
    """WSGI middleware: a request whose ``Host`` is not one of ``names`` gets 421."""

    def __init__(self, app: WSGIApplication, names: frozenset[str]) -> None:
        self.app = app
        self.names = names

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse) -> Any:
        name = host_name(environ.get("HTTP_HOST", ""))
        if name is not None and name in self.names:
            return self.app(environ, start_response)
        body = MISDIRECTED.encode()
        start_response(
            "421 Misdirected Request",
            [
                ("Content-Type", "text/plain; charset=utf-8"),
                ("Content-Length", str(len(body))),
                ("Cache-Control", "no-store"),
            ],
        )
        return [body]


# ------------------------------------------------------------------ paths and redirects


def _has_control(text: str) -> bool:
    return any(unicodedata.category(c) in ("Cc", "Cs") or c == "\ufffd" for c in text)


def _is_local(path: str) -> bool:
    if not path.startswith("/") or path.startswith("//") or "\\" in path or _has_control(path):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc


def local_target(raw: str | None, default: str = "/") -> str:
    """``raw`` when it is a path on this site, else ``default``: no scheme, no host,
    no ``//`` or backslash (browsers read both as another host), no control
    character (browsers drop tabs and newlines, so ``/<tab>/evil`` would be ``//evil``),
    and none of these once percent-decoded either (``/%09/evil``, ``/%2F/evil``)."""
    if not raw or not _is_local(raw) or not _is_local(unquote(raw)):
        return default
    return raw


# ------------------------------------------------------------------ throttling


def client() -> str:
    return throttle.client_key(request.remote_addr)


def too_many(wait_s: int, template: str | None = None, **context: Any) -> Response:
    """429 with ``Retry-After``: JSON for scripts, the form (or the error page) for people."""
    text = throttle.message(wait_s)
    if request.path.startswith(MACHINE_PREFIXES) or request.headers.get("Accept", "").startswith(
        "application/json"
    ):
        response = jsonify({"ok": False, "error": text, "code": "throttled", "retry_after": wait_s})
    elif template is not None:
        response = Response(render_template(template, error=text, **context))
    else:
        response = Response(render_template("error.html", status=429, message=text))
    response.status_code = 429
    response.headers["Retry-After"] = str(wait_s)
    return response


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


class PasswordCheck:
    """The password, for the sign-in form and HTTP Basic alike, behind one throttle."""

    def __init__(self, password_hash: str | None) -> None:
        self.password_hash = password_hash
        self.throttle = Throttle()
        self._verified = _Verified()

    def __call__(self, password: str) -> tuple[bool, int]:
        """(right, seconds to wait). A client that must wait is not checked at all,
        and a wrong password that starts a lockout answers its wait."""
        who = client()
        wait = self.throttle.wait(who)
        if wait:
            return False, wait
        if self.password_hash and self._verified.check(password, self.password_hash):
            self.throttle.succeeded(who)
            return True, 0
        return False, self.throttle.failed(who)


# ------------------------------------------------------------------ install


def install(app: Flask, password_hash: str | None, hosts: frozenset[str]) -> None:
    check_password = PasswordCheck(password_hash)
    app.config["PASSWORD_HASH"] = password_hash
    app.jinja_env.globals["csrf_token"] = csrf_token
    app.extensions["check_password"] = check_password
    wsgi: Callable[..., Any] = app.wsgi_app
    app.wsgi_app = HostCheck(wsgi, hosts)  # type: ignore[method-assign]

    @app.before_request
    def bad_path() -> None:
        if _has_control(request.path):
            abort(404)

    @app.before_request
    def guard() -> Any:
        if (
            password_hash
            and request.endpoint not in PUBLIC_ENDPOINTS
            and not session.get("signed_in")
        ):
            machine = request.path.startswith(MACHINE_PREFIXES)
            auth = request.authorization if machine else None
            if auth is not None and auth.password is not None:
                right, wait = check_password(auth.password)
                if wait:
                    return too_many(wait)
                if right:
                    return _csrf()
            if machine:
                response = jsonify({"error": "sign-in required", "code": "auth"})
                response.status_code = 401
                response.headers["WWW-Authenticate"] = 'Basic realm="scanstation"'
                return response
            return redirect(url_for("login", next=request.full_path))
        return _csrf()

    def _csrf() -> None:
        if request.method == "POST":
            sent = request.form.get("csrf_token") or request.headers.get("X-CSRF-Token", "")
            if not hmac.compare_digest(str(sent), csrf_token()):
                abort(400, description="csrf")

    @app.after_request
    def headers(response: Response) -> Response:
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "no-referrer"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'"
        )
        return response
