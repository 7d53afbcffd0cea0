"""The live dashboard's request handler: fixed routes, every answer with security headers.

Read-only apart from the replay button. Routes, all fixed::

    GET  /                         the page
    GET  /static/dashboard.js|css  the page's script and style (from the package, never DIR)
    GET  /api/cassettes            every row, re-scanned on each call (ETag / 304)
    GET  /api/cassettes/<name>     one cassette's detail; <name> must be a scanned name
    POST /api/replay/<name>        replay it through --app (token, same origin)

Every request must name this machine in its ``Host`` header (``localhost`` or an IP address):
a page on another site whose name was re-pointed at 127.0.0.1 (DNS rebinding) is refused.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

from timetracer.dashboard.data import detail_of
from timetracer.dashboard.page import ASSET_TYPES, LIVE_CSP, asset
from timetracer.errors import CassetteError, RequestRejected, TimetracerError

if TYPE_CHECKING:
    from timetracer.dashboard.server import DashboardServer

logger = logging.getLogger(__name__)

TOKEN_HEADER = "X-Timetracer-Token"
"""The header the page sends its per-process token in; a cross-site form cannot set it."""
_CASSETTES = "/api/cassettes"
_REPLAY = "/api/replay/"
_MAX_POST_BODY = 64 * 1024
_SECURITY_HEADERS = {
    "Content-Security-Policy": LIVE_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Cache-Control": "no-store",
}


def host_allowed(host_header: str | None) -> bool:
    """Whether a ``Host`` header names ``localhost`` or an IP address (any port)."""
    if not host_header:
        return False
    try:
        host = urlsplit(f"//{host_header}").hostname
    except ValueError:
        return False
    if host is None:
        return False
    if host == "localhost":
        return True
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


class DashboardHandler(BaseHTTPRequestHandler):
    """Answers one connection's requests for a :class:`DashboardServer`."""

    protocol_version = "HTTP/1.1"
    server_version = "timetracer-serve"
    sys_version = ""  # no Python version in the Server header
    timeout = 30.0  # a stalled client cannot hold its thread for longer
    server: DashboardServer

    def do_GET(self) -> None:
        self._handle(self._get)

    def do_POST(self) -> None:
        self._handle(self._post)

    def _not_allowed(self) -> None:
        self._handle(self._refuse_method)

    do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _not_allowed

    def _refuse_method(self) -> None:
        raise RequestRejected(405, "read-only: GET the page and the API, POST only to replay")

    def _handle(self, route: Callable[[], None]) -> None:
        try:
            if not host_allowed(self.headers.get("Host")):
                raise RequestRejected(403, "Host must be localhost or an IP address")
            route()
        except RequestRejected as rejected:
            extra = {"Allow": "GET, POST"} if rejected.status == 405 else {}
            self._json(rejected.status, {"error": rejected.message}, extra)
        except ConnectionError as exc:  # the browser went away mid-answer
            logger.debug("timetracer serve: connection lost: %s", exc)
            self.close_connection = True
        except Exception:  # a bug here must cost one request, never the server
            logger.exception("timetracer serve: could not answer %s %s", self.command, self.path)
            self.close_connection = True  # part of an answer may already have gone out
            self._json(500, {"error": "internal error; see the server's log"})

    def _get(self) -> None:
        path = urlsplit(self.path).path
        if path == "/":
            self._send(200, "text/html; charset=utf-8", self.server.page.encode())
        elif path.startswith("/static/") and path[len("/static/") :] in ASSET_TYPES:
            name = path[len("/static/") :]
            self._send(200, ASSET_TYPES[name], asset(name).encode())
        elif path == _CASSETTES:
            self._listing()
        elif path.startswith(_CASSETTES + "/"):
            self._detail(unquote(path[len(_CASSETTES) + 1 :]))
        else:
            raise RequestRejected(404, "no such page")

    def _listing(self) -> None:
        catalog = self.server.catalog
        try:
            listing = catalog.scan()
        except CassetteError as error:  # the directory was removed while serving
            raise RequestRejected(404, str(error)) from None
        etag = f'"{listing.version}"'
        if self.headers.get("If-None-Match") == etag:
            self._send(304, None, b"", {"ETag": etag})
            return
        payload = {
            "directory": str(catalog.location),
            "rows": listing.rows,
            "skipped": listing.skipped,
        }
        self._json(200, payload, {"ETag": etag})

    def _detail(self, name: str) -> None:
        catalog = self.server.catalog
        try:
            cassette = catalog.load(name)
        except CassetteError as error:
            raise RequestRejected(422, str(error)) from None
        if cassette is None:
            raise RequestRejected(404, "no cassette of that name in the served directory")
        previous = catalog.previous_of(name)
        self._json(200, detail_of(cassette, name, self.server.app_spec, previous))

    def _post(self) -> None:
        self._discard_body()
        path = urlsplit(self.path).path
        if not path.startswith(_REPLAY):
            raise RequestRejected(404 if path != "/" else 405, "POST only replays a cassette")
        self._check_same_origin()
        replay = self.server.replay
        if replay is None:
            raise RequestRejected(403, "replay is off: start serve with --app module:attr")
        path_of = self.server.catalog.path_of(unquote(path[len(_REPLAY) :]))
        if path_of is None:
            raise RequestRejected(404, "no cassette of that name in the served directory")
        try:
            result = replay.run(path_of)
        except TimetracerError as error:
            raise RequestRejected(500, f"replay failed: {error}") from None
        self._json(200, result)

    def _check_same_origin(self) -> None:
        """A state-changing request must come from this page: the right token, and no other
        origin (a browser always sends ``Origin`` on a script's POST)."""
        origin = self.headers.get("Origin")
        if origin is not None and origin != f"http://{self.headers.get('Host')}":
            raise RequestRejected(403, "cross-origin request refused")
        site = self.headers.get("Sec-Fetch-Site")
        if site is not None and site not in ("same-origin", "none"):
            raise RequestRejected(403, "cross-site request refused")
        sent = (self.headers.get(TOKEN_HEADER) or "").encode()
        # Constant-time comparison: the answer time must not tell how much of a guess matched.
        if not hmac.compare_digest(sent, self.server.token.encode()):
            raise RequestRejected(403, f"missing or wrong {TOKEN_HEADER}")

    def _discard_body(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or "0")
        except ValueError:
            length = -1
        if not 0 <= length <= _MAX_POST_BODY:
            self.close_connection = True  # nothing here reads a body: answer and hang up
            return
        if length:
            self.rfile.read(length)

    def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=True, separators=(",", ":")).encode()
        self._send(status, "application/json", body, headers)

    def _send(
        self, status: int, kind: str | None, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        for name, value in {**_SECURITY_HEADERS, **(headers or {})}.items():
            self.send_header(name, value)
        if kind is not None:
            self.send_header("Content-Type", kind)
        if status != 304:
            self.send_header("Content-Length", str(len(body)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if status != 304 and self.command != "HEAD":  # neither may carry a body
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Per-request lines go to debug logging, not to stderr."""
        logger.debug("timetracer serve: %s - %s", self.address_string(), format % args)
