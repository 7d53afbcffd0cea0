"""``auto_setup`` for Starlette apps.

    from timetracer.integrations.starlette import auto_setup
    app = auto_setup(Starlette(routes=...))

The contrib Starlette instrumentor adds the OpenTelemetry middleware; an app that has it already
(instrumented by you, or under ``opentelemetry-instrument``) keeps it, with timetracer's hook
chained after yours, so each request is one trace and one cassette.
"""

from __future__ import annotations

from typing import Any, TypeVar

from timetracer.config import TraceConfig
from timetracer.integrations._setup import prepare
from timetracer.integrations.asgi_stack import chain_when_built
from timetracer.integrations.lifespan import run_after_lifespan
from timetracer.plugins import _require

App = TypeVar("App")


def auto_setup(app: App, config: TraceConfig | None = None) -> App:
    """Record or replay ``app``'s requests as ``config`` (default: the environment) says.

    Returns ``app`` itself. With the mode ``off`` the app is left untouched. Calling it again,
    or under ``opentelemetry-instrument``, changes nothing more: each request is recorded once.
    """
    _require("opentelemetry.instrumentation.starlette", "starlette")
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor

    setup = prepare(config)
    if setup.server_request_hook is None:
        return app
    if setup.at_shutdown is not None:
        run_after_lifespan(app, setup.at_shutdown)
    if _instrumented(app):
        chain_when_built(app, setup.server_request_hook)
        return app
    StarletteInstrumentor.instrument_app(
        app,  # type: ignore[arg-type]
        server_request_hook=setup.server_request_hook,
        tracer_provider=setup.tracer_provider,
    )
    return app


def _instrumented(app: Any) -> bool:
    return bool(getattr(app, "_is_instrumented_by_opentelemetry", False))
