"""``enable_pymongo`` / ``enable_motor`` and their ``disable_*`` mirrors.

In record mode they make every PyMongo, AsyncMongoClient and Motor command carry timetracer's
payloads (the same hooks the distro uses under ``opentelemetry-instrument``); in replay mode
they point every client created afterwards at the in-process responder. The mode comes from the
:class:`~timetracer.config.TraceConfig` given, or from ``TIMETRACER_MODE``. Calling ``enable``
twice changes nothing; ``disable`` restores what was there before.
"""

from __future__ import annotations

import importlib.util
import threading
from dataclasses import dataclass
from typing import Any

from timetracer.config import Mode, TraceConfig
from timetracer.errors import MissingDependencyError


@dataclass
class _Enabled:
    mode: Mode
    undo: Any


class _PymongoState:
    """What ``enable_pymongo`` did, so ``disable_pymongo`` can mirror it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.enabled: _Enabled | None = None


_STATE = _PymongoState()


def _require(module: str, extra: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise MissingDependencyError(module, extra)


def enable_pymongo(config: TraceConfig | None = None, *, tracer_provider: Any = None) -> bool:
    """Record (or replay) MongoDB calls as ``config`` says; return whether anything changed.

    ``tracer_provider`` is the provider command spans go to when recording (default: the
    global one). In replay mode create clients after this call: existing clients keep their
    connections.
    """
    _require("pymongo", "pymongo")
    config = config or TraceConfig.from_env()
    with _STATE.lock:
        if _STATE.enabled is not None or config.mode is Mode.OFF:
            return False
        if config.mode is Mode.RECORD:
            from timetracer.capture import pymongo_contrib
            from timetracer.capture.mongo import MongoCapture

            capture = MongoCapture(config)
            capture.register_server_listener()
            saved = pymongo_contrib.attach(capture, tracer_provider)
            if saved is None:
                return False  # already recording through the distro's hooks
            _STATE.enabled = _Enabled(Mode.RECORD, (capture, saved))
            return True
        if "mongodb" in config.live:
            return False
        from timetracer.cassette import load_cassette
        from timetracer_replay.instrumentor import ReplayInstrumentor
        from timetracer_replay.session import ReplaySession, scope_for

        if ReplayInstrumentor().is_instrumented_by_opentelemetry:
            return False  # server-mode replay already redirects clients
        # A pinned cassette answers every command; otherwise replay_cassette() blocks decide.
        pinned = scope_for(load_cassette(config.cassette)) if config.cassette else None
        passthrough = config.replay_on_miss == "passthrough"
        session = ReplaySession(pinned, passthrough=passthrough).start()
        _STATE.enabled = _Enabled(Mode.REPLAY, session)
        return True


def disable_pymongo() -> bool:
    """Undo :func:`enable_pymongo`; return whether anything changed."""
    with _STATE.lock:
        enabled, _STATE.enabled = _STATE.enabled, None
    if enabled is None:
        return False
    if enabled.mode is Mode.RECORD:
        from timetracer.capture import pymongo_contrib

        capture, saved = enabled.undo
        capture.enabled = False
        pymongo_contrib.detach(saved)
    else:
        enabled.undo.stop()
    return True


def enable_motor(config: TraceConfig | None = None, *, tracer_provider: Any = None) -> bool:
    """:func:`enable_pymongo` for Motor apps (Motor runs PyMongo underneath)."""
    _require("motor", "motor")
    return enable_pymongo(config, tracer_provider=tracer_provider)


def disable_motor() -> bool:
    """Undo :func:`enable_motor`."""
    return disable_pymongo()


__all__ = ["disable_motor", "disable_pymongo", "enable_motor", "enable_pymongo"]
