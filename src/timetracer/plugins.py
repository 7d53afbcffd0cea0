"""``enable_pymongo`` / ``enable_motor`` and their ``disable_*`` mirrors.

In record mode they make every PyMongo, AsyncMongoClient and Motor command carry timetracer's
payloads (the same hooks the distro uses under ``opentelemetry-instrument``) and make sure a
tracer provider with the cassette exporter receives them; in replay mode they point every client
created afterwards at the in-process responder. The mode comes from the
:class:`~timetracer.config.TraceConfig` given, or from ``TIMETRACER_MODE``. Calling ``enable``
twice changes nothing; ``disable`` restores what was there before.

pymongo copies its listeners into a client when the client is built, so create clients after
``enable_*``: a client built before keeps talking to its real server, unrecorded.
"""

from __future__ import annotations

import importlib.util
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from timetracer.config import Mode, TraceConfig, startup_config
from timetracer.errors import MissingDependencyError

# What each MongoDB extra needs importable: the driver, and contrib's instrumentor for capture.
_PYMONGO_MODULES = ("pymongo", "opentelemetry.instrumentation.pymongo")


@dataclass(frozen=True)
class _Enabled:
    """What an ``enable_*`` call did: its mode, and how to undo it."""

    mode: Mode
    undo: Callable[[], None]


class _PymongoState:
    """What ``enable_pymongo`` did, so ``disable_pymongo`` can mirror it."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.enabled: _Enabled | None = None


_STATE = _PymongoState()


def installed(module: str) -> bool:
    """Whether ``module`` can be imported (without importing it)."""
    try:
        return importlib.util.find_spec(module) is not None
    except ModuleNotFoundError:  # a missing parent package ("opentelemetry.instrumentation")
        return False


def _require(module: str, extra: str) -> None:
    """Raise :class:`MissingDependencyError` naming ``extra`` when ``module`` is missing."""
    if not installed(module):
        raise MissingDependencyError(module, extra)


def enable_pymongo(config: TraceConfig | None = None, *, tracer_provider: Any = None) -> bool:
    """Record (or replay) MongoDB calls as ``config`` says; return whether anything changed.

    - ``record``: every command sent inside a span (a request's server span, or a root span you
      open around a script) is recorded with its reply into that trace's cassette.
      ``tracer_provider`` is where command spans go (default: the global provider; one is
      installed, with timetracer's cassette exporter, when none is configured).
    - ``replay``: clients created from now on talk to an in-process responder; commands are
      answered from the pinned cassette (``config.cassette`` / ``TIMETRACER_CASSETTE``) or
      from the ``replay_cassette()`` block they run in. Nothing changes when MongoDB is kept
      live (``TIMETRACER_LIVE=mongodb``); when server-mode replay already runs (``auto_setup``
      or the launcher in replay mode), a pinned cassette only answers the commands that no
      replayed request claims.
    - ``off``: nothing changes.

    Returns False when already enabled (``disable_pymongo`` first to switch modes).
    """
    for module in _PYMONGO_MODULES:
        _require(module, "pymongo")
    config = config or startup_config()
    with _STATE.lock:
        if _STATE.enabled is not None or config.mode is Mode.OFF:
            return False
        if config.mode is Mode.RECORD:
            undo = _start_recording(config, tracer_provider)
        else:
            undo = _start_replay(config)
        if undo is None:
            return False
        _STATE.enabled = _Enabled(config.mode, undo)
        return True


def _start_recording(config: TraceConfig, tracer_provider: Any) -> Callable[[], None] | None:
    from timetracer.capture import pymongo_contrib
    from timetracer.capture.mongo import MongoCapture
    from timetracer.integrations._setup import ensure_cassette_exporter, sdk_tracer_provider

    if pymongo_contrib.recording_through_distro():
        return None  # opentelemetry-instrument already records every command
    provider = tracer_provider if tracer_provider is not None else sdk_tracer_provider()
    ensure_cassette_exporter(provider, config)
    capture = MongoCapture(config)
    capture.register_server_listener()
    saved = pymongo_contrib.attach(capture, provider)
    if saved is None:
        return None

    def undo() -> None:
        capture.enabled = False  # its heartbeat listener stays registered: pymongo keeps it
        pymongo_contrib.detach(saved)

    return undo


def _start_replay(config: TraceConfig) -> Callable[[], None] | None:
    if "mongodb" in config.live:
        return None  # MongoDB is kept live: clients are left alone
    from timetracer.cassette import load_cassette
    from timetracer_replay.instrumentor import ReplayInstrumentor
    from timetracer_replay.session import ReplaySession, scope_for, set_global_session

    # Load before redirecting anything: a missing cassette must fail with nothing changed.
    pinned = scope_for(load_cassette(config.cassette)) if config.cassette else None
    server_mode = ReplayInstrumentor()
    if server_mode.is_instrumented_by_opentelemetry:
        # Server-mode replay (auto_setup, or the launcher) already redirects clients.
        return _pin_server_mode(server_mode.session, pinned)
    passthrough = config.replay_on_miss == "passthrough"
    session = ReplaySession(pinned, passthrough=passthrough).start()
    # replay_cassette() blocks without a session of their own answer through this one.
    previous = set_global_session(session)

    def undo() -> None:
        set_global_session(previous)
        session.stop()

    return undo


def _pin_server_mode(session: Any, pinned: Any) -> Callable[[], None] | None:
    """Let a pinned cassette answer the commands no replayed request claims, in a process where
    server-mode replay runs: a script that imports an app module calling ``auto_setup``."""
    if session is None or pinned is None or session.answerer.default is not None:
        return None
    answerer = session.answerer
    server_before = answerer.server
    answerer.default = pinned
    if answerer.server is None:
        answerer.server = pinned.server  # hello mirrors the recording, as in replay_cassette

    def undo() -> None:
        answerer.default = None
        answerer.server = server_before

    return undo


def disable_pymongo() -> bool:
    """Undo :func:`enable_pymongo`; return whether anything changed.

    Recording: the hooks pymongo's instrumentation had before are back (an app's own hooks
    included), and pymongo is uninstrumented if ``enable_pymongo`` instrumented it. Replay: the
    responder stops and clients are constructed normally again (clients built while replay was
    on keep their redirected connection: close them).
    """
    with _STATE.lock:
        enabled, _STATE.enabled = _STATE.enabled, None
    if enabled is None:
        return False
    enabled.undo()
    return True


def enable_motor(config: TraceConfig | None = None, *, tracer_provider: Any = None) -> bool:
    """:func:`enable_pymongo` for Motor apps (Motor runs PyMongo underneath, so the two share
    one state: enabling either enables both)."""
    _require("motor", "motor")
    return enable_pymongo(config, tracer_provider=tracer_provider)


def disable_motor() -> bool:
    """Undo :func:`enable_motor` (the same as :func:`disable_pymongo`)."""
    return disable_pymongo()


__all__ = ["disable_motor", "disable_pymongo", "enable_motor", "enable_pymongo"]
