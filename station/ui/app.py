"""The Flask app factory and the small web server that runs it."""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import (
    Flask,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from werkzeug.exceptions import HTTPException
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.serving import BaseWSGIServer, make_server

from station import __version__
from station.common.listen import is_loopback
from station.common.supervisor import CrashReport, Supervised
from station.errors import ConfigError, StationError
from station.ui import i18n, security

if TYPE_CHECKING:
    from station.appliance.station import Station
    from station.central.fleet import Fleet

log = logging.getLogger("scanstation.web")

HTTP_STATUS = {2: 400, 3: 400, 8: 400, 9: 404}
#: what the error page says for an HTTP error, in the reader's language (0: any other)
HTTP_WORDS = {
    0: ("Trạm không thực hiện được yêu cầu này.", "The station could not do this."),
    400: ("Yêu cầu không hợp lệ.", "The request is not valid."),
    403: ("Bạn không có quyền làm việc này.", "You may not do this."),
    404: ("Không có trang này.", "There is no such page."),
    405: ("Không làm được việc này theo cách đó.", "This cannot be done that way."),
    413: ("Tệp gửi lên quá lớn.", "What was sent is too large."),
    421: ("Địa chỉ này không phải của trạm.", "This address is not the station's."),
    429: ("Thử quá nhiều lần; hãy chờ một lát.", "Too many tries; wait a little."),
}


@dataclass(frozen=True)
class WebSettings:
    listen: str = "127.0.0.1:8080"
    #: required when ``listen`` is not loopback
    password_hash: str | None = None
    #: where the session key is kept
    data_dir: Path = Path()
    language: str = "vi"
    #: host names (no port) answered besides loopback and the listen address
    allowed_hosts: tuple[str, ...] = ()
    #: reverse proxies in front whose X-Forwarded-For names the client (throttling)
    proxies: int = 0

    @property
    def host_port(self) -> tuple[str, int]:
        host, _, port = self.listen.rpartition(":")
        return host.strip("[]"), int(port)

    @property
    def is_loopback(self) -> bool:
        return is_loopback(self.host_port[0])

    def check(self) -> None:
        if not self.is_loopback and not self.password_hash:
            raise ConfigError(
                f"{self.listen} is not loopback, so a password hash is required "
                "(make one with `scanstation passwd`), or listen on 127.0.0.1",
                f"{self.listen} không phải địa chỉ nội bộ nên cần mật khẩu "
                "(tạo bằng `scanstation passwd`), hoặc chỉ nghe trên 127.0.0.1",
            )


@dataclass(frozen=True)
class Services:
    fleet: Fleet | None = None
    station: Station | None = None


def create_app(settings: WebSettings, services: Services) -> Flask:
    settings.check()
    app = Flask(__name__, static_folder="static", template_folder="templates")
    app.secret_key = security.secret_key(settings.data_dir / "web-secret.key")
    app.config.update(
        DEFAULT_LANGUAGE=settings.language,
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        MAX_CONTENT_LENGTH=1024 * 1024,
    )
    if settings.proxies:  # the client's own address for the throttle
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.proxies)  # type: ignore[method-assign]
    hosts = security.allowed_names(settings.host_port[0], settings.allowed_hosts)
    security.install(app, settings.password_hash, hosts)
    app.jinja_env.globals.update(
        _=i18n.gettext,
        pick=i18n.pick,
        lang=i18n.language,
        number=i18n.number,
        when=i18n.when,
        ago=i18n.ago,
        duration=i18n.duration,
        version=__version__,
        signed_in=lambda: bool(session.get("signed_in")),
        has_password=bool(settings.password_hash),
    )
    _common_routes(app)
    _error_handlers(app)
    if services.station is not None:
        from station.ui.register.views import blueprint as register_blueprint
        from station.ui.review import pin
        from station.ui.review.views import blueprint as review_blueprint

        app.extensions["station"] = services.station
        settings_now = services.station.settings  # read on each page: a change applies at once
        app.jinja_env.globals["keyboard_mode"] = lambda: settings_now.config.ui.keyboard
        app.extensions["streams"] = Slots(services.station.settings.config.ui.max_live_streams)
        app.register_blueprint(review_blueprint)
        app.register_blueprint(register_blueprint)
        pin.install(app)
    if services.fleet is not None:
        from station.ui.fleet.stats import blueprint as stats_blueprint
        from station.ui.fleet.views import blueprint as fleet_blueprint

        app.extensions["fleet"] = services.fleet
        app.register_blueprint(fleet_blueprint)
        app.register_blueprint(stats_blueprint)
    return app


def _common_routes(app: Flask) -> None:
    @app.route("/login", methods=["GET", "POST"])
    def login() -> Any:
        error = None
        target = security.local_target(request.args.get("next"))
        if request.method == "POST":
            right, wait = app.extensions["check_password"](request.form.get("password", ""))
            if wait:
                return security.too_many(wait, "login.html", target=target)
            if right:
                session.clear()
                session["signed_in"] = True
                return redirect(target)
            error = i18n.gettext("Sai mật khẩu")
        return render_template("login.html", error=error, target=target)

    @app.post("/logout")
    def logout() -> Any:
        session.clear()
        return redirect(url_for("login"))

    @app.get("/lang/<code>")
    def set_language(code: str) -> Any:
        # back to the screen the clerk was on: a path of this site, never another host
        back = request.args.get("next", "")
        if not back.startswith("/") or back.startswith("//") or "\\" in back:
            back = "/"
        response = make_response(redirect(back))
        if code in i18n.LANGUAGES:
            response.set_cookie("lang", code, max_age=365 * 86400, samesite="Strict")
        return response


def _error_handlers(app: Flask) -> None:
    def wants_json() -> bool:
        return request.path.startswith("/api/")

    @app.errorhandler(StationError)
    def station_error(exc: StationError) -> Any:
        status = HTTP_STATUS.get(exc.exit_code, 409)
        if wants_json():
            return jsonify({"error": exc.message_en, "code": exc.code}), status
        message = i18n.pick(exc.message_vi, exc.message_en)
        return render_template("error.html", status=status, message=message), status

    @app.errorhandler(HTTPException)
    def http_error(exc: HTTPException) -> Any:
        status = exc.code or 500
        if wants_json():
            return jsonify({"error": exc.description, "code": f"http.{status}"}), status
        vi, en = HTTP_WORDS.get(status, HTTP_WORDS[0])
        return render_template("error.html", status=status, message=i18n.pick(vi, en)), status


class Slots:
    """A fixed number of places (open live-update streams), taken without waiting."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.taken = 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.taken >= self.size:
                return False
            self.taken += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.taken = max(0, self.taken - 1)


class WebServer:
    """A threaded WSGI server in a named, supervised thread, stopped with :meth:`stop`."""

    def __init__(
        self, app: Flask, settings: WebSettings, *, on_crash: CrashReport | None = None
    ) -> None:
        host, port = settings.host_port
        # one line per request is noise in the journal; errors still show
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self.server: BaseWSGIServer = make_server(host, port, app, threaded=True)
        self.stopping = threading.Event()
        self.thread = Supervised("web", self.server.serve_forever, self.stopping, on_crash=on_crash)

    @property
    def url(self) -> str:
        host, port = str(self.server.server_address[0]), int(self.server.server_address[1])
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
