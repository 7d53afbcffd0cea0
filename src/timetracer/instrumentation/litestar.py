"""``LitestarInstrumentor``: adds Litestar's own ``OpenTelemetryPlugin`` to every ``Litestar`` app.

opentelemetry-python-contrib has no Litestar instrumentor (the PyPI package with that name is
not an OpenTelemetry project and must not be installed); Litestar ships the plugin itself. This
instrumentor wraps ``Litestar.__init__`` so apps started under ``opentelemetry-instrument`` get
the plugin without code changes. An app that already lists an ``OpenTelemetryPlugin`` keeps its
own.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from opentelemetry.instrumentation.instrumentor import BaseInstrumentor
from opentelemetry.instrumentation.utils import unwrap
from wrapt import wrap_function_wrapper

_LITESTAR_REQUIREMENT = "litestar >= 2.25, < 3"


class LitestarInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Instruments every Litestar app created after :meth:`instrument` is called.

    Keyword arguments: ``tracer_provider``, ``meter_provider``, ``server_request_hook``,
    ``client_request_hook``, ``client_response_hook``, ``exclude_spans``: the same meaning as
    for the contrib Starlette and FastAPI instrumentors.
    """

    _plugin_options: dict[str, Any] | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return (_LITESTAR_REQUIREMENT,)

    def _instrument(self, **kwargs: Any) -> None:
        self._plugin_options = {
            "tracer_provider": kwargs.get("tracer_provider"),
            "meter_provider": kwargs.get("meter_provider"),
            "server_request_hook_handler": kwargs.get("server_request_hook"),
            "client_request_hook_handler": kwargs.get("client_request_hook"),
            "client_response_hook_handler": kwargs.get("client_response_hook"),
            "exclude_spans": kwargs.get("exclude_spans"),
        }
        wrap_function_wrapper("litestar.app", "Litestar.__init__", self._wrap_init)

    def _uninstrument(self, **kwargs: Any) -> None:
        from litestar.app import Litestar

        unwrap(Litestar, "__init__")
        self._plugin_options = None

    def _wrap_init(self, wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
        from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

        options = self._plugin_options
        plugins = list(kwargs.get("plugins") or ())
        if options is not None and not any(isinstance(p, OpenTelemetryPlugin) for p in plugins):
            config = OpenTelemetryConfig(**{k: v for k, v in options.items() if v is not None})
            plugins.append(OpenTelemetryPlugin(config))
            kwargs["plugins"] = plugins
        return wrapped(*args, **kwargs)
