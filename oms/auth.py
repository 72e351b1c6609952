"""Security of the web server: authentication (users for the pages, a bearer token for the API),
JSON-only state-changing requests, same-origin checks and security headers.

With ``settings.auth_users`` empty the dashboard is open (it then binds loopback only, see
``app.serve``) and answers only requests whose Host is a loopback name (127.0.0.1, localhost,
[::1], or the loopback address it is bound to), so a page on another host name cannot reach it
through DNS rebinding. With users configured, every page, asset, Dash callback and API route
needs HTTP Basic credentials; the API and ``/metrics`` (read by programs: Prometheus) also take
``Authorization: Bearer <OMS_API_TOKEN>``. Flask-HTTPAuth parses the header and answers the 401
challenge (``Authenticators``); the checks (``check_user``, ``token_ok``) are ours.
Secrets are compared in constant time and never logged or echoed; an empty password never
authenticates (``Settings`` refuses one at load). Body size and JSON depth: ``oms.web_limits``.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import re
from collections.abc import Callable
from urllib.parse import urlsplit

import flask
from flask_httpauth import HTTPBasicAuth, HTTPTokenAuth, MultiAuth
from werkzeug.security import check_password_hash

from oms.config import Settings
from oms.web_limits import PAGE_MAX_BODY_BYTES, limit_body

__all__ = ["METRICS_PATH", "SECURITY_HEADERS", "USER_KEY", "Authenticators", "auth_configured",
           "check_user", "install_security", "loopback_host", "machine_path", "token_ok"]

log = logging.getLogger(__name__)
USER_KEY = "oms_user"
METRICS_PATH = "/metrics"  # Prometheus scrapes it: guarded as the API is (Bearer or Basic)
_STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
_HASH_PREFIXES = ("scrypt:", "pbkdf2:")
_LOOPBACK_NAMES = frozenset({"127.0.0.1", "localhost", "[::1]"})
_HOST = re.compile(r"(?P<name>\[[0-9a-f:.]+\]|[^\[\]:]+)(?::(?P<port>[0-9]{1,5}))?")

# Dash renders one inline bootstrap script, hence 'unsafe-inline' for scripts (no eval);
# everything is served from this origin (serve_locally), nothing from a CDN.
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self' 'unsafe-inline'; "
        "style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; "
        "connect-src 'self'; worker-src 'self' blob:; object-src 'none'; base-uri 'self'; "
        "form-action 'self'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def auth_configured(settings: Settings) -> bool:
    """True when page users are configured (the API then takes them or the bearer token)."""
    return bool(settings.auth_users)


def loopback_host(host: str, bound: str = "127.0.0.1") -> bool:
    """True when the Host header ``host`` names loopback: 127.0.0.1, localhost, [::1] or the
    loopback address ``bound`` (the bind address), each with or without a port."""
    match = _HOST.fullmatch(host.lower())
    if match is None:
        return False
    name = match["name"]
    if name in _LOOPBACK_NAMES:
        return True
    try:  # an IP literal cannot be rebound to another machine; a host name can
        bound_ip = ipaddress.ip_address(bound.strip("[]"))
        return bound_ip.is_loopback and ipaddress.ip_address(name.strip("[]")) == bound_ip
    except ValueError:
        return False


def check_user(settings: Settings, username: str, password: str) -> bool:
    """Constant-time check of one user's password (plain or werkzeug hash in the settings);
    an empty password never passes."""
    secret = settings.auth_users.get(username)
    if secret is None or not password:
        # Same work for unknown users, so timing does not reveal which names exist.
        hmac.compare_digest(password.encode(), b"x" * max(1, len(password)))
        return False
    stored = secret.get_secret_value()
    if not stored:
        return False
    if stored.startswith(_HASH_PREFIXES):
        return check_password_hash(stored, password)
    return hmac.compare_digest(stored.encode(), password.encode())


def token_ok(settings: Settings, token: str) -> bool:
    """Constant-time check of an API bearer token (never true without a configured token)."""
    expected = settings.api_token
    if expected is None or not token.strip():
        return False
    return hmac.compare_digest(token.strip().encode(), expected.get_secret_value().encode())


def _page_challenge(_status: int) -> flask.Response:
    response = flask.Response("authentication required", 401, mimetype="text/plain")
    response.headers["WWW-Authenticate"] = 'Basic realm="DipMaster OMS", charset="UTF-8"'
    return response


def _api_challenge(_status: int) -> flask.Response:
    response = _error(401, "Authorization", "authentication required "
                                            "(Bearer token or Basic credentials)")
    response.headers["WWW-Authenticate"] = 'Bearer realm="oms-api"'
    return response


class Authenticators:
    """Who may pass: pages take HTTP Basic (a browser's login prompt); the API and /metrics
    take a Bearer token or Basic, and answer a JSON 401 (Flask-HTTPAuth underneath)."""

    def __init__(self, settings: Settings) -> None:
        page = HTTPBasicAuth(realm="DipMaster OMS")
        api_basic = HTTPBasicAuth(realm="oms-api")
        for basic in (page, api_basic):
            basic.verify_password(
                lambda user, password: user if check_user(settings, user, password) else None)
        page.error_handler(_page_challenge)
        api_basic.error_handler(_api_challenge)
        bearer = HTTPTokenAuth(scheme="Bearer", realm="oms-api")
        bearer.verify_token(lambda token: "api-token" if token_ok(settings, token) else None)
        bearer.error_handler(_api_challenge)
        self._page: Callable[[], flask.Response | None] = page.login_required(
            self._let_in(page.current_user))
        api = MultiAuth(bearer, api_basic)
        self._api: Callable[[], flask.Response | None] = api.login_required(
            self._let_in(api.current_user))

    @staticmethod
    def _let_in(user: Callable[[], object]) -> Callable[[], None]:
        def let_in() -> None:
            flask.g.setdefault(USER_KEY, str(user()))
        return let_in

    def check(self, machine: bool) -> flask.Response | None:
        """None to let the request through (its user in ``flask.g``), else the 401 answer."""
        return self._api() if machine else self._page()


def machine_path(path: str) -> bool:
    """The REST API and /metrics: read by programs, so a Bearer token is accepted there."""
    return path.startswith("/api/") or path == METRICS_PATH


def _error(status: int, field: str, message: str) -> flask.Response:
    response = flask.jsonify({"error": message, "errors": [{"field": field,
                                                             "message": message}]})
    response.status_code = status
    return response


def _same_origin() -> bool:
    """False when the browser says the request comes from another site."""
    request = flask.request
    if request.headers.get("Sec-Fetch-Site", "") == "cross-site":
        return False
    origin = request.headers.get("Origin")
    if origin and origin != "null":
        return urlsplit(origin).netloc == request.host
    return origin != "null"


def _guard(settings: Settings, auth: Authenticators) -> flask.Response | None:
    request = flask.request
    is_api = machine_path(request.path)
    host = request.environ.get("HTTP_HOST")  # raw: request.host drops a trailing ":80"
    host = request.host if host is None else str(host)
    if not auth_configured(settings) and not loopback_host(host, settings.host):
        return _error(403, "Host", f"Host {host[:100]!r} is refused: without "
                                   "authentication only 127.0.0.1, localhost and [::1] are "
                                   "served (DNS rebinding protection); configure "
                                   "OMS_AUTH_USERS to serve other names")
    if request.method in _STATE_CHANGING:
        if not _same_origin():
            return _error(403, "Origin", "cross-origin state-changing requests are refused")
        if request.mimetype != "application/json":
            return _error(415, "Content-Type", "state-changing requests must send "
                                               "Content-Type: application/json")
    if not auth_configured(settings):
        return None
    return auth.check(is_api)


def _headers(response: flask.Response) -> flask.Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if machine_path(flask.request.path):
        response.headers.setdefault("Cache-Control", "no-store")
    return response


def install_security(server: flask.Flask, settings: Settings) -> None:
    """Install the request guard, the body limits and the security headers on ``server``."""
    server.config["MAX_CONTENT_LENGTH"] = PAGE_MAX_BODY_BYTES  # backstop; limit_body narrows it
    auth = Authenticators(settings)
    server.before_request(lambda: _guard(settings, auth))
    server.before_request(limit_body)
    server.after_request(_headers)
    if auth_configured(settings):
        log.info("authentication on: %d page user(s), API token %s", len(settings.auth_users),
                 "set" if settings.api_token is not None else "not set")
