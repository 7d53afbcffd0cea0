"""``TimetracerDistro``: the ``opentelemetry_distro`` entry point.

Like every well-behaved distro it only ``setdefault``s environment variables, so whatever the
user set wins. It reads ``TIMETRACER_*`` once; a bad value stops start-up with a message naming
the variable, the value and what is allowed. When instrumentors load it hands them timetracer's
hooks in record mode, and it keeps timetracer's own instrumentors out of ``off`` mode.
"""

from __future__ import annotations

import logging
import os
import sys
from typing import Any

from opentelemetry.instrumentation.distro import BaseDistro

from timetracer.config import Mode, TraceConfig, startup_config
from timetracer.errors import ConfigError, TimetracerError
from timetracer.signals import install_sigterm_flush

logger = logging.getLogger(__name__)

# Instrumentor entry points that exist only for timetracer's modes.
_CAPTURE_ENTRY_POINTS = frozenset({"timetracer_capture"})
_REPLAY_ENTRY_POINTS = frozenset({"timetracer_replay"})
_ASGI_ENTRY_POINTS = frozenset({"starlette", "fastapi", "litestar"})

_RECORD_DEFAULTS = {
    "OTEL_TRACES_EXPORTER": "timetracer",
    "OTEL_METRICS_EXPORTER": "none",
    "OTEL_LOGS_EXPORTER": "none",
    # Cassettes appear soon after a request, and a burst of requests does not overflow the
    # span queue (a dropped span would mean a cassette missing a call).
    "OTEL_BSP_SCHEDULE_DELAY": "200",
    "OTEL_BSP_MAX_QUEUE_SIZE": "16384",
}


def stop_startup(error: TimetracerError) -> None:
    """Refuse to start: print the error (bad configuration, no cassettes) and exit with status 2.

    The distro runs inside ``sitecustomize``: ``opentelemetry-instrument`` logs and swallows
    ordinary exceptions there (the app would run without recording), and a ``SystemExit``
    becomes a fatal interpreter error with a page of traceback. Nothing has started yet, so
    ending the process directly is the clean way to say no.
    """
    sys.stderr.write(f"timetracer: {error}\n")
    sys.stderr.flush()
    os._exit(2)


class TimetracerDistro(BaseDistro):  # type: ignore[misc]
    """Configures OpenTelemetry for timetracer's mode and passes capture hooks to instrumentors."""

    _config: TraceConfig | None = None
    _mongo_capture: Any = None

    @property
    def config(self) -> TraceConfig:
        """The configuration read at start-up."""
        if self._config is None:
            self._config = startup_config()
        return self._config

    def _configure(self, **kwargs: Any) -> None:
        try:
            config = startup_config()
        except ConfigError as error:
            stop_startup(error)
            return
        self._config = config
        if config.mode is Mode.RECORD:
            for name, value in _RECORD_DEFAULTS.items():
                os.environ.setdefault(name, value)
        elif config.mode is Mode.REPLAY:
            # Replay answers from cassettes; it must not write new ones or export anywhere
            # unless the user asks for it.
            os.environ.setdefault("OTEL_TRACES_EXPORTER", "none")
            os.environ.setdefault("OTEL_METRICS_EXPORTER", "none")
            os.environ.setdefault("OTEL_LOGS_EXPORTER", "none")
        if config.mode is not Mode.OFF:
            install_sigterm_flush()

    def load_instrumentor(self, entry_point: Any, **kwargs: Any) -> None:
        """Pass timetracer's hooks when recording; skip timetracer's own instrumentors when off."""
        name = entry_point.name
        config = self.config
        if name in _CAPTURE_ENTRY_POINTS and config.mode is not Mode.RECORD:
            return
        if name in _REPLAY_ENTRY_POINTS and config.mode is not Mode.REPLAY:
            return
        if config.mode is Mode.RECORD:
            kwargs.update(self._record_options(name, config))
        elif config.mode is Mode.REPLAY:
            kwargs.update(self._replay_options(name, config))
        instrumentor = entry_point.load()
        try:
            instrumentor().instrument(**kwargs)
        except TimetracerError as error:
            if name not in _REPLAY_ENTRY_POINTS:
                raise
            # Replay that cannot load its cassettes must not start: the app would reach the
            # real database instead of the recordings.
            stop_startup(error)

    def _replay_options(self, name: str, config: TraceConfig) -> dict[str, Any]:
        if name in _REPLAY_ENTRY_POINTS:
            return {"config": config}
        if name in _ASGI_ENTRY_POINTS or name == "pymongo":
            from timetracer_replay.instrumentor import mark_replayed

            hook = "request_hook" if name == "pymongo" else "server_request_hook"
            options: dict[str, Any] = {hook: mark_replayed}
            if name != "pymongo":
                options["exclude_spans"] = ["receive", "send"]
            return options
        return {}

    def _record_options(self, name: str, config: TraceConfig) -> dict[str, Any]:
        if name in _CAPTURE_ENTRY_POINTS:
            return {"config": config}
        if name in _ASGI_ENTRY_POINTS:
            from timetracer.capture.instrumentor import link_server_span

            # Internal per-message receive/send spans add cost and nothing a cassette needs.
            return {"server_request_hook": link_server_span, "exclude_spans": ["receive", "send"]}
        if name == "pymongo":
            from timetracer.capture.mongo import MongoCapture

            if self._mongo_capture is None:
                self._mongo_capture = MongoCapture(config)
                self._mongo_capture.register_server_listener()
            capture = self._mongo_capture
            return {
                "request_hook": capture.request_hook,
                "response_hook": capture.response_hook,
                "failed_hook": capture.failed_hook,
            }
        return {}
