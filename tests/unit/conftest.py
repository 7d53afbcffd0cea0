"""Fixtures shared by the unit tests: a clean environment and a local tracer."""

from __future__ import annotations

import os
from collections.abc import Iterator
from unittest import mock

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import local_provider
from timetracer import envvars


@pytest.fixture(autouse=True)
def clean_environment() -> Iterator[None]:
    """No test sees the developer's TIMETRACER_* variables, and none leaks its own."""
    with mock.patch.dict(os.environ):
        for name in envvars.ALL:
            os.environ.pop(name, None)
        yield


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def memory() -> InMemorySpanExporter:
    """Where the ``tracer`` fixture's spans end up."""
    return InMemorySpanExporter()


@pytest.fixture
def tracer(memory: InMemorySpanExporter) -> Iterator[Tracer]:
    """A tracer of a local provider (never the global one) exporting into ``memory``."""
    provider = local_provider(memory)
    yield provider.get_tracer("tests.unit")
    provider.shutdown()
