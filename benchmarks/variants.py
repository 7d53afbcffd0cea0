"""The instrumentation set-ups compared, each installed into a fresh worker process.

- ``uninstrumented``: the app as it is.
- ``default-tracing``: the contrib Starlette and Pymongo instrumentors with their default
  settings (internal receive/send spans included), a ``TracerProvider`` and a
  ``BatchSpanProcessor`` over a span exporter that does nothing.
- ``record-gzip`` / ``record-zstd``: what ``TimetracerDistro`` configures in record mode —
  the options come from the distro's own ``_record_options`` and ``_RECORD_DEFAULTS``, so they
  cannot drift — with a ``BatchSpanProcessor`` over ``CassetteSpanExporter``.
- ``record-path``: the same record set-up over the exporter that does nothing: the request
  path alone (hooks, payload capture, spans), without the exporter thread's work.

Both traced variants set the global tracer provider as ``opentelemetry-instrument`` does; no
meter provider is set in either, so metrics cost the same (nothing) on both sides.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from timetracer.config import DEFAULT_COMPRESSION

BASELINE = "uninstrumented"
DEFAULT_TRACING = "default-tracing"
RECORD_GZIP = "record-gzip"
RECORD_ZSTD = "record-zstd"
RECORD_PATH = "record-path"
VARIANTS = (BASELINE, DEFAULT_TRACING, RECORD_GZIP, RECORD_ZSTD, RECORD_PATH)
DEFAULT_CODEC = DEFAULT_COMPRESSION
"""The compression timetracer writes unless told otherwise: the bars are judged on it."""
RECORD_DEFAULT = f"record-{DEFAULT_CODEC}"

Finish = Callable[[], None]
"""Flushes and shuts down what a variant installed."""


class NoOpSpanExporter(SpanExporter):
    """Accepts spans and drops them: tracing's cost without any export cost."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Drop the spans."""
        return SpanExportResult.SUCCESS


def _provider() -> TracerProvider:
    # The resource opentelemetry-instrument builds (it adds the auto-instrumentation version),
    # so cassettes carry what they would carry in production.
    from opentelemetry.instrumentation.version import __version__

    provider = TracerProvider(resource=Resource.create({"telemetry.auto.version": __version__}))
    trace.set_tracer_provider(provider)
    return provider


def _finish(provider: TracerProvider) -> Finish:
    def finish() -> None:
        provider.force_flush()
        provider.shutdown()

    return finish


def install_default_tracing() -> Finish:
    """Contrib instrumentors with their defaults, exporting to nowhere."""
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor

    provider = _provider()
    provider.add_span_processor(BatchSpanProcessor(NoOpSpanExporter()))
    StarletteInstrumentor().instrument()
    PymongoInstrumentor().instrument()
    return _finish(provider)


def install_record(
    cassette_dir: Path, compression: str, *, processor: SpanProcessor | None = None
) -> Finish:
    """Record mode exactly as the distro sets it up, writing cassettes to ``cassette_dir``.

    ``processor`` replaces the batch processor and cassette exporter (to collect the spans).
    """
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor

    from timetracer.capture.instrumentor import HttpCaptureInstrumentor
    from timetracer.config import TraceConfig
    from timetracer.distro import _RECORD_DEFAULTS, TimetracerDistro
    from timetracer_exporter import CassetteSpanExporter

    for name, value in _RECORD_DEFAULTS.items():
        os.environ.setdefault(name, value)  # read by BatchSpanProcessor below
    config = TraceConfig(mode="record", cassette_dir=cassette_dir, compression=compression)
    distro = TimetracerDistro()
    distro._config = config
    provider = _provider()
    if processor is None:
        processor = BatchSpanProcessor(CassetteSpanExporter(config=config))
    provider.add_span_processor(processor)
    HttpCaptureInstrumentor().instrument(**distro._record_options("timetracer_capture", config))
    StarletteInstrumentor().instrument(**distro._record_options("starlette", config))
    PymongoInstrumentor().instrument(**distro._record_options("pymongo", config))
    return _finish(provider)


def install(variant: str, cassette_dir: Path) -> Finish:
    """Install ``variant`` into this process; call the result when the round is over."""
    if variant == BASELINE:
        return lambda: None
    if variant == DEFAULT_TRACING:
        return install_default_tracing()
    if variant == RECORD_PATH:
        processor = BatchSpanProcessor(NoOpSpanExporter())
        return install_record(cassette_dir, DEFAULT_CODEC, processor=processor)
    if variant.startswith("record-"):  # record-gzip, record-zstd, record-none
        return install_record(cassette_dir, variant.removeprefix("record-"))
    raise ValueError(f"unknown variant {variant!r}: expected one of {', '.join(VARIANTS)}")
