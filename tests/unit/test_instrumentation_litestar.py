"""``timetracer.instrumentation.litestar``: Litestar's own OpenTelemetry plugin, added for you."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from litestar import Litestar
from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

from tests.unit.spans import local_provider
from timetracer.capture.instrumentor import link_server_span
from timetracer.instrumentation.litestar import LitestarInstrumentor


def otel_plugins(app: Litestar) -> list[OpenTelemetryPlugin]:
    return [plugin for plugin in app.plugins if isinstance(plugin, OpenTelemetryPlugin)]


@pytest.fixture
def instrumented() -> Iterator[LitestarInstrumentor]:
    instrumentor = LitestarInstrumentor()
    instrumentor.instrument(
        tracer_provider=local_provider(),
        server_request_hook=link_server_span,
        exclude_spans=["receive", "send"],
    )
    yield instrumentor
    instrumentor.uninstrument()


def test_a_new_app_gets_the_plugin_with_the_instrument_options(
    instrumented: LitestarInstrumentor,
) -> None:
    (plugin,) = otel_plugins(Litestar(route_handlers=[]))

    assert plugin.config.server_request_hook_handler is link_server_span
    assert plugin.config.exclude_spans == ["receive", "send"]


def test_an_app_with_its_own_plugin_keeps_only_that_one(
    instrumented: LitestarInstrumentor,
) -> None:
    own = OpenTelemetryPlugin(OpenTelemetryConfig())

    assert otel_plugins(Litestar(route_handlers=[], plugins=[own])) == [own]


def test_after_uninstrument_new_apps_get_no_plugin() -> None:
    instrumentor = LitestarInstrumentor()
    instrumentor.instrument()
    instrumentor.uninstrument()

    assert otel_plugins(Litestar(route_handlers=[])) == []
