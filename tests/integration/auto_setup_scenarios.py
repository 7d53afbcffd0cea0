"""Scenarios for ``auto_setup``, one per process (see ``scenario_runner``).

``python -m tests.integration.auto_setup_scenarios serve '{"framework": "litestar", ...}'``
builds the shop app (``tests/apps/shop.py``), passes it through the framework's ``auto_setup``,
sends it a few requests in-process (lifespan included) and prints what happened: responses,
cassettes written, spans a user's own exporter saw, how the process's OpenTelemetry state ended.
``launched`` does the same with the app served by uvicorn under ``opentelemetry-instrument``.
"""

from __future__ import annotations

import asyncio
import importlib
import os
import sys
from pathlib import Path
from typing import Any

import httpx
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from tests.apps.shop import build_app
from tests.integration.refused import counting_listener
from tests.integration.scenario_runner import Result, main
from tests.support.asgi import running_app
from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.cassette.compression import sniff
from timetracer.config import TraceConfig

NEW_ITEM = {"sku": "new-1", "name": "New", "price": 9.5, "qty": 3}
# (method, url, JSON body): seeding, reads, a write, an excluded path, an error.
REQUESTS: list[tuple[str, str, Any]] = [
    ("POST", "/items/seed?n=5", None),
    ("GET", "/items/sku-0001", None),
    ("GET", "/items?limit=3", None),
    ("POST", "/items", NEW_ITEM),
    ("GET", "/health", None),
    ("GET", "/boom", None),
]
RECORDED_REQUESTS = 5
"""The requests above that make a cassette: ``/health`` is excluded by default."""
UNRECORDED = ("GET", "/items/sku-9999", None)

_INSTRUMENTORS = {
    "starlette": ("opentelemetry.instrumentation.starlette", "StarletteInstrumentor"),
    "fastapi": ("opentelemetry.instrumentation.fastapi", "FastAPIInstrumentor"),
}


def auto_setup_of(framework: str) -> Any:
    """The ``auto_setup`` function of ``framework``."""
    return importlib.import_module(f"timetracer.integrations.{framework}").auto_setup


def instrumented(framework: str, app: Any) -> bool:
    """Whether ``app`` has OpenTelemetry's server middleware."""
    if framework == "litestar":
        from litestar.plugins.opentelemetry import OpenTelemetryInstrumentationMiddleware

        return isinstance(app.asgi_handler, OpenTelemetryInstrumentationMiddleware)
    return bool(getattr(app, "_is_instrumented_by_opentelemetry", False))


async def send_all(app: Any, requests: list[tuple[str, str, Any]]) -> list[dict[str, Any]]:
    """Send ``requests`` through ``app`` in-process, lifespan included."""
    responses = []
    async with running_app(app) as served:
        # Error responses are answers too: /boom must come back as a 500, not an exception.
        transport = httpx.ASGITransport(app=served, raise_app_exceptions=False)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
            for method, url, body in requests:
                response = await client.request(method, url, json=body)
                responses.append(
                    {
                        "method": method,
                        "url": url,
                        "status": response.status_code,
                        "body": response.text,
                        "replay": response.headers.get("x-timetracer-replay"),
                    }
                )
    return responses


def cassettes_in(directory: Path) -> list[dict[str, Any]]:
    """What each cassette in ``directory`` holds: request, status and MongoDB commands."""
    found = []
    if not directory.is_dir():
        return found
    for path in iter_cassette_paths(directory):
        cassette = load_cassette(path)
        exchange = cassette.exchange
        found.append(
            {
                "file": path.name,
                "codec": sniff(path.read_bytes()),
                "method": exchange.method if exchange else None,
                "route": exchange.route if exchange else None,
                "path": exchange.path if exchange else None,
                "status": exchange.status if exchange else None,
                "calls": [call.command_name for call in cassette.calls],
                "replies": sum(call.reply_bson is not None for call in cassette.calls),
                "request_body": (exchange.request_body or b"").decode() if exchange else None,
            }
        )
    return sorted(found, key=lambda c: (c["path"] or "", c["method"] or ""))


def flush() -> None:
    """Write every pending cassette now."""
    force_flush = getattr(trace.get_tracer_provider(), "force_flush", None)
    if callable(force_flush):
        force_flush()


def user_provider() -> tuple[TracerProvider, InMemorySpanExporter]:
    """A provider the app configured itself before ``auto_setup``, with its own exporter."""
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "user-app"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    trace.set_tracer_provider(provider)
    return provider, memory


def span_summary(memory: InMemorySpanExporter) -> dict[str, Any]:
    """Roots, server spans and MongoDB spans the user's exporter received."""
    spans = memory.get_finished_spans()
    roots = [s for s in spans if s.parent is None]
    return {
        "spans": len(spans),
        "roots": len(roots),
        "server_roots": sum(s.kind is SpanKind.SERVER for s in roots),
        "server_spans": sum(s.kind is SpanKind.SERVER for s in spans),
        "traces": len({s.context.trace_id for s in spans}),
        "mongo": sum((s.attributes or {}).get("db.system") == "mongodb" for s in spans),
        "payload_spans": sum(
            any(k.startswith("timetracer.payload.") for k in (s.attributes or {})) for s in spans
        ),
    }


def serve(
    framework: str,
    driver: str,
    uri: str,
    db: str,
    cassette_dir: str,
    mode: str = "record",
    calls: int = 1,
    from_env: bool = False,
    with_user_provider: bool = False,
    preinstrumented: bool = False,
    options: dict[str, Any] | None = None,
) -> Result:
    """Build the shop on ``framework``, ``auto_setup`` it ``calls`` times, send REQUESTS."""
    memory = None
    if with_user_provider:
        provider, memory = user_provider()
    if preinstrumented and framework == "litestar":
        # Every Litestar app gets an OpenTelemetryPlugin without timetracer's hook, as if the
        # app listed one itself.
        from timetracer.instrumentation.litestar import LitestarInstrumentor

        LitestarInstrumentor().instrument()
    directory = Path(cassette_dir)
    requests = list(REQUESTS)
    if mode == "replay":
        requests.append(UNRECORDED)
    with counting_listener() as trap:
        # In replay the app is pointed at a listener that counts connection attempts.
        app_uri = trap.uri if mode == "replay" else uri
        app = build_app(framework, driver, app_uri, db)  # type: ignore[arg-type]
        if preinstrumented and framework != "litestar":
            # Instrumented by the app itself with plain OpenTelemetry, no timetracer hook.
            module, name = _INSTRUMENTORS[framework]
            getattr(importlib.import_module(module), name).instrument_app(app)
        auto_setup = auto_setup_of(framework)
        config = (
            None if from_env else TraceConfig(mode=mode, cassette_dir=directory, **options or {})
        )
        result_app = app
        for _ in range(calls):
            result_app = auto_setup(result_app, config)
        responses = asyncio.run(send_all(result_app, requests))
        attempts = trap.count
    # Before any flush of the scenario's own: the app's shutdown has written them already.
    written_at_shutdown = len(cassettes_in(directory))
    flush()
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor

    from timetracer.capture.instrumentor import HttpCaptureInstrumentor

    return {
        "same_app": result_app is app,
        "instrumented": instrumented(framework, app),
        "responses": responses,
        "cassettes": cassettes_in(directory),
        "written_at_shutdown": written_at_shutdown,
        "user_spans": span_summary(memory) if memory is not None else None,
        "provider_is_users": with_user_provider and trace.get_tracer_provider() is provider,
        "provider_type": type(trace.get_tracer_provider()).__name__,
        "http_capture": bool(HttpCaptureInstrumentor().is_instrumented_by_opentelemetry),
        "pymongo_instrumented": bool(PymongoInstrumentor().is_instrumented_by_opentelemetry),
        "database_connections": attempts if mode == "replay" else None,
    }


def launched(
    framework: str, driver: str, uri: str, db: str, cassette_dir: str, calls: int
) -> Result:
    """Serve ``tests.apps.auto_setup_app`` with uvicorn under ``opentelemetry-instrument``."""
    from tests.integration.launcher import launched_app

    workdir = Path(cassette_dir).parent
    env = {
        "OTEL_PYTHON_DISTRO": "timetracer",
        "OTEL_PYTHON_CONFIGURATOR": "timetracer",
        "TIMETRACER_MODE": "record",
        "TIMETRACER_DIR": cassette_dir,
        "TT_APP_FRAMEWORK": framework,
        "TT_APP_DRIVER": driver,
        "TT_APP_DB": db,
        "TT_AUTO_SETUP_CALLS": str(calls),
        "MONGODB_URI": uri,
    }
    with (
        launched_app("tests.apps.auto_setup_app:app", env, workdir) as running,
        httpx.Client(base_url=running.base_url, timeout=30) as client,
    ):
        statuses = [client.request(m, url, json=body).status_code for m, url, body in REQUESTS]
    # Stopped with SIGTERM: the distro flushed the spans before the process ended.
    return {"statuses": statuses, "cassettes": cassettes_in(Path(cassette_dir))}


if __name__ == "__main__":
    os.environ.setdefault("OTEL_SERVICE_NAME", "auto-setup-scenario")
    sys.exit(main({"serve": serve, "launched": launched}))
