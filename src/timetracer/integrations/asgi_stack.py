"""Finding OpenTelemetry's ASGI middleware in an app that was instrumented without timetracer.

An app may already carry the contrib ``OpenTelemetryMiddleware`` when ``auto_setup`` sees it:
the user called ``StarletteInstrumentor.instrument_app(app)`` or gave Litestar an
``OpenTelemetryPlugin``, or plain ``opentelemetry-instrument`` (without timetracer's distro)
instrumented it. Adding a second middleware would make two server spans per request, so the
existing one is kept and timetracer's server-request hook is chained after the app's own.

Where the middleware lives (Starlette 1.x, FastAPI 0.16x, Litestar 2.25): every layer of a
middleware stack keeps the next one in ``.app``; Litestar's
``OpenTelemetryInstrumentationMiddleware`` keeps the contrib middleware in
``.open_telemetry_middleware``. Starlette and FastAPI build their stack on the first request, so
for them the search runs when the stack is built.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware

logger = logging.getLogger(__name__)

Hook = Callable[[Any, dict[str, Any]], None]
_MAX_DEPTH = 64
_LINK_MARK = "_timetracer_links"


def server_middlewares(root: Any) -> Iterator[OpenTelemetryMiddleware]:
    """The contrib ASGI middlewares in the stack that starts at ``root``, outermost first."""
    node, seen = root, set()
    while node is not None and id(node) not in seen and len(seen) < _MAX_DEPTH:
        seen.add(id(node))
        if isinstance(node, OpenTelemetryMiddleware):
            yield node
        inner = getattr(node, "open_telemetry_middleware", None)
        if isinstance(inner, OpenTelemetryMiddleware):
            yield inner
        node = getattr(node, "app", None)


def _runs(hook: Any, wanted: Hook) -> bool:
    # The middleware wraps each hook in a functools.wraps failsafe; a chain is marked.
    return (
        hook is wanted
        or getattr(hook, "__wrapped__", None) is wanted
        or (getattr(hook, _LINK_MARK, None) is wanted)
    )


def chain_hook(middleware: OpenTelemetryMiddleware, hook: Hook) -> bool:
    """Make ``middleware`` call ``hook`` first, then its own server-request hook (if any);
    return whether it changed."""
    own = middleware.server_request_hook
    if _runs(own, hook):
        return False
    if own is None:

        def chained(span: Any, scope: dict[str, Any]) -> None:
            hook(span, scope)

    else:

        def chained(span: Any, scope: dict[str, Any]) -> None:
            hook(span, scope)
            own(span, scope)  # the middleware's failsafe wrapper: it never raises

    setattr(chained, _LINK_MARK, hook)
    middleware.server_request_hook = chained
    return True


def chain_into_stack(root: Any, hook: Hook) -> int:
    """Chain ``hook`` into every contrib middleware under ``root``; return how many."""
    return sum(chain_hook(middleware, hook) for middleware in server_middlewares(root))


def chain_when_built(app: Any, hook: Hook) -> None:
    """Chain ``hook`` into a Starlette or FastAPI app's middleware stack, now if it is built,
    else when Starlette builds it on the first request."""
    if getattr(app, "middleware_stack", None) is not None:
        if not chain_into_stack(app.middleware_stack, hook):
            logger.debug("timetracer: no OpenTelemetry middleware found in %r", app)
        return
    build = app.build_middleware_stack
    if getattr(build, _LINK_MARK, None) is hook:
        return  # an earlier auto_setup already arranged it

    def build_then_chain() -> Any:
        stack = build()
        chain_into_stack(stack, hook)
        return stack

    setattr(build_then_chain, _LINK_MARK, hook)
    app.build_middleware_stack = build_then_chain
