"""``auto_setup`` for Starlette apps.

    from timetracer.integrations.starlette import auto_setup
    app = auto_setup(Starlette(routes=...))
"""

from __future__ import annotations

from typing import Any, TypeVar

from timetracer.config import TraceConfig
from timetracer.integrations._setup import prepare
from timetracer.plugins import _require

App = TypeVar("App")


def auto_setup(app: App, config: TraceConfig | None = None) -> App:
    """Record or replay ``app``'s requests as ``config`` (default: the environment) says.

    Uses the contrib Starlette instrumentor; an app it already instruments (for example under
    ``opentelemetry-instrument``) is left as it is, so each request is recorded once.
    """
    _require("opentelemetry.instrumentation.starlette", "starlette")
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor

    setup = prepare(config)
    if setup.server_request_hook is None or _instrumented(app):
        return app
    StarletteInstrumentor.instrument_app(
        app,  # type: ignore[arg-type]
        server_request_hook=setup.server_request_hook,
        tracer_provider=setup.tracer_provider,
    )
    return app


def _instrumented(app: Any) -> bool:
    return bool(getattr(app, "_is_instrumented_by_opentelemetry", False))
