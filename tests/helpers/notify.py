"""Where the fleet's notifications go in the tests: a real SMTP server on
loopback (aiosmtpd, with STARTTLS or SMTPS, and a login), and a real HTTP
server taking the webhook's posts (it checks their HMAC signature)."""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from tests.helpers.broker import free_port


@dataclass
class Mail:
    message: EmailMessage
    mail_from: str
    rcpt_tos: list[str]
    authenticated: bool
    over_tls: bool

    @property
    def subject(self) -> str:
        return str(self.message["Subject"])

    @property
    def text(self) -> str:
        body = self.message.get_body(("plain",))
        assert body is not None
        return str(body.get_content())


@dataclass
class Mailbox:
    """What an SMTP server on loopback received."""

    login: str
    password: str
    port: int = 0
    mails: list[Mail] = field(default_factory=list)
    refused_logins: int = 0

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        message = email.message_from_bytes(raw, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        self.mails.append(
            Mail(
                message,
                str(envelope.mail_from),
                list(envelope.rcpt_tos),
                bool(session.authenticated),
                session.ssl is not None,
            )
        )
        return "250 OK"

    def authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, data: Any
    ) -> AuthResult:
        right = (
            isinstance(data, LoginPassword)
            and data.login == self.login.encode()
            and data.password == self.password.encode()
        )
        if not right:
            self.refused_logins += 1
        # handled=False: aiosmtpd answers a refusal itself (535)
        return AuthResult(success=right, handled=False)


def server_context(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    return context


@contextmanager
def smtp_server(
    cert: Path, key: Path, login: str, password: str, *, implicit_tls: bool = False
) -> Iterator[Mailbox]:
    """An SMTP server on loopback: STARTTLS required before the login, or SMTPS
    (TLS from the first byte) with ``implicit_tls``."""
    box = Mailbox(login, password)
    context = server_context(cert, key)
    tls: dict[str, Any] = (
        # the connection is TLS already: aiosmtpd's "AUTH only after STARTTLS" would hide AUTH
        {"ssl_context": context, "auth_require_tls": False}
        if implicit_tls
        else {"tls_context": context, "require_starttls": True, "auth_require_tls": True}
    )
    controller = Controller(
        box, hostname="127.0.0.1", port=free_port(), authenticator=box.authenticate, **tls
    )
    controller.start()
    box.port = controller.port
    try:
        yield box
    finally:
        controller.stop()


@dataclass
class Post:
    headers: dict[str, str]
    body: bytes
    at: float

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Hook:
    """What a webhook receiver on loopback was sent. ``plan`` says how it answers
    the next posts: an HTTP status, or "slow" (no answer for ``slow_s``)."""

    secret: str
    port: int = 0
    posts: list[Post] = field(default_factory=list)
    plan: list[int | str] = field(default_factory=list)
    slow_s: float = 3.0
    bad_signatures: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/giam-sat"

    def clear(self) -> None:
        self.posts.clear()
        self.plan.clear()
        self.bad_signatures = 0

    def signed(self, post: Post) -> bool:
        want = "sha256=" + hmac.new(self.secret.encode(), post.body, hashlib.sha256).hexdigest()
        return hmac.compare_digest(post.headers.get("x-scanstation-signature", ""), want)


@contextmanager
def webhook_server(secret: str) -> Iterator[Hook]:
    hook = Hook(secret)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            post = Post(
                {k.lower(): v for k, v in self.headers.items()}, self.rfile.read(length),
                time.monotonic(),
            )  # fmt: skip
            hook.posts.append(post)
            if not hook.signed(post):
                hook.bad_signatures += 1
            answer = hook.plan.pop(0) if hook.plan else 200
            if answer == "slow":
                time.sleep(hook.slow_s)
                answer = 200
            assert isinstance(answer, int)
            self.send_response(answer)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    class Server(ThreadingHTTPServer):
        def handle_error(self, request: Any, client_address: Any) -> None:
            pass  # a client that gave up on a slow answer: nothing to report

    server = Server(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    hook.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, name="webhook", daemon=True)
    thread.start()
    try:
        yield hook
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
