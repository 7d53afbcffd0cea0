"""``ReplayInstrumentor``: server-mode replay under ``opentelemetry-instrument``.

It redirects every PyMongo client to the in-process responder and wraps the contrib ASGI
middleware (the one Starlette, FastAPI and Litestar all use) so each incoming request is
matched to a recording; that recording then answers the request's MongoDB calls. A request
nobody recorded gets a 404 whose JSON body names what was looked for. The distro loads this
instrumentor only in replay mode.

Matching needs the request body, but only as much of it as a recording keeps
(``TIMETRACER_MAX_BODY_BYTES``): that much is read ahead and handed to the app first, message
by message, and the rest streams from the client as it would without timetracer. Requests on
excluded paths (``TIMETRACER_EXCLUDE_PATHS``), websockets and lifespan events go straight to
the app.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.trace import Span
from wrapt import wrap_function_wrapper

from timetracer.capture.instrumentor import exclude_internal_spans
from timetracer.config import TraceConfig
from timetracer_replay.requests import RecordedRequests, RequestMiss
from timetracer_replay.scope import current_scope
from timetracer_replay.session import ReplaySession, scope_for

logger = logging.getLogger(__name__)

REPLAYED_FROM = "timetracer.replay.cassette"
"""Span attribute naming the cassette a replayed request or command was answered from."""
_ASGI_MODULE = "opentelemetry.instrumentation.asgi"


def mark_replayed(span: Span, *_: Any) -> None:
    """Server-request and pymongo request hook: tag spans made while replaying a cassette."""
    scope = current_scope.get()
    if scope is not None and span.is_recording():
        span.set_attribute(REPLAYED_FROM, scope.name)


async def _read_head(receive: Any, limit: int) -> tuple[bytes, deque[dict[str, Any]]]:
    """The first ``limit`` bytes of the request body, and every message read to get them.

    A recording keeps no more of a body than ``limit``, so matching needs no more, and memory
    stays bounded by the cap (plus one message) instead of by the upload.
    """
    messages: deque[dict[str, Any]] = deque()
    head = bytearray()
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        if len(head) < limit:
            head += message.get("body", b"")[: limit - len(head)]
        if not message.get("more_body", False) or len(head) >= limit:
            break
    return bytes(head), messages


async def _send_miss(send: Any, miss: RequestMiss) -> None:
    body = json.dumps(miss.to_dict()).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 404,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"x-timetracer-replay", b"miss"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


class ReplayInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Answers recorded requests' dependencies from cassettes (``TIMETRACER_MODE=replay``)."""

    _session: ReplaySession | None = None
    _requests: RecordedRequests | None = None
    _config: TraceConfig | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        config: TraceConfig = kwargs.get("config") or TraceConfig.from_env()
        self._config = config
        self._requests = RecordedRequests.load(config)
        logger.info("timetracer replay: %d recorded request(s) loaded", len(self._requests))
        if "mongodb" not in config.live:
            self._session = ReplaySession(passthrough=config.replay_on_miss == "passthrough")
            self._session.start()
        wrap_function_wrapper(_ASGI_MODULE, "OpenTelemetryMiddleware.__call__", self._serve)

    def _uninstrument(self, **kwargs: Any) -> None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        unwrap(OpenTelemetryMiddleware, "__call__")
        if self._session is not None:
            self._session.stop()
        self._session = self._requests = self._config = None

    @property
    def session(self) -> ReplaySession | None:
        """The running replay session (None when MongoDB is kept live)."""
        return self._session

    async def _serve(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        requests, config = self._requests, self._config
        if requests is None or config is None or len(args) != 3 or kwargs:
            return await wrapped(*args, **kwargs)
        scope, receive, send = args
        # Replayed requests get the same spans as recorded ones, so the traces compare.
        exclude_internal_spans(instance, mark_replayed)
        if scope.get("type") != "http" or config.excludes(scope.get("path", "")):
            return await wrapped(scope, receive, send)
        body, buffered = await _read_head(receive, config.max_body_bytes)
        headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", [])]
        query = scope.get("query_string", b"").decode("latin-1")
        found = requests.match(scope["method"], scope["path"], query, headers, body)
        if isinstance(found, RequestMiss):
            return await _send_miss(send, found)

        async def replay_receive() -> dict[str, Any]:
            # The head of the body was read to match the request; the app gets the same
            # messages first, then the rest of the body straight from the client.
            return buffered.popleft() if buffered else await receive()

        if self._session is None:
            return await wrapped(scope, replay_receive, send)
        with self._session.scope(scope_for(found)):
            return await wrapped(scope, replay_receive, send)
