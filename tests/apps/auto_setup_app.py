"""The shop app with ``auto_setup`` called in its own module, as a user's app does it.

uvicorn serves ``tests.apps.auto_setup_app:app``, with or without ``opentelemetry-instrument``.
The app is configured like ``tests.apps.shop:app`` (``TT_APP_FRAMEWORK``, ``TT_APP_DRIVER``,
``MONGODB_URI``, ``TT_APP_DB``); ``TT_AUTO_SETUP_CALLS`` (default 1) says how many times
``auto_setup`` is applied, and timetracer's settings come from the ``TIMETRACER_*`` variables.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

from tests.apps.shop import app_from_env


def build() -> Any:
    """The shop app, passed through its framework's ``auto_setup`` as often as configured."""
    framework = os.environ.get("TT_APP_FRAMEWORK", "starlette")
    auto_setup = importlib.import_module(f"timetracer.integrations.{framework}").auto_setup
    app = app_from_env()
    for _ in range(int(os.environ.get("TT_AUTO_SETUP_CALLS", "1"))):
        app = auto_setup(app)
    return app


app = build()
