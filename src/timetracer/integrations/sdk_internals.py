"""What the OpenTelemetry SDK (1.45) keeps private but ``auto_setup`` must know.

An app may already have a TracerProvider with timetracer's exporter — configured by
``opentelemetry-instrument`` or by an earlier ``auto_setup`` — and adding a second one would
write every cassette twice. The SDK has no public way to list a provider's processors, so this
one module reads the private attributes, defensively.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def span_exporters(provider: Any) -> Iterator[Any]:
    """The span exporters behind a provider's simple and batch span processors."""
    multi = getattr(provider, "_active_span_processor", None)
    for processor in getattr(multi, "_span_processors", ()):
        exporter = getattr(processor, "span_exporter", None)
        if exporter is None:
            exporter = getattr(getattr(processor, "_batch_processor", None), "_exporter", None)
        if exporter is not None:
            yield exporter
