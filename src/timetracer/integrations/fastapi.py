"""``auto_setup`` for FastAPI apps: one trace per request, never two.

    from timetracer.integrations.fastapi import auto_setup
    app = auto_setup(FastAPI())

The contrib FastAPI instrumentor is used; FastAPI's own native tracing sees its middleware and
stands aside, so each request is one trace and one cassette. An app that has the middleware
already (instrumented by you, or under ``opentelemetry-instrument``) keeps it, with timetracer's
hook chained after yours.
"""

from __future__ import annotations

from typing import TypeVar

from timetracer.config import TraceConfig
from timetracer.integrations._setup import INTERNAL_SPANS_OFF
from timetracer.integrations.contrib_app import setup_app
from timetracer.plugins import _require

App = TypeVar("App")


def auto_setup(app: App, config: TraceConfig | None = None) -> App:
    """Record or replay ``app``'s requests as ``config`` (default: the environment) says.

    Returns ``app`` itself. With the mode ``off`` the app is left untouched. Calling it again,
    or under ``opentelemetry-instrument``, changes nothing more: each request is recorded once.
    """
    _require("opentelemetry.instrumentation.fastapi", "fastapi")
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    return setup_app(
        app,
        config,
        FastAPIInstrumentor.instrument_app,
        exclude_spans=INTERNAL_SPANS_OFF,
    )
