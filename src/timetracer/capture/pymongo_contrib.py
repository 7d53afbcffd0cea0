"""Pointing contrib's ``PymongoInstrumentor`` (0.66) at timetracer's hooks, at any time.

The instrumentor builds its ``CommandTracer`` on the first ``instrument()`` call of the process
and keeps it, hooks and tracer included, for good: pymongo cannot unregister a listener, and a
later ``instrument()`` only re-enables the first one, ignoring the hooks it is given. So
timetracer never hands its hooks to ``instrument()``: it makes sure the ``CommandTracer`` exists
and is enabled, then chains its hooks after the ones already there (the app's own keep
running), and :func:`detach` puts the previous hooks and the previous enabled state back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry.instrumentation.pymongo import PymongoInstrumentor, dummy_callback

from timetracer.capture.mongo import MongoCapture

Hook = Callable[[Any, Any], None]


@dataclass(frozen=True)
class SavedHooks:
    """What a ``CommandTracer`` had before timetracer's hooks were chained onto it."""

    start: Hook
    success: Hook
    failed: Hook
    was_instrumented: bool
    """Whether pymongo was instrumented (the tracer enabled) before; if not, detach disables it."""


def _chain(first: Hook, then: Hook) -> Hook:
    if first is dummy_callback:
        return then

    def both(span: Any, event: Any) -> None:
        # The CommandTracer logs and swallows a failing hook; the app's hook failing must not
        # cost the recording, so each runs on its own.
        try:
            first(span, event)
        finally:
            then(span, event)

    return both


def owner_of(hook: Any) -> Any:
    """The object a bound hook method belongs to (a MongoCapture for timetracer's)."""
    return getattr(hook, "__self__", None)


def recording_through_distro() -> bool:
    """Whether pymongo is instrumented with timetracer's hooks handed to ``instrument()``, as
    the distro does under ``opentelemetry-instrument`` in record mode."""
    instrumentor = PymongoInstrumentor()
    command_tracer = getattr(instrumentor, "_commandtracer_instance", None)
    return (
        command_tracer is not None
        and instrumentor.is_instrumented_by_opentelemetry
        and isinstance(owner_of(command_tracer.start_hook), MongoCapture)
    )


def attach(capture: MongoCapture, tracer_provider: Any = None) -> SavedHooks | None:
    """Make every pymongo command span carry ``capture``'s payloads; None if already so.

    ``tracer_provider`` is used only when this call creates the ``CommandTracer``; one created
    earlier keeps the provider it was created with.
    """
    if recording_through_distro():
        return None
    instrumentor = PymongoInstrumentor()
    was_instrumented = bool(instrumentor.is_instrumented_by_opentelemetry)
    if not was_instrumented:
        instrumentor.instrument(tracer_provider=tracer_provider)
    command_tracer = instrumentor._commandtracer_instance
    saved = SavedHooks(
        command_tracer.start_hook,
        command_tracer.success_hook,
        command_tracer.failed_hook,
        was_instrumented,
    )
    command_tracer.start_hook = _chain(saved.start, capture.request_hook)
    command_tracer.success_hook = _chain(saved.success, capture.response_hook)
    command_tracer.failed_hook = _chain(saved.failed, capture.failed_hook)
    return saved


def detach(saved: SavedHooks) -> None:
    """Undo :func:`attach`: the previous hooks back, and pymongo uninstrumented if it was."""
    instrumentor = PymongoInstrumentor()
    command_tracer = getattr(instrumentor, "_commandtracer_instance", None)
    if command_tracer is not None:
        command_tracer.start_hook = saved.start
        command_tracer.success_hook = saved.success
        command_tracer.failed_hook = saved.failed
    if not saved.was_instrumented and instrumentor.is_instrumented_by_opentelemetry:
        instrumentor.uninstrument()
