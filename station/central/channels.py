"""The two ways a notification leaves the dashboard: e-mail and a webhook.

Each :meth:`send` makes one attempt within its timeout and raises
:class:`SendFailed` saying whether trying again may help; the notifier keeps
the message and retries with backoff (:mod:`station.central.notify`). Secrets
(the SMTP password, the webhook's signing key) are read from their files once,
at start, and never appear in a message, an exception text or a log line.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import smtplib
import ssl
import urllib.error
import urllib.request
from email.header import Header
from email.mime.text import MIMEText
from email.utils import formatdate, make_msgid
from typing import Any, Protocol

from station import __version__
from station.central.fleetconfig import (
    EmailChannel,
    FleetSettings,
    WebhookChannel,
    read_secret_file,
)

SIGNATURE_HEADER = "X-Scanstation-Signature"
DELIVERY_HEADER = "X-Scanstation-Delivery"


class SendFailed(Exception):
    """One attempt failed; ``retry``: whether another may succeed."""

    def __init__(self, reason: str, *, retry: bool = True) -> None:
        super().__init__(reason)
        self.retry = retry


class Channel(Protocol):
    name: str
    retries: int
    backoff_s: float

    def send(self, message: dict[str, Any]) -> None: ...


def _context(ca_file: object) -> ssl.SSLContext:
    return ssl.create_default_context(cafile=str(ca_file) if ca_file else None)


class Email:
    name = "email"

    def __init__(self, settings: EmailChannel) -> None:
        self.settings = settings
        self.retries = settings.retries
        self.backoff_s = settings.backoff_s
        self._password = (
            read_secret_file(settings.password_file, "SMTP password")
            if settings.password_file
            else None
        )

    def __repr__(self) -> str:  # never the password
        return f"Email({self.settings.host}:{self.settings.the_port})"

    def send(self, message: dict[str, Any]) -> None:
        s = self.settings
        # the classic API: its Header keeps the spaces between encoded words,
        # which the newer one's folding loses in a long Vietnamese subject
        mail = MIMEText(message["text"], "plain", "utf-8")
        mail["Subject"] = Header(message["subject"], "utf-8")  # type: ignore[assignment]
        mail["From"] = s.sender
        mail["To"] = ", ".join(s.to)
        mail["Date"] = formatdate(localtime=False, usegmt=True)
        mail["Message-ID"] = make_msgid(domain=s.sender.rsplit("@", 1)[1])
        mail["Auto-Submitted"] = "auto-generated"
        client: smtplib.SMTP | None = None
        try:
            if s.security == "ssl":
                client = smtplib.SMTP_SSL(
                    s.host, s.the_port, timeout=s.timeout_s, context=_context(s.ca_file)
                )
            else:
                client = smtplib.SMTP(s.host, s.the_port, timeout=s.timeout_s)
                if s.security == "starttls":
                    client.starttls(context=_context(s.ca_file))
            if s.username and self._password is not None:
                _login(client, s.username, self._password)
            refused = client.send_message(mail)
            if refused:
                raise SendFailed(f"recipients refused: {', '.join(sorted(refused))}", retry=False)
        except smtplib.SMTPAuthenticationError as exc:
            raise SendFailed(f"login refused ({exc.smtp_code})", retry=False) from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise SendFailed(
                f"recipients refused: {', '.join(exc.recipients)}", retry=False
            ) from None
        except smtplib.SMTPResponseException as exc:
            retry = not 500 <= exc.smtp_code < 600
            raise SendFailed(f"server answered {exc.smtp_code}", retry=retry) from None
        except (smtplib.SMTPException, OSError, ssl.SSLError) as exc:
            raise SendFailed(f"{exc.__class__.__name__}: {exc}"[:300]) from None
        except (UnicodeError, ValueError) as exc:  # never its text: it may quote the login
            raise SendFailed(f"{exc.__class__.__name__}", retry=False) from None
        finally:
            if client is not None:
                try:
                    client.quit()
                except (smtplib.SMTPException, OSError):
                    client.close()


def _login(client: smtplib.SMTP, username: str, password: str) -> None:
    """Log in; a login or password beyond ASCII (a Vietnamese password) goes as
    AUTH PLAIN in UTF-8 (RFC 4616), which smtplib's own login cannot send."""
    if username.isascii() and password.isascii():
        client.login(username, password)
        return
    client.ehlo_or_helo_if_needed()
    if "plain" not in client.esmtp_features.get("auth", "").lower().split():
        raise SendFailed("the server offers no AUTH PLAIN for a non-ASCII login", retry=False)
    token = base64.b64encode(b"\0" + username.encode() + b"\0" + password.encode()).decode()
    code, _ = client.docmd("AUTH", f"PLAIN {token}")
    if code != 235:
        raise smtplib.SMTPAuthenticationError(code, b"authentication failed")


def signature(secret: str, body: bytes) -> str:
    """The value of :data:`SIGNATURE_HEADER`: ``sha256=`` and the HMAC-SHA256 of the body in hex."""
    return "sha256=" + hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()


class Webhook:
    name = "webhook"

    def __init__(self, settings: WebhookChannel) -> None:
        self.settings = settings
        self.retries = settings.retries
        self.backoff_s = settings.backoff_s
        self._secret = (
            read_secret_file(settings.secret_file, "webhook key") if settings.secret_file else None
        )

    def __repr__(self) -> str:  # never the key
        return f"Webhook({self.settings.url})"

    def send(self, message: dict[str, Any]) -> None:
        body = json.dumps(message["json"], ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": f"scanstation-fleet/{__version__}",
            DELIVERY_HEADER: str(message["json"].get("id", "")),
        }
        if self._secret is not None:
            headers[SIGNATURE_HEADER] = signature(self._secret, body)
        request = urllib.request.Request(  # noqa: S310 - http(s) only, by the config's pattern
            self.settings.url, data=body, headers=headers, method="POST"
        )
        context = _context(self.settings.ca_file) if self.settings.url.startswith("https") else None
        try:
            with urllib.request.urlopen(  # noqa: S310
                request, timeout=self.settings.timeout_s, context=context
            ) as answer:
                answer.read(4096)
        except urllib.error.HTTPError as exc:
            retry = exc.code in (408, 425, 429) or exc.code >= 500
            raise SendFailed(f"HTTP {exc.code}", retry=retry) from None
        except (TimeoutError, urllib.error.URLError, OSError, ssl.SSLError) as exc:
            reason = getattr(exc, "reason", exc)
            raise SendFailed(f"{exc.__class__.__name__}: {reason}"[:300]) from None


def channels(settings: FleetSettings) -> list[Channel]:
    """The channels ``fleet.toml`` sets up (their secrets read now)."""
    found: list[Channel] = []
    if settings.email is not None:
        found.append(Email(settings.email))
    if settings.webhook is not None:
        found.append(Webhook(settings.webhook))
    return found
