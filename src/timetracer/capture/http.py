"""Records one HTTP exchange onto its server span, passing every ASGI message through untouched.

The recorder wraps the ``receive`` and ``send`` callables handed to the contrib ASGI middleware.
It never changes a message: the app sees the client's bytes and the client sees the app's.
It never reads on the app's behalf either, so a body the app leaves unread stays unread (and
unrecorded). What it keeps is bounded by ``TIMETRACER_MAX_BODY_BYTES``, and it writes to the
span at three moments only: when the span starts (request line and headers), when the request
body ends, and when the response body ends (the span is still open then; the middleware ends
it after). An exchange cut short, by a client that went away (``http.disconnect``) or a send
that failed, is recorded as far as it got, before the span ends.
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
from timetracer.capture.sdk_span import set_attributes, set_clean_attributes
from timetracer.config import TraceConfig, exclusion_pattern
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
        self._excluded_paths = exclusion_pattern(config.exclude_paths)

    def excludes(self, scope: Message) -> bool:
        """Whether this request's path is one that is passed through unrecorded."""
        pattern = self._excluded_paths
        return pattern is not None and pattern.match(scope.get("path", "")) is not None


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
            redacted_query = redactor.query(query)
            method, path = scope.get("method", "GET"), scope.get("path", "/")
            attributes = {
                attr.HTTP_METHOD: method,
                attr.HTTP_PATH: path,
                attr.HTTP_QUERY: redacted_query,
                attr.HTTP_REQUEST_HEADERS: redactor.headers(scope.get("headers", ())),
            }
            if redacted_query != query:
                # The middleware's own http.url / url.query repeat the query as sent.
                attributes.update(
                    redactor.url_attributes(
                        getattr(span, "attributes", None) or {}, query, redacted_query
                    )
                )
            if type(method) is str and type(path) is str:
                set_clean_attributes(span, attributes)  # the rest is text we built
            else:  # a server that breaks the ASGI spec: let the SDK clean what it sent
                set_attributes(span, attributes)
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
        if self.span is not None:
            if message.get("type") == "http.disconnect":
                self._record_cut_short()
            elif not self._request_done:
                try:
                    self._observe_request(message)
                except Exception as exc:  # recording must never break the request
                    self._fail("http-request-body", exc)
        return message

    async def send(self, message: Message) -> None:
        """The app's ``send``: the app's message, observed on its way out."""
        if not self._decided:
            self._attach_current_span()
        try:
            await self._send(message)
        except BaseException:
            # The client is gone or the task is being cancelled: keep what was delivered,
            # while the span is still open, and let the app see its error unchanged.
            if self.span is not None:
                self._record_cut_short()
            raise
        # Observed once delivered, so the cassette holds what the client was sent; the
        # middleware ends the span only after this returns.
        if self.span is not None:
            try:
                self._observe_response(message)
            except Exception as exc:  # recording must never break the response
                self._fail("http-response", exc)

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
        body = self._request_body
        if message.get("type") != "http.request" or body is None:
            return
        body.add(message.get("body", b""))
        if not message.get("more_body", False):
            self._record_request_body(body)

    def _record_request_body(self, body: BodyBuffer) -> None:
        self._request_done = True
        stored = self._capture.redactor.body(body.value(), _content_type(self.scope.get("headers")))
        set_clean_attributes(  # bytes, int and bool by construction
            self.span,  # type: ignore[arg-type]
            {
                attr.HTTP_REQUEST_BODY: stored,
                attr.HTTP_REQUEST_BODY_SIZE: body.total,
                attr.HTTP_REQUEST_BODY_TRUNCATED: body.truncated,
            },
        )

    def _observe_response(self, message: Message) -> None:
        kind = message.get("type")
        if kind == "http.response.start":
            self._status = int(message.get("status", 0))
            self._response_headers = message.get("headers", ())
            return
        body = self._response_body
        if kind != "http.response.body" or body is None:
            return
        body.add(message.get("body", b""))
        if not message.get("more_body", False):
            self._record_response(body)

    def _record_response(self, body: BodyBuffer) -> None:
        span = self.span
        request = self._request_body
        if not self._request_done and request is not None and request.total:
            # The app answered before reading the whole body: keep the part it read.
            self._record_request_body(request)
        redactor = self._capture.redactor
        stored = redactor.body(body.value(), _content_type(self._response_headers))
        set_clean_attributes(  # str, int, bool, bytes and a tuple of str by construction
            span,  # type: ignore[arg-type]
            {
                attr.HTTP_ROUTE: route_template(self.scope, getattr(span, "attributes", None)),
                attr.HTTP_STATUS: self._status,
                attr.HTTP_RESPONSE_HEADERS: redactor.headers(self._response_headers),
                attr.HTTP_RESPONSE_BODY: stored,
                attr.HTTP_RESPONSE_BODY_SIZE: body.total,
                attr.HTTP_RESPONSE_BODY_TRUNCATED: body.truncated,
            },
        )
        # The exchange is complete and the middleware is about to end the span: whatever
        # passes after this (a late ``http.disconnect``) has nothing left to record.
        self.span = None

    def _record_cut_short(self) -> None:
        """Record what passed of an exchange that ended early, while its span is still open.

        A request body is kept as far as the app read it; a response that started is kept
        with the bytes sent so far (the first ``max_body_bytes`` of them, and the count of
        all), so a never-ending stream that the client left still makes a cassette.
        """
        try:
            request = self._request_body
            if not self._request_done and request is not None and request.total:
                self._record_request_body(request)
            if self._status and self._response_body is not None:
                self._record_response(self._response_body)
        except Exception as exc:  # recording must never break the request
            self._fail("http-response", exc)
        self.span = None

    def _fail(self, what: str, exc: Exception) -> None:
        self._capture.failures.report(
            cause_of(what, exc), f"timetracer could not record {what.replace('-', ' ')}", exc
        )
        self.span = None
