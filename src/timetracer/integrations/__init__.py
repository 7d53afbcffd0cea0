"""``auto_setup`` for apps not started under ``opentelemetry-instrument``.

``from timetracer.integrations.starlette import auto_setup`` (likewise ``fastapi`` and
``litestar``): each takes the app and an optional :class:`~timetracer.config.TraceConfig`
(default: from the environment) and returns the app, recording or replaying as configured.
"""
