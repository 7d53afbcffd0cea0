"""The OTLP/HTTP endpoint: ``POST /v1/traces`` on the standard library's threading server.

Checks run cheapest first and before the body is read where they can: path, shutdown, token,
media type, length. A refused body is read and thrown away when it is small enough, so the
client reads the answer instead of a connection reset; a larger one closes the connection.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import socket
import socketserver
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from timetracer.receiver.decode import (
    CONTENT_CODINGS,
    JSON_TYPE,
    PROTOBUF_TYPE,
    RequestRejected,
    decode_request,
    request_encoding,
)
from timetracer.receiver.responses import content_type, error_body, success_body
from timetracer.receiver.stats import ReceiverStats

logger = logging.getLogger(__name__)

TRACES_PATH = "/v1/traces"
# Largest refused body read and discarded to keep the connection; beyond it, close instead.
_DISCARD_LIMIT = 8 * 1024 * 1024

Sink = Callable[[ExportTraceServiceRequest], int]
"""Takes a decoded request; returns how many of its spans it rejected."""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: the SDK and the Collector reuse connections
    server_version = "timetracer-collect"
    # Socket timeout: a stalled or idle client cannot hold its thread for longer than this.
    timeout = 30.0
    server: OtlpHttpServer

    def do_POST(self) -> None:
        self._body_read = False
        with self.server.request_in_flight():
            try:
                self._export()
            except RequestRejected as rejected:
                self._answer_error(rejected)
            except OSError as exc:  # the client went away or stalled mid-request
                self._connection_lost(exc)
            except Exception:  # a bug here must cost one request, never the receiver
                logger.exception("timetracer collect: could not handle an export request")
                self._answer_error(RequestRejected(500, "internal error; see the receiver's log"))

    def _answer_error(
        self, rejected: RequestRejected, headers: dict[str, str] | None = None
    ) -> None:
        self.server.stats.add(rejected_requests=1)
        try:
            self._reject(rejected, headers)
        except OSError as exc:
            self._connection_lost(exc)

    def _connection_lost(self, exc: OSError) -> None:
        logger.debug("timetracer collect: connection lost: %s", exc)
        self.close_connection = True

    def do_GET(self) -> None:
        self._not_allowed()

    do_PUT = do_DELETE = do_PATCH = do_GET

    def _not_allowed(self) -> None:
        self._body_read = False
        self._answer_error(RequestRejected(405, f"use POST {TRACES_PATH}"), {"Allow": "POST"})

    def _export(self) -> None:
        server = self.server
        if urlsplit(self.path).path != TRACES_PATH:
            raise RequestRejected(404, f"no such endpoint; send traces to POST {TRACES_PATH}")
        if server.closing:
            raise RequestRejected(503, "timetracer collect is shutting down")
        if server.token is not None and not self._authorized(server.token):
            raise RequestRejected(401, "missing or wrong bearer token")
        encoding = request_encoding(self.headers.get("Content-Type"))
        if encoding is None:
            raise RequestRejected(
                415, f"unsupported Content-Type; use {PROTOBUF_TYPE} or {JSON_TYPE}"
            )
        length = self._content_length()
        if length > server.max_body_bytes:
            raise RequestRejected(413, f"body is over {server.max_body_bytes} bytes")
        body = self.rfile.read(length)
        self._body_read = True
        if len(body) < length:
            raise ConnectionError("body ended before Content-Length bytes")
        request = decode_request(
            body, encoding, self.headers.get("Content-Encoding"), server.max_body_bytes
        )
        rejected = server.sink(request)
        message = f"{rejected} span(s) with an invalid trace or span id" if rejected else ""
        server.stats.add(requests=1)
        self._send(200, content_type(encoding), success_body(encoding, rejected, message))

    def _authorized(self, token: str) -> bool:
        scheme, _, credentials = (self.headers.get("Authorization") or "").strip().partition(" ")
        # Constant-time comparison: the answer time must not leak how much of a guess matched.
        return scheme.lower() == "bearer" and hmac.compare_digest(
            credentials.strip().encode(), token.encode()
        )

    def _content_length(self) -> int:
        raw = self.headers.get("Content-Length")
        if raw is None:
            raise RequestRejected(411, "Content-Length is required")
        try:
            length = int(raw)
        except ValueError:
            length = -1
        if length < 0:
            raise RequestRejected(400, f"invalid Content-Length {raw!r}")
        return length

    def _reject(self, rejected: RequestRejected, headers: dict[str, str] | None = None) -> None:
        self._discard_body()
        extra = dict(headers or {})
        if rejected.status == 401:
            extra["WWW-Authenticate"] = 'Bearer realm="timetracer collect"'
        elif rejected.status == 415:
            extra["Accept-Encoding"] = ", ".join(CONTENT_CODINGS)
        elif rejected.status == 503:
            extra["Retry-After"] = "5"
        encoding = request_encoding(self.headers.get("Content-Type"))
        if encoding is None or rejected.status == 415:
            kind, body = "text/plain", f"{rejected.status} {rejected.message}\n".encode()
        else:
            kind = content_type(encoding)
            body = error_body(encoding, rejected.status, rejected.message)
        self._send(rejected.status, kind, body, extra)

    def _discard_body(self) -> None:
        if self._body_read:
            return
        self._body_read = True
        try:
            length = int(self.headers.get("Content-Length") or "")
        except ValueError:
            length = -1
        if not 0 <= length <= _DISCARD_LIMIT:
            # Unknown or too much to read for nothing: answer and hang up.
            self.close_connection = True
            return
        while length > 0:
            chunk = self.rfile.read(min(length, 64 * 1024))
            if not chunk:
                self.close_connection = True
                return
            length -= len(chunk)

    def _send(
        self, status: int, kind: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        if self.close_connection or self.server.closing:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        """Per-request lines go to debug logging, not to stderr."""
        logger.debug("timetracer collect: %s - %s", self.address_string(), format % args)


class OtlpHttpServer(ThreadingHTTPServer):
    """Serves ``POST /v1/traces``, handing each decoded request to ``sink``."""

    daemon_threads = True  # idle keep-alive connections must not hold the process open

    def __init__(
        self,
        address: tuple[str, int],
        sink: Sink,
        *,
        token: str | None = None,
        max_body_bytes: int = 64 * 1024 * 1024,
        stats: ReceiverStats | None = None,
    ) -> None:
        self.sink = sink
        self.token = token
        self.max_body_bytes = max_body_bytes
        self.stats = stats if stats is not None else ReceiverStats()
        self.closing = False
        self._idle = threading.Condition()
        self._in_flight = 0
        self._connections: set[socket.socket] = set()
        self.address_family = socket.AF_INET6 if ":" in address[0] else socket.AF_INET
        super().__init__(address, _Handler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind looks the host's FQDN up in DNS, which nothing here needs.
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A connection that failed outside a request (reset while idle, ...): log, go on."""
        logger.debug("timetracer collect: connection from %s failed", client_address, exc_info=True)

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._idle:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._idle:
            self._connections.discard(request)
        super().shutdown_request(request)

    @contextlib.contextmanager
    def request_in_flight(self) -> Iterator[None]:
        """Count a request as being handled, so :meth:`stop` can wait for it."""
        with self._idle:
            self._in_flight += 1
        try:
            yield
        finally:
            with self._idle:
                self._in_flight -= 1
                self._idle.notify_all()

    def stop(self, timeout: float = 10.0) -> bool:
        """Stop accepting, let requests being handled finish, then close every connection.

        Returns False if some request was still running after ``timeout`` seconds.
        """
        self.closing = True
        self.shutdown()
        with self._idle:
            finished = self._idle.wait_for(lambda: self._in_flight == 0, timeout)
            connections = list(self._connections)
        for connection in connections:  # idle keep-alive connections: wake their threads
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)
        self.server_close()
        return finished
