"""``auto_setup`` for Starlette apps.

    from timetracer.integrations.starlette import auto_setup
    app = auto_setup(Starlette(routes=...))

The contrib Starlette instrumentor adds the OpenTelemetry middleware; an app that has it already
(instrumented by you, or under ``opentelemetry-instrument``) keeps it, with timetracer's hook
chained after yours, so each request is one trace and one cassette.
"""

from __future__ import annotations

from typing import TypeVar

from timetracer.config import TraceConfig
from timetracer.integrations.contrib_app import setup_app
from timetracer.plugins import _require

App = TypeVar("App")


def auto_setup(app: App, config: TraceConfig | None = None) -> App:
    """Record or replay ``app``'s requests as ``config`` (default: the environment) says.

    Returns ``app`` itself. With the mode ``off`` the app is left untouched. Calling it again,
    or under ``opentelemetry-instrument``, changes nothing more: each request is recorded once.
    """
    _require("opentelemetry.instrumentation.starlette", "starlette")
    from opentelemetry.instrumentation.starlette import StarletteInstrumentor

    return setup_app(
        app,
        config,
        StarletteInstrumentor.instrument_app,
    )
