"""The axis-style HTTP API of the DMS inbox (docs/dms-api.md).

A DMS connector written for the national document axis (VDXP) polls a list of
received documents, fetches each ``.edxml``, acknowledges it and sends status
messages back with ``sendEdoc``. This API answers the same operations on the
same paths, over the documents of :class:`station.central.inbox.Inbox`, so such
a connector can be pointed at the central side instead of the axis:

- ``POST /getReceivedEdocList``: the documents not yet acknowledged (all of
  them with ``pending: false``), optionally between ``fromDate`` and ``toDate``;
- ``POST /getEdoc`` (and ``GET /edocs/<id>``): one document's bytes;
- ``POST /updateStatus``: the delivery acknowledgement done|fail|processing;
- ``POST /sendEdoc`` with ``messagetype: status``: a status message, handed to
  the gateway's :data:`~station.central.inbox.StatusSink`.

Parameters come as HTTP headers, as the axis SDKs send them, or as a JSON
object body; answers are JSON in the axis's common shape (``status`` OK/FAIL,
``ErrorCode``, ``ErrorDesc``) except the document itself.

It is never open: a bearer token (read from a file), mutual TLS (a client
certificate signed by a configured CA), or both are required, and a listen
address other than loopback needs TLS. The TLS handshake is made on the
connection's own thread, bounded in time, so a slow client holds up no other.

Why not a blueprint of the fleet's Flask app (:mod:`station.ui.app`): that
app is for browsers (a password session, CSRF, allowed host names, pages in
two languages), the axis API is for one machine with its own credentials, its
own listen address and TLS with client certificates, and a JSON shape of the
axis's. The central side's modules also never import Flask ("The core never
imports the UI", pyproject.toml). So this is its own small factory,
:func:`create_axis_app`, on Werkzeug (the WSGI toolkit Flask is built on)
served by Werkzeug's threaded server like the UI's :class:`WebServer`.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import socket
import ssl
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from werkzeug.exceptions import HTTPException, RequestEntityTooLarge
from werkzeug.serving import ThreadedWSGIServer, WSGIRequestHandler
from werkzeug.wrappers import Request, Response

from station.central.inbox import MAX_STATUS_BYTES, Inbox, InboxEntry, StatusSink
from station.common.clock import VIETNAM
from station.common.listen import host_port, is_loopback
from station.common.logsafe import printable
from station.common.supervisor import CrashReport, Supervised
from station.errors import ConfigError, StationError

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

log = logging.getLogger("scanstation.axis")

__all__ = ["ApiSettings", "AxisServer", "create_axis_app"]

#: the axis's date form for fromDate, toDate and created_time (Vietnam time)
AXIS_TIME = "%d/%m/%Y %H:%M:%S"
#: the largest JSON request body (list, get, acknowledge)
MAX_JSON_BYTES = 64 * 1024
#: the most documents one list answers (the oldest first)
MAX_LIST = 1000
#: the shortest bearer token accepted
MIN_TOKEN_CHARS = 16
#: connections served at once; more are closed at once
MAX_CONNECTIONS = 32
#: seconds a client has for the TLS handshake, and for each read or write after it
HANDSHAKE_S = 10.0
REQUEST_TIMEOUT_S = 30.0
#: the HTTP status of a StationError, by exit code (others: 409)
HTTP_STATUS = {2: 400, 3: 400, 8: 400, 9: 404}


@dataclass(frozen=True)
class ApiSettings:
    listen: str = "127.0.0.1:8780"
    #: a file holding the bearer token (never on a command line, never logged)
    token_file: Path | None = None
    #: the server's TLS certificate (chain) and key
    cert_file: Path | None = None
    key_file: Path | None = None
    #: when set: mutual TLS, a client certificate signed by this CA is required
    client_ca_file: Path | None = None

    @property
    def tls(self) -> bool:
        return self.cert_file is not None

    def check(self) -> None:
        """Refuse what would be open or unreadable, saying how to set it right."""
        try:
            host, _ = host_port(self.listen)
        except ValueError as exc:
            raise ConfigError(
                f"the DMS API's listen address {printable(self.listen, 80)!r}: {exc}",
                f"Địa chỉ nghe của API cho hệ thống QLVB {printable(self.listen, 80)!r} "
                "không hợp lệ: dùng HOST:PORT, ví dụ 127.0.0.1:8780",
            ) from exc
        if self.token_file is None and self.client_ca_file is None:
            raise ConfigError(
                "the DMS API is never open: set token_file (a file holding a bearer token) "
                "or client_ca_file (mutual TLS), or both",
                "API cho hệ thống QLVB không bao giờ mở tự do: hãy đặt token_file (tệp chứa "
                "mã truy cập) hoặc client_ca_file (TLS hai chiều), hoặc cả hai",
            )
        if (self.cert_file is None) != (self.key_file is None):
            raise ConfigError(
                "TLS needs both cert_file and key_file",
                "TLS cần cả cert_file và key_file",
            )
        if self.client_ca_file is not None and not self.tls:
            raise ConfigError(
                "mutual TLS (client_ca_file) needs the server's cert_file and key_file",
                "TLS hai chiều (client_ca_file) cần chứng thư của máy chủ: cert_file và key_file",
            )
        if not is_loopback(host) and not self.tls:
            raise ConfigError(
                f"{self.listen} is not loopback, so the DMS API needs TLS: set cert_file and "
                "key_file, or listen on 127.0.0.1",
                f"{self.listen} không phải địa chỉ nội bộ nên API cho hệ thống QLVB cần TLS: "
                "hãy đặt cert_file và key_file, hoặc chỉ nghe trên 127.0.0.1",
            )
        self.read_token()
        self.ssl_context()

    def read_token(self) -> str | None:
        """The bearer token from ``token_file`` (None when there is none)."""
        path = self.token_file
        if path is None:
            return None
        try:
            if path.stat().st_mode & 0o004:
                raise ConfigError(
                    f"{path} can be read by every user: chmod 600 {path}",
                    f"Mọi người dùng đều đọc được {path}: chạy chmod 600 {path}",
                )
            token = path.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(
                f"cannot read the DMS API token file {path}: {exc}",
                f"Không đọc được tệp mã truy cập của API cho hệ thống QLVB {path}: {exc}",
            ) from exc
        if (
            len(token) < MIN_TOKEN_CHARS
            or not token.isascii()
            or not token.isprintable()
            or any(c.isspace() for c in token)
        ):
            raise ConfigError(
                f"{path} must hold one token of at least {MIN_TOKEN_CHARS} printable ASCII "
                "characters without spaces, e.g. from `openssl rand -hex 32`",
                f"{path} phải chứa một mã dài ít nhất {MIN_TOKEN_CHARS} ký tự ASCII in được, "
                "không có khoảng trắng, ví dụ tạo bằng `openssl rand -hex 32`",
            )
        return token

    def ssl_context(self) -> ssl.SSLContext | None:
        """The server's TLS context (None without TLS); client certificates
        are required when ``client_ca_file`` is set."""
        if self.cert_file is None or self.key_file is None:
            return None
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        try:
            context.load_cert_chain(self.cert_file, self.key_file)
            if self.client_ca_file is not None:
                context.load_verify_locations(cafile=self.client_ca_file)
                context.verify_mode = ssl.CERT_REQUIRED
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                f"the DMS API's TLS files cannot be used: {exc}",
                f"Không dùng được các tệp TLS của API cho hệ thống QLVB: {exc}",
            ) from exc
        return context


# ---------------------------------------------------------------------- the app


def create_axis_app(
    inbox: Inbox, on_status: StatusSink, token: str | None, *, client_cert: bool = False
) -> WSGIApplication:
    """The WSGI app: ``token`` (when not None) must come as ``Authorization:
    Bearer``; ``client_cert``: a verified client certificate must be there too
    (the TLS handshake already asked for it)."""
    expected = token.encode() if token is not None else None
    routes: dict[tuple[str, str], Callable[[Request], Response]] = {
        ("POST", "/getReceivedEdocList"): lambda r: _list(r, inbox),
        ("POST", "/getEdoc"): lambda r: _document(inbox, _param(_params(r), "docid")),
        ("POST", "/updateStatus"): lambda r: _update(r, inbox),
        ("POST", "/sendEdoc"): lambda r: _send(r, on_status),
    }

    def dispatch(request: Request) -> Response:
        if not _authorised(request, expected, client_cert):
            return Response(status=401, headers={"WWW-Authenticate": "Bearer"})
        path = request.path.rstrip("/") or "/"
        handler = routes.get((request.method, path))
        if handler is not None:
            return handler(request)
        if request.method == "GET" and path.startswith("/edocs/"):
            return _document(inbox, path.removeprefix("/edocs/"))
        known = {p for _, p in routes} | ({path} if path.startswith("/edocs/") else set())
        if path in known:
            return _fail(405, "http.405", "Không làm được việc này theo cách đó",
                         "This cannot be done that way")  # fmt: skip
        return _fail(404, "http.404", "Không có thao tác này", "No such operation")

    def app(environ: WSGIEnvironment, start_response: StartResponse) -> Iterable[bytes]:
        request = Request(environ)
        try:
            response = dispatch(request)
        except StationError as exc:
            response = _fail(HTTP_STATUS.get(exc.exit_code, 409), exc.code, exc.message_vi,
                             exc.message_en)  # fmt: skip
        except HTTPException as exc:
            status = exc.code or 400
            if status == 413:
                response = _fail(413, "http.413", "Nội dung gửi lên quá lớn",
                                 "What was sent is too large")  # fmt: skip
            else:
                response = _fail(status, f"http.{status}", "Yêu cầu không hợp lệ",
                                 "The request is not valid")  # fmt: skip
        except Exception:
            log.exception("the DMS API failed on %s", printable(request.path, 200))
            response = _fail(500, "internal", "Lỗi bên trong; hãy thử lại sau",
                             "Internal error; try again later")  # fmt: skip
        return response(environ, start_response)

    return app


def _authorised(request: Request, expected: bytes | None, client_cert: bool) -> bool:
    if client_cert and not request.environ.get("SSL_CLIENT_CERT"):
        return False
    if expected is None:
        return True
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(errors="replace"), expected)


def _ok(**extra: Any) -> Response:
    body = {"status": "OK", "ErrorCode": "0", "ErrorDesc": "", **extra}
    return Response(json.dumps(body, ensure_ascii=False), mimetype="application/json")


def _fail(status: int, code: str, vi: str, en: str) -> Response:
    desc = en if vi == en else f"{vi} / {en}"
    body = {"status": "FAIL", "ErrorCode": code, "ErrorDesc": desc}
    return Response(json.dumps(body, ensure_ascii=False), status=status,
                    mimetype="application/json")  # fmt: skip


def _params(request: Request) -> dict[str, Any]:
    """The request's parameters: its headers, then a JSON object body over
    them; names are case-insensitive (the SDKs write docId and docid)."""
    params: dict[str, Any] = {k.lower(): v for k, v in request.headers.items()}
    data = _body(request, MAX_JSON_BYTES)
    if data.strip():
        try:
            body = json.loads(data)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _BadRequest(
                "The body must be a JSON object", "Nội dung phải là một đối tượng JSON"
            )
        params.update({str(k).lower(): v for k, v in body.items()})
    return params


def _body(request: Request, limit: int) -> bytes:
    """The request's body, RequestEntityTooLarge (413) past ``limit`` bytes,
    before reading when the length is announced, else as soon as it is passed."""
    if request.content_length is not None and request.content_length > limit:
        raise RequestEntityTooLarge()
    request.max_content_length = limit + 1  # a body cut off at the limit shows it went past
    data = request.get_data(cache=False)
    if len(data) > limit:
        raise RequestEntityTooLarge()
    return data


class _BadRequest(StationError):
    exit_code = 2
    code = "request"


def _param(params: dict[str, Any], name: str, default: str | None = None) -> str:
    value = params.get(name, default)
    if value is None or (isinstance(value, str) and not value.strip()):
        raise _BadRequest(f"The parameter {name} is missing", f"Thiếu tham số {name}")
    return str(value).strip()


def _flag(value: object, default: bool) -> bool:
    if value is None or value == "":
        return default
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes"):
        return True
    if text in ("0", "false", "no"):
        return False
    raise _BadRequest("pending must be true or false", "pending phải là true hoặc false")


def _axis_time(value: object, name: str) -> datetime | None:
    if value is None or value == "":
        return None
    try:
        return datetime.strptime(str(value).strip(), AXIS_TIME).replace(tzinfo=VIETNAM)
    except ValueError:
        raise _BadRequest(
            f"{name} must be dd/MM/yyyy HH:mm:ss (Vietnam time)",
            f"{name} phải có dạng dd/MM/yyyy HH:mm:ss (giờ Việt Nam)",
        ) from None


def _item(entry: InboxEntry) -> dict[str, Any]:
    info = entry.info
    return {
        "id": entry.id,
        "from": info.get("from", info.get("station_id", "")),
        "to": info.get("to", ""),
        "servicetype": "eDoc",
        "messagetype": "edoc",
        "created_time": entry.created.astimezone(VIETNAM).strftime(AXIS_TIME),
        "created": entry.created.astimezone(UTC).isoformat(timespec="seconds"),
        "document_id": entry.document_id,
        "station_id": info.get("station_id"),
        "doc_id": info.get("doc_id"),
        "arrival_number": info.get("arrival_number"),
        "arrival_date": info.get("arrival_date"),
        "subject": info.get("subject"),
        "state": entry.state,
        "size": entry.size,
        "sha256": entry.sha256,
    }


def _list(request: Request, inbox: Inbox) -> Response:
    params = _params(request)
    kind = str(params.get("messagetype") or "edoc").strip().lower()
    if kind == "status":
        return _ok(data=[], total=0)  # the central side sends the DMS no status messages
    if kind != "edoc":
        raise _BadRequest(
            "messagetype must be edoc or status", "messagetype phải là edoc hoặc status"
        )
    since = _axis_time(params.get("fromdate"), "fromDate")
    until = _axis_time(params.get("todate"), "toDate")
    pending = _flag(params.get("pending"), default=True)
    if until is not None:
        until += timedelta(seconds=1)  # the whole second it names
    found = [e for e in inbox.entries(since, pending=pending) if until is None or e.created < until]
    return _ok(data=[_item(e) for e in found[:MAX_LIST]], total=len(found))


def _document(inbox: Inbox, entry_id: str) -> Response:
    data = inbox.read(entry_id)
    entry = inbox.entry(entry_id)
    return Response(
        data,
        mimetype="application/octet-stream",
        headers={
            "Content-Disposition": f'attachment; filename="{entry.id}.edxml"',
            "hash-file": entry.sha256,
            "docId": entry.id,
        },
    )


def _update(request: Request, inbox: Inbox) -> Response:
    params = _params(request)
    entry = inbox.acknowledge(_param(params, "docid"), _param(params, "status").lower())
    return _ok(DocId=entry.id, state=entry.state)


def _send(request: Request, on_status: StatusSink) -> Response:
    kind = request.headers.get("messagetype", "").strip().lower()
    if kind == "edoc":
        return _fail(400, "edoc_refused",
                     "Trung tâm không nhận văn bản từ hệ thống QLVB, chỉ nhận gói tin trạng thái "
                     "(messagetype: status)",
                     "The central side takes no documents from the DMS, only status messages "
                     "(messagetype: status)")  # fmt: skip
    if kind != "status":
        raise _BadRequest("messagetype must be status", "messagetype phải là status")
    data = _body(request, MAX_STATUS_BYTES)
    if not data:
        raise _BadRequest("No status message was sent", "Không có gói tin trạng thái")
    claimed = request.headers.get("hash-file", "").strip().lower()
    if claimed and claimed != hashlib.sha256(data).hexdigest():
        return _fail(400, "hash_mismatch", "hash-file không khớp với SHA-256 của nội dung",
                     "hash-file does not match the body's SHA-256")  # fmt: skip
    try:
        accepted, why = on_status(data, "api")
    except Exception:
        log.exception("a status message from the API could not be handled")
        return _fail(
            503,
            "unavailable",
            "Chưa xử lý được gói tin trạng thái; hãy gửi lại sau",
            "The status message could not be handled now; send it again later",
        )
    if not accepted:
        log.info("status message from the API refused: %s", printable(why, 300))
        return _fail(422, "refused", why, why)
    return _ok(ErrorDesc=why)


# ---------------------------------------------------------------------- the server


class _Handler(WSGIRequestHandler):
    timeout = REQUEST_TIMEOUT_S

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass  # one line per request is noise; what matters is logged by the app

    def log_error(self, format: str, *args: Any) -> None:
        log.info("DMS API connection from %s: %s", self.address_string(),
                 printable(format % args, 300))  # fmt: skip


class _Server(ThreadedWSGIServer):
    """Werkzeug's threaded server, with the TLS handshake on each connection's
    thread (bounded in time) and a bound on the connections served at once."""

    def __init__(
        self, sock: socket.socket, app: WSGIApplication, context: ssl.SSLContext | None
    ) -> None:
        host, port = sock.getsockname()[:2]
        super().__init__(host, port, app, handler=_Handler, fd=sock.fileno())
        self.ssl_context = context
        self._slots = threading.BoundedSemaphore(MAX_CONNECTIONS)

    def process_request(self, request: Any, client_address: Any) -> None:
        if not self._slots.acquire(blocking=False):
            self.shutdown_request(request)
            return
        try:
            super().process_request(request, client_address)
        except BaseException:
            self._slots.release()
            raise

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            if self.ssl_context is not None:
                request.settimeout(HANDSHAKE_S)
                try:
                    request = self.ssl_context.wrap_socket(request, server_side=True)
                except (OSError, ValueError) as exc:
                    log.info("DMS API: TLS handshake from %s refused: %s",
                             client_address[0], printable(exc, 200))  # fmt: skip
                    self.shutdown_request(request)
                    return
            super().process_request_thread(request, client_address)
        finally:
            self._slots.release()


class AxisServer:
    """The axis-style API on its own listen address, in a supervised thread."""

    def __init__(
        self,
        settings: ApiSettings,
        inbox: Inbox,
        on_status: StatusSink,
        *,
        on_crash: CrashReport | None = None,
    ) -> None:
        settings.check()
        context = settings.ssl_context()
        app = create_axis_app(
            inbox,
            on_status,
            settings.read_token(),
            client_cert=settings.client_ca_file is not None,
        )
        host, port = host_port(settings.listen)
        try:
            family = socket.AF_INET6 if ":" in host else socket.AF_INET
            sock = socket.socket(family, socket.SOCK_STREAM)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
            sock.listen(64)
        except OSError as exc:
            raise ConfigError(
                f"the DMS API cannot listen on {settings.listen}: {exc.strerror}",
                f"API cho hệ thống QLVB không nghe được trên {settings.listen}: {exc.strerror}",
            ) from exc
        try:
            self.server = _Server(sock, app, context)
        finally:
            sock.close()  # the server holds its own copy
        self.stopping = threading.Event()
        self.thread = Supervised(
            "axis-api", self.server.serve_forever, self.stopping, on_crash=on_crash
        )

    @property
    def url(self) -> str:
        host, port = str(self.server.server_address[0]), int(self.server.server_address[1])
        host = f"[{host}]" if ":" in host else host
        scheme = "https" if self.server.ssl_context is not None else "http"
        return f"{scheme}://{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
