"""What every ``auto_setup`` shares: the tracer provider, the cassette exporter, the instrumentors.

Everything here is idempotent, so calling ``auto_setup`` twice, or under
``opentelemetry-instrument``, records each request once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from timetracer.capture.instrumentor import HttpCaptureInstrumentor, link_server_span
from timetracer.config import Mode, TraceConfig, startup_config
from timetracer.integrations.sdk_internals import span_exporters

logger = logging.getLogger(__name__)

INTERNAL_SPANS_OFF = ["receive", "send"]
"""Per-message ASGI spans add cost and nothing a cassette needs."""

# The same batching the distro sets through OTEL_BSP_*: cassettes appear a fraction of a second
# after the request, and a burst of requests does not overflow the queue (a dropped span would
# leave a cassette missing a call).
_SCHEDULE_DELAY_MILLIS = 200
_MAX_QUEUE_SIZE = 16384
_FLUSH_TIMEOUT_MILLIS = 10_000
FLUSH_MARK = "_timetracer_flush"
"""Set on the shutdown hooks auto_setup adds, so a second auto_setup does not add another."""


@dataclass(frozen=True)
class Setup:
    """What an ``auto_setup`` hands the framework instrumentation."""

    config: TraceConfig
    tracer_provider: TracerProvider | None
    """Where server spans go (record mode); None: the global provider."""
    server_request_hook: Any
    """The ASGI middleware's ``server_request_hook``; None in off mode (leave the app alone)."""
    at_shutdown: Callable[[], None] | None = None
    """Run when the app's lifespan ends (record mode: write the last cassettes)."""


def sdk_tracer_provider() -> TracerProvider:
    """The SDK provider spans go to: the one already configured, else a new global one."""
    current = trace.get_tracer_provider()
    if isinstance(current, TracerProvider):
        return current
    provider = TracerProvider()
    trace.set_tracer_provider(provider)
    # set_tracer_provider refuses to replace a provider set meanwhile; use whichever won.
    winner = trace.get_tracer_provider()
    if isinstance(winner, TracerProvider):
        return winner
    # A non-SDK provider (a vendor's) is global: ours still records, passed explicitly.
    logger.warning(
        "timetracer: the global tracer provider is a %s, not an SDK TracerProvider; "
        "recording through a provider of its own",
        type(winner).__name__,
    )
    return provider


def ensure_cassette_exporter(provider: Any, config: TraceConfig) -> None:
    """Add timetracer's exporter to ``provider`` unless one for the same directory is there."""
    from timetracer_exporter import CassetteSpanExporter

    if not callable(getattr(provider, "add_span_processor", None)):
        logger.warning(
            "timetracer: cannot add the cassette exporter to a %s; give it a "
            "BatchSpanProcessor(CassetteSpanExporter()) yourself",
            type(provider).__name__,
        )
        return
    wanted = config.cassette_dir.resolve()
    for exporter in span_exporters(provider):
        if isinstance(exporter, CassetteSpanExporter) and exporter.cassette_dir.resolve() == wanted:
            return
    provider.add_span_processor(
        BatchSpanProcessor(
            CassetteSpanExporter(config=config),
            schedule_delay_millis=_SCHEDULE_DELAY_MILLIS,
            max_queue_size=_MAX_QUEUE_SIZE,
        )
    )


def flush_at_shutdown(provider: Any) -> Callable[[], None]:
    """A shutdown hook that writes the cassettes of the requests the app just finished.

    uvicorn ends a graceful shutdown by raising SIGTERM again with its default action, which
    kills the process before ``atexit`` (where the SDK flushes) runs; the app's lifespan
    shutdown is the last moment that always comes.
    """

    def flush() -> None:
        try:
            provider.force_flush(_FLUSH_TIMEOUT_MILLIS)
        except Exception:  # telemetry boundary: the app's shutdown must go on
            logger.exception("timetracer could not flush spans at shutdown")

    setattr(flush, FLUSH_MARK, True)
    return flush


def prepare(config: TraceConfig | None) -> Setup:
    """Set up recording or replay for ``config`` (default: from the environment)."""
    config = config or startup_config()
    if config.mode is Mode.RECORD:
        provider = sdk_tracer_provider()
        ensure_cassette_exporter(provider, config)
        capture = HttpCaptureInstrumentor()
        if not capture.is_instrumented_by_opentelemetry:
            capture.instrument(config=config)
        from timetracer.plugins import _PYMONGO_MODULES, enable_pymongo, installed

        # An app without MongoDB (or without the pymongo extra) still records its requests.
        if all(map(installed, _PYMONGO_MODULES)):
            enable_pymongo(config, tracer_provider=provider)
        return Setup(config, provider, link_server_span, flush_at_shutdown(provider))
    if config.mode is Mode.REPLAY:
        from timetracer_replay.instrumentor import ReplayInstrumentor, mark_replayed

        replay = ReplayInstrumentor()
        if not replay.is_instrumented_by_opentelemetry:
            replay.instrument(config=config)
        return Setup(config, None, mark_replayed)
    return Setup(config, None, None)
