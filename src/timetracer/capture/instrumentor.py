"""Puts an :class:`ExchangeRecorder` around every contrib ASGI middleware call.

Starlette, FastAPI (contrib instrumentors) and Litestar (its own plugin) all create server spans
through ``opentelemetry.instrumentation.asgi.OpenTelemetryMiddleware``; wrapping its ``__call__``
therefore records all three frameworks with one hook point. The recorder learns its server span
from :func:`link_server_span`, which the distro passes as ``server_request_hook``.

Requests on excluded paths (``TIMETRACER_EXCLUDE_PATHS``), websockets and lifespan events are
handed to the middleware exactly as they came, with no recorder in between.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from contextvars import ContextVar
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from opentelemetry.trace import Span
from wrapt import wrap_function_wrapper

from timetracer.capture.exclusion import unrecorded_request
from timetracer.capture.http import ExchangeRecorder, HttpCapture
from timetracer.capture.isolation import own_request_context
from timetracer.config import TraceConfig

_ASGI_MODULE = "opentelemetry.instrumentation.asgi"

# The recorder of the exchange being handled in this task; the server-request hook runs
# synchronously inside the wrapped call, so it sees the value set just before it.
_current_recorder: ContextVar[ExchangeRecorder | None] = ContextVar(
    "timetracer_current_recorder", default=None
)

ServerRequestHook = Callable[[Span, dict[str, Any]], None]


def link_server_span(span: Span, scope: dict[str, Any]) -> None:
    """``server_request_hook`` for the ASGI middleware: hands the server span to the recorder."""
    recorder = _current_recorder.get()
    if recorder is not None and recorder.scope is scope:
        recorder.attach(span)


def chain_server_request_hooks(user_hook: ServerRequestHook | None) -> ServerRequestHook:
    """``link_server_span`` followed by the user's own hook, if any."""
    if user_hook is None or user_hook is link_server_span:
        return link_server_span

    def chained(span: Span, scope: dict[str, Any]) -> None:
        link_server_span(span, scope)
        user_hook(span, scope)

    return chained


def exclude_internal_spans(middleware: Any, hook: Callable[..., Any]) -> None:
    """Apply ``exclude_spans=["receive", "send"]`` to a middleware built with timetracer's ``hook``.

    The distro asks every ASGI instrumentor for it, but the contrib Starlette instrumentor
    (0.66b1) has no such option and builds its middleware with one span per ASGI message: a
    streamed response would then hold a span per chunk in memory until the request ends, and
    a never-ending stream would grow without bound. A middleware carrying timetracer's hook
    was built on the distro's behalf, so the option the distro asked for is applied here.
    """
    # getattr: a contrib version without these attributes must not break the request.
    if getattr(middleware, "exclude_send_span", True) and getattr(
        middleware, "exclude_receive_span", True
    ):
        return
    own = getattr(middleware, "server_request_hook", None)
    # The middleware wraps each hook in a ``functools.wraps`` failsafe.
    if own is hook or getattr(own, "__wrapped__", None) is hook:
        middleware.exclude_receive_span = True
        middleware.exclude_send_span = True


class HttpCaptureInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Records request and response payloads onto server spans (record mode only)."""

    _capture: HttpCapture | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return ()

    def _instrument(self, **kwargs: Any) -> None:
        config = kwargs.get("config") or TraceConfig.from_env()
        self._capture = HttpCapture(config)
        wrap_function_wrapper(_ASGI_MODULE, "OpenTelemetryMiddleware.__call__", self._wrap_call)

    def _uninstrument(self, **kwargs: Any) -> None:
        from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

        unwrap(OpenTelemetryMiddleware, "__call__")
        self._capture = None

    @property
    def capture(self) -> HttpCapture | None:
        """The active capture settings and failure counts, or None when not instrumented."""
        return self._capture

    async def _wrap_call(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        capture = self._capture
        if capture is None or len(args) != 3 or kwargs:
            return await wrapped(*args, **kwargs)
        scope, receive, send = args
        exclude_internal_spans(instance, link_server_span)
        if scope.get("type") != "http":
            return await wrapped(scope, receive, send)
        excluded = capture.excludes(scope)
        # Every request sets its own exclusion flag: it may start in a context inherited from
        # an earlier request on the same connection (see capture/isolation.py).
        with own_request_context(scope), unrecorded_request(excluded):
            if excluded:
                return await wrapped(scope, receive, send)
            recorder = ExchangeRecorder(capture, scope, receive, send)
            token = _current_recorder.set(recorder)
            try:
                return await wrapped(scope, recorder.receive, recorder.send)
            finally:
                _current_recorder.reset(token)
