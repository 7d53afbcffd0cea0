"""Keeping an earlier request's tracing context out of the next request on a connection.

asyncio callbacks run in the context that was current when they were scheduled. When uvicorn
pauses reading a connection because a request body is large (over 64 KiB) and resumes it from
inside that request's task, the socket's reader callback is re-registered with *that request's*
context, and every later request on the connection starts its task from a copy of it
(python/cpython#140947; uvicorn's opt-in ``--reset-contextvars`` works around it). The contrib
ASGI middleware then finds the earlier request's server span current and makes the new request
an internal child of it: the request is recorded into a trace that was already written, and
its cassette is lost.

Every HTTP request passing through the middleware is therefore marked here; a request that
finds another request's mark starts from an empty OpenTelemetry context, as the server meant.
A nested middleware call for the same request (an instrumented app mounted in another) sees its
own scope and keeps its parent.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from contextvars import ContextVar, Token
from typing import Any

from opentelemetry import context as otel_context

_serving: ContextVar[MutableMapping[str, Any] | None] = ContextVar(
    "timetracer_serving_scope", default=None
)


def inherited_from_another_request(scope: MutableMapping[str, Any]) -> bool:
    """Whether the context the request ``scope`` runs in was left behind by another request."""
    serving = _serving.get()
    return serving is not None and serving is not scope


# Lower case: it was, and reads as, a function (``with own_request_context(scope):``).
class own_request_context:
    """Run the block as request ``scope``, without any other request's tracing context.

    A class rather than a generator-based context manager: it runs for every request.
    """

    __slots__ = ("_otel_token", "_scope", "_token")

    def __init__(self, scope: MutableMapping[str, Any]) -> None:
        self._scope = scope
        self._otel_token: Token[otel_context.Context] | None = None
        self._token: Token[MutableMapping[str, Any] | None] | None = None

    def __enter__(self) -> None:
        scope = self._scope
        if inherited_from_another_request(scope):
            self._otel_token = otel_context.attach(otel_context.Context())
        self._token = _serving.set(scope)

    def __exit__(self, *exc_info: object) -> None:
        token, otel_token = self._token, self._otel_token
        self._token = self._otel_token = None
        if token is not None:
            _serving.reset(token)
        if otel_token is not None:
            otel_context.detach(otel_token)
