"""Pointing contrib's ``PymongoInstrumentor`` (0.66) at timetracer's hooks, at any time.

The instrumentor builds its ``CommandTracer`` on the first ``instrument()`` call of the process
and keeps it, hooks and tracer included, for good: pymongo cannot unregister a listener, and a
later ``instrument()`` only re-enables the first one. So when ``enable_pymongo`` runs after
someone else instrumented pymongo (the app itself, or an earlier ``enable``/``disable``), the
hooks on that cached tracer are swapped for timetracer's — chained with the app's own, which
keep running — and put back on ``disable``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.instrumentation.pymongo import PymongoInstrumentor, dummy_callback

from timetracer.capture.mongo import MongoCapture

Hook = Callable[[Any, Any], None]


@dataclass
class SavedHooks:
    """The hooks a ``CommandTracer`` had before timetracer's were put on it."""

    start: Hook
    success: Hook
    failed: Hook
    instrumented_here: bool


def _chain(first: Hook, then: Hook) -> Hook:
    if first is dummy_callback:
        return then

    def both(span: Any, event: Any) -> None:
        first(span, event)
        then(span, event)

    return both


def owner_of(hook: Any) -> Any:
    """The object a bound hook method belongs to (a MongoCapture for timetracer's)."""
    return getattr(hook, "__self__", None)


def attach(capture: MongoCapture, tracer_provider: Any = None) -> SavedHooks | None:
    """Make every pymongo command span carry ``capture``'s payloads; None if already so."""
    instrumentor = PymongoInstrumentor()
    command_tracer = getattr(instrumentor, "_commandtracer_instance", None)
    already_ours = (
        command_tracer is not None
        and instrumentor.is_instrumented_by_opentelemetry
        and isinstance(owner_of(command_tracer.start_hook), MongoCapture)
    )
    if already_ours:
        return None  # timetracer's hooks are there already (the distro under the launcher)
    instrumented_here = not instrumentor.is_instrumented_by_opentelemetry
    if instrumented_here:
        instrumentor.instrument(
            tracer_provider=tracer_provider,
            request_hook=capture.request_hook,
            response_hook=capture.response_hook,
            failed_hook=capture.failed_hook,
        )
    command_tracer = instrumentor._commandtracer_instance
    saved = SavedHooks(
        command_tracer.start_hook,
        command_tracer.success_hook,
        command_tracer.failed_hook,
        instrumented_here,
    )
    if command_tracer.start_hook != capture.request_hook:
        command_tracer.start_hook = _chain(saved.start, capture.request_hook)
        command_tracer.success_hook = _chain(saved.success, capture.response_hook)
        command_tracer.failed_hook = _chain(saved.failed, capture.failed_hook)
    return saved


def detach(saved: SavedHooks) -> None:
    """Undo :func:`attach`: the previous hooks back, and uninstrument if it instrumented."""
    instrumentor = PymongoInstrumentor()
    command_tracer = getattr(instrumentor, "_commandtracer_instance", None)
    if command_tracer is not None:
        command_tracer.start_hook = saved.start
        command_tracer.success_hook = saved.success
        command_tracer.failed_hook = saved.failed
    if saved.instrumented_here and instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
