"""Every ``auto_setup`` before it changes anything: missing extras, and mode ``off``.

Recording and replay change process-wide state (the global tracer provider, instrumentors) and
are tested one process per scenario in ``tests/integration/test_integrations_*.py``.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from litestar import Litestar
from opentelemetry import trace
from starlette.applications import Starlette

from timetracer.config import TraceConfig
from timetracer.errors import ConfigError, MissingDependencyError

# (integration module, module it needs, extra that installs it)
REQUIREMENTS = [
    ("starlette", "opentelemetry.instrumentation.starlette", "starlette"),
    ("fastapi", "opentelemetry.instrumentation.fastapi", "fastapi"),
    ("litestar", "litestar", "litestar"),
]


# What instrumenting would change: Litestar's handler, Starlette's and FastAPI's middleware.
WATCHED = (
    "asgi_handler",
    "user_middleware",
    "build_middleware_stack",
    "middleware_stack",
    "_is_instrumented_by_opentelemetry",
)


def snapshot(app: Any) -> dict[str, Any]:
    return {name: getattr(app, name, None) for name in WATCHED}


def auto_setup_of(framework: str) -> Callable[..., Any]:
    return importlib.import_module(f"timetracer.integrations.{framework}").auto_setup  # type: ignore[no-any-return]


@pytest.mark.parametrize(("framework", "module", "extra"), REQUIREMENTS)
def test_auto_setup_without_its_framework_extra_names_it(
    monkeypatch: pytest.MonkeyPatch, framework: str, module: str, extra: str
) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a, **k: None if name == module else real(name)
    )

    with pytest.raises(MissingDependencyError, match=rf"timetracer\[{extra}\]"):
        auto_setup_of(framework)(object(), TraceConfig(mode="record"))


@pytest.mark.parametrize(
    ("framework", "build"),
    [
        ("starlette", lambda: Starlette()),
        ("fastapi", lambda: FastAPI()),
        ("litestar", lambda: Litestar(route_handlers=[])),
    ],
)
def test_mode_off_returns_the_app_untouched(framework: str, build: Callable[[], Any]) -> None:
    app = build()
    before = snapshot(app)
    provider = trace.get_tracer_provider()

    assert auto_setup_of(framework)(app, TraceConfig(mode="off")) is app

    assert snapshot(app) == before
    assert trace.get_tracer_provider() is provider


def test_a_bad_variable_is_ignored_while_the_mode_is_off(monkeypatch: pytest.MonkeyPatch) -> None:
    # Off means off: a typo must never stop an app that records nothing.
    monkeypatch.delenv("TIMETRACER_MODE", raising=False)
    monkeypatch.setenv("TIMETRACER_SAMPLE_RATE", "often")
    app = Starlette()

    assert auto_setup_of("starlette")(app) is app
    assert snapshot(app)["_is_instrumented_by_opentelemetry"] is None


def test_a_bad_variable_stops_recording_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIMETRACER_MODE", "record")
    monkeypatch.setenv("TIMETRACER_SAMPLE_RATE", "often")

    with pytest.raises(ConfigError, match="TIMETRACER_SAMPLE_RATE='often'"):
        auto_setup_of("litestar")(Litestar(route_handlers=[]))
