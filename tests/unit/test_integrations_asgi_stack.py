"""``timetracer.integrations.asgi_stack``: chaining timetracer's hook into an app's own
OpenTelemetry middleware instead of adding a second one."""

from __future__ import annotations

from typing import Any

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.applications import Starlette

from tests.unit.spans import local_provider
from timetracer.integrations.asgi_stack import (
    chain_hook,
    chain_into_stack,
    chain_when_built,
    server_middlewares,
)


async def endpoint(scope: Any, receive: Any, send: Any) -> None:
    """An ASGI app that is never called here."""


class Layer:
    """A middleware layer that keeps the next one in ``.app``, as Starlette's do."""

    def __init__(self, app: Any) -> None:
        self.app = app


class LitestarStyle(Layer):
    """Litestar's OpenTelemetryInstrumentationMiddleware keeps the contrib one aside."""

    def __init__(self, app: Any, inner: OpenTelemetryMiddleware) -> None:
        super().__init__(app)
        self.open_telemetry_middleware = inner


def middleware(hook: Any = None) -> OpenTelemetryMiddleware:
    return OpenTelemetryMiddleware(
        endpoint, server_request_hook=hook, tracer_provider=local_provider()
    )


def test_middlewares_are_found_under_every_layer() -> None:
    inner = middleware()
    beside = middleware()
    stack = Layer(LitestarStyle(Layer(inner), beside))

    assert list(server_middlewares(stack)) == [beside, inner]


def test_a_stack_without_opentelemetry_has_no_middleware() -> None:
    assert list(server_middlewares(Layer(Layer(endpoint)))) == []


def test_the_chained_hook_runs_before_the_apps_own() -> None:
    calls: list[str] = []
    found = middleware(lambda span, scope: calls.append("app"))

    assert chain_hook(found, lambda span, scope: calls.append("timetracer")) is True
    found.server_request_hook(object(), {})

    assert calls == ["timetracer", "app"]


def test_a_middleware_without_a_hook_gets_the_chained_one() -> None:
    seen: list[dict[str, Any]] = []
    found = middleware()
    chain_hook(found, lambda span, scope: seen.append(scope))

    found.server_request_hook(object(), {"path": "/x"})

    assert seen == [{"path": "/x"}]


def test_chaining_the_same_hook_twice_changes_nothing() -> None:
    def hook(span: Any, scope: Any) -> None:
        """timetracer's hook."""

    found = middleware()
    chain_hook(found, hook)
    chained = found.server_request_hook

    assert chain_hook(found, hook) is False
    assert found.server_request_hook is chained


def test_a_middleware_built_with_the_hook_is_left_alone() -> None:
    def hook(span: Any, scope: Any) -> None:
        """timetracer's hook, given to the middleware when it was built."""

    assert chain_into_stack(Layer(middleware(hook)), hook) == 0


def test_a_starlette_app_is_chained_when_its_stack_is_built() -> None:
    def hook(span: Any, scope: Any) -> None:
        """timetracer's hook."""

    app = Starlette()
    app.add_middleware(OpenTelemetryMiddleware, tracer_provider=local_provider())
    chain_when_built(app, hook)
    chain_when_built(app, hook)  # a second auto_setup: still one chain

    stack = app.build_middleware_stack()
    (found,) = server_middlewares(stack)
    assert getattr(found.server_request_hook, "_timetracer_links", None) is hook


def test_a_started_starlette_app_is_chained_at_once() -> None:
    def hook(span: Any, scope: Any) -> None:
        """timetracer's hook."""

    app = Starlette()
    app.add_middleware(OpenTelemetryMiddleware, tracer_provider=local_provider())
    app.middleware_stack = app.build_middleware_stack()

    chain_when_built(app, hook)

    (found,) = server_middlewares(app.middleware_stack)
    assert getattr(found.server_request_hook, "_timetracer_links", None) is hook
