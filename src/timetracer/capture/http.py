"""Records one HTTP exchange onto its server span, passing every ASGI message through untouched.

The recorder wraps the ``receive`` and ``send`` callables handed to the contrib ASGI middleware.
It never changes a message: the app sees the client's bytes and the client sees the app's.
What it keeps is bounded by ``TIMETRACER_MAX_BODY_BYTES``, and it writes to the span at three
moments only: when the span starts (request line and headers), when the request body ends,
and when the response body ends (the span is still open then; the middleware ends it after).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from opentelemetry import trace
from opentelemetry.trace import Span, SpanKind

from timetracer import attributes as attr
from timetracer.capture.body import BodyBuffer
from timetracer.capture.route import route_template
from timetracer.config import TraceConfig
from timetracer.failures import FailureLog, cause_of
from timetracer.redaction import Redactor

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

logger = logging.getLogger(__name__)


class HttpCapture:
    """Settings and failure accounting shared by every recorded exchange."""

    def __init__(self, config: TraceConfig) -> None:
        self.config = config
        self.redactor = Redactor(config)
        self.failures = FailureLog(logger)


def _content_type(headers: Any) -> str:
    for name, value in headers or ():
        if name.lower() == b"content-type":
            return value.decode("latin-1")
    return ""


class ExchangeRecorder:
    """Observes one request's ASGI messages and records them on its server span."""

    __slots__ = (
        "_capture",
        "_decided",
        "_receive",
        "_request_body",
        "_request_done",
        "_response_body",
        "_response_headers",
        "_send",
        "_status",
        "scope",
        "span",
    )

    def __init__(self, capture: HttpCapture, scope: Message, receive: Receive, send: Send) -> None:
        self._capture = capture
        self.scope = scope
        self._receive = receive
        self._send = send
        self.span: Span | None = None
        self._decided = False
        self._request_body: BodyBuffer | None = None
        self._request_done = False
        self._response_body: BodyBuffer | None = None
        self._response_headers: Any = ()
        self._status = 0

    def attach(self, span: Span) -> None:
        """Start recording onto ``span`` (called from the middleware's server-request hook)."""
        if self._decided:
            return
        self._decided = True
        if not span.is_recording():
            return
        config = self._capture.config
        if not config.samples(span.get_span_context().trace_id):
            return
        try:
            scope = self.scope
            redactor = self._capture.redactor
            query = scope.get("query_string", b"").decode("latin-1")
            span.set_attributes(
                {
                    attr.HTTP_METHOD: scope.get("method", "GET"),
                    attr.HTTP_PATH: scope.get("path", "/"),
                    attr.HTTP_QUERY: redactor.query(query),
                    attr.HTTP_REQUEST_HEADERS: redactor.headers(scope.get("headers", ())),
                }
            )
        except Exception as exc:  # recording must never break the request
            self._capture.failures.report(
                cause_of("http-request", exc), "timetracer could not record a request", exc
            )
            return
        self.span = span
        self._request_body = BodyBuffer(config.max_body_bytes)
        self._response_body = BodyBuffer(config.max_body_bytes)

    async def receive(self) -> Message:
        """The app's ``receive``: the client's message, observed on its way through."""
        message = await self._receive()
        if not self._decided:
            self._attach_current_span()
        if self.span is not None and not self._request_done:
            try:
                self._observe_request(message)
            except Exception as exc:  # recording must never break the request
                self._fail("http-request-body", exc)
        return message

    async def send(self, message: Message) -> None:
        """The app's ``send``: the app's message, observed on its way out."""
        if not self._decided:
            self._attach_current_span()
        if self.span is not None:
            try:
                self._observe_response(message)
            except Exception as exc:  # recording must never break the response
                self._fail("http-response", exc)
        await self._send(message)

    def _attach_current_span(self) -> None:
        # Fallback for middleware built without timetracer's server-request hook (an app that
        # configured its OpenTelemetry plugin itself): with internal receive/send spans
        # excluded, the server span is the current span while the app runs.
        span = trace.get_current_span()
        if getattr(span, "kind", None) is SpanKind.SERVER:
            self.attach(span)
        else:
            self._decided = True

    def _observe_request(self, message: Message) -> None:
        if message.get("type") != "http.request" or self._request_body is None:
            return
        self._request_body.add(message.get("body", b""))
        if message.get("more_body", False):
            return
        self._request_done = True
        body = self._request_body
        stored = self._capture.redactor.body(body.value(), _content_type(self.scope.get("headers")))
        self.span.set_attributes(  # type: ignore[union-attr]
            {attr.HTTP_REQUEST_BODY: stored, attr.HTTP_REQUEST_BODY_SIZE: body.total}
        )

    def _observe_response(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "http.response.start":
            self._status = int(message.get("status", 0))
            self._response_headers = message.get("headers", ())
            return
        if kind != "http.response.body" or self._response_body is None:
            return
        self._response_body.add(message.get("body", b""))
        if message.get("more_body", False):
            return
        span = self.span
        body = self._response_body
        redactor = self._capture.redactor
        stored = redactor.body(body.value(), _content_type(self._response_headers))
        span.set_attributes(  # type: ignore[union-attr]
            {
                attr.HTTP_ROUTE: route_template(self.scope, getattr(span, "attributes", None)),
                attr.HTTP_STATUS: self._status,
                attr.HTTP_RESPONSE_HEADERS: redactor.headers(self._response_headers),
                attr.HTTP_RESPONSE_BODY: stored,
                attr.HTTP_RESPONSE_BODY_SIZE: body.total,
            }
        )
        self._response_body = None

    def _fail(self, what: str, exc: Exception) -> None:
        self._capture.failures.report(
            cause_of(what, exc), f"timetracer could not record {what.replace('-', ' ')}", exc
        )
        self.span = None
