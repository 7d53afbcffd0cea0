"""``timetracer.integrations._setup`` and ``sdk_internals``: the cassette exporter is added to a
provider once per directory, whichever provider the app has. Local providers only: the global
one can be set once per process."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NoOpTracerProvider

from timetracer.config import TraceConfig
from timetracer.integrations._setup import ensure_cassette_exporter, prepare
from timetracer.integrations.sdk_internals import span_exporters
from timetracer_exporter import CassetteSpanExporter


@pytest.fixture
def provider() -> Iterator[TracerProvider]:
    provider = TracerProvider(shutdown_on_exit=False)
    yield provider
    provider.shutdown()


def cassette_exporters(provider: TracerProvider) -> list[CassetteSpanExporter]:
    return [e for e in span_exporters(provider) if isinstance(e, CassetteSpanExporter)]


def test_exporters_behind_simple_and_batch_processors_are_found(provider: TracerProvider) -> None:
    simple, batched = InMemorySpanExporter(), InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(simple))
    provider.add_span_processor(BatchSpanProcessor(batched))

    assert list(span_exporters(provider)) == [simple, batched]


def test_the_cassette_exporter_is_added_once_per_directory(
    provider: TracerProvider, tmp_path: Path
) -> None:
    config = TraceConfig(mode="record", cassette_dir=tmp_path / "a")
    ensure_cassette_exporter(provider, config)
    ensure_cassette_exporter(provider, config)

    (exporter,) = cassette_exporters(provider)
    assert exporter.cassette_dir == tmp_path / "a"


def test_another_directory_gets_its_own_exporter(provider: TracerProvider, tmp_path: Path) -> None:
    ensure_cassette_exporter(provider, TraceConfig(mode="record", cassette_dir=tmp_path / "a"))
    ensure_cassette_exporter(provider, TraceConfig(mode="record", cassette_dir=tmp_path / "b"))

    assert [e.cassette_dir for e in cassette_exporters(provider)] == [
        tmp_path / "a",
        tmp_path / "b",
    ]


def test_the_users_own_exporters_stay(provider: TracerProvider, tmp_path: Path) -> None:
    own = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(own))

    ensure_cassette_exporter(provider, TraceConfig(mode="record", cassette_dir=tmp_path))

    assert next(iter(span_exporters(provider))) is own


def test_a_provider_that_takes_no_processors_is_reported_not_broken(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        ensure_cassette_exporter(NoOpTracerProvider(), TraceConfig(cassette_dir=tmp_path))

    assert "cannot add the cassette exporter to a NoOpTracerProvider" in caplog.text


def test_off_mode_prepares_nothing() -> None:
    setup = prepare(TraceConfig(mode="off"))

    assert (setup.tracer_provider, setup.server_request_hook) == (None, None)
