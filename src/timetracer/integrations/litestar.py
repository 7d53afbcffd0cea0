"""``auto_setup`` for Litestar apps, with Litestar's own OpenTelemetry middleware.

    from timetracer.integrations.litestar import auto_setup
    app = auto_setup(Litestar(route_handlers=[...]))

A Litestar app is fully built by the time ``auto_setup`` sees it, too late for a plugin to add
middleware; so Litestar's ``OpenTelemetryInstrumentationMiddleware`` is put around the app's
ASGI handler instead, where Litestar itself puts its ``OpenTelemetryPlugin``'s middleware. An app
that has one already (its own ``OpenTelemetryPlugin``, or one added under
``opentelemetry-instrument``) keeps it, with timetracer's hook chained after its own.
"""

from __future__ import annotations

from typing import Any, TypeVar

from timetracer.config import TraceConfig
from timetracer.integrations._setup import INTERNAL_SPANS_OFF, prepare
from timetracer.integrations.asgi_stack import chain_into_stack
from timetracer.integrations.lifespan import run_on_litestar_shutdown
from timetracer.plugins import _require

App = TypeVar("App")


def auto_setup(app: App, config: TraceConfig | None = None) -> App:
    """Record or replay ``app``'s requests as ``config`` (default: the environment) says.

    Returns ``app`` itself. With the mode ``off`` the app is left untouched. Calling it again,
    or under ``opentelemetry-instrument``, changes nothing more: each request is recorded once.
    """
    _require("litestar", "litestar")
    from litestar.plugins.opentelemetry import (
        OpenTelemetryConfig,
        OpenTelemetryInstrumentationMiddleware,
    )

    setup = prepare(config)
    if setup.server_request_hook is None:
        return app
    if setup.at_shutdown is not None:
        run_on_litestar_shutdown(app, setup.at_shutdown)
    handler = app.asgi_handler  # type: ignore[attr-defined]
    if _instrumented(app):
        chain_into_stack(handler, setup.server_request_hook)
        return app
    options: dict[str, Any] = {
        "server_request_hook_handler": setup.server_request_hook,
        "exclude_spans": INTERNAL_SPANS_OFF,
    }
    if setup.tracer_provider is not None:
        options["tracer_provider"] = setup.tracer_provider
    app.asgi_handler = OpenTelemetryInstrumentationMiddleware(  # type: ignore[attr-defined]
        handler, OpenTelemetryConfig(**options)
    )
    return app


def _instrumented(app: Any) -> bool:
    from litestar.plugins.opentelemetry import (
        OpenTelemetryInstrumentationMiddleware,
        OpenTelemetryPlugin,
    )

    if isinstance(getattr(app, "asgi_handler", None), OpenTelemetryInstrumentationMiddleware):
        return True  # wrapped by an earlier auto_setup, or by Litestar for its plugin
    try:
        app.plugins.get(OpenTelemetryPlugin)
    except KeyError:
        return False
    return True
