"""The ``auto_setup`` steps shared by apps that a contrib instrumentor instruments."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from timetracer.config import TraceConfig
from timetracer.integrations._setup import prepare
from timetracer.integrations.asgi_stack import chain_when_built
from timetracer.integrations.lifespan import run_after_lifespan

App = TypeVar("App")


def setup_app(
    app: App, config: TraceConfig | None, instrument_app: Callable[..., None], **options: Any
) -> App:
    """Prepare recording or replay, then instrument ``app`` with ``instrument_app`` once.

    An app the contrib instrumentor already instruments (under ``opentelemetry-instrument``,
    or by the app itself) gets timetracer's hook chained into its middleware instead, so each
    request stays one server span and one cassette.
    """
    setup = prepare(config)
    if setup.server_request_hook is None:
        return app
    if setup.at_shutdown is not None:
        run_after_lifespan(app, setup.at_shutdown)
    if getattr(app, "_is_instrumented_by_opentelemetry", False):
        chain_when_built(app, setup.server_request_hook)
        return app
    instrument_app(
        app,
        server_request_hook=setup.server_request_hook,
        tracer_provider=setup.tracer_provider,
        **options,
    )
    return app
