"""A replay session: the responder, the client redirection and the scope router, together."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from timetracer.cassette import Cassette, load_cassette
from timetracer.errors import ReplayMissError
from timetracer_replay.answerer import Answerer
from timetracer_replay.clients import ClientRedirector
from timetracer_replay.index import CallIndex
from timetracer_replay.passthrough import LiveDatabase
from timetracer_replay.scope import ReplayScope, ScopeRouter, current_scope
from timetracer_replay.wire_server import WireServer

logger = logging.getLogger(__name__)


def scope_for(cassette: Cassette) -> ReplayScope:
    """A fresh scope answering from one cassette's calls."""
    name = str(cassette.path) if cassette.path else cassette.trace_id
    server = next((c.server for c in cassette.calls if c.server_bson is not None), None)
    return ReplayScope(name=name, index=CallIndex.of(cassette.calls, name), server=server)


def scope_for_many(cassettes: Iterable[Cassette], name: str) -> ReplayScope:
    """One scope answering from the calls of several cassettes, in their order."""
    index = CallIndex()
    server = None
    for cassette in cassettes:
        index.add(cassette.calls, str(cassette.path or cassette.trace_id))
        if server is None:
            server = next((c.server for c in cassette.calls if c.server_bson is not None), None)
    return ReplayScope(name=name, index=index, server=server)


class ReplaySession:
    """Answers every PyMongo client created while it is active from recorded cassettes.

    Starting it starts the responder on a loopback port and redirects client construction to
    it; stopping undoes both. Which recording answers a command is decided by the
    :class:`ReplayScope` active where the command was sent (see :meth:`scope`).
    """

    def __init__(self, default: ReplayScope | None = None, *, passthrough: bool = False) -> None:
        self.router = ScopeRouter()
        self._redirector = ClientRedirector(lambda: self.address, self.router.listener_for)
        self.live = LiveDatabase(self._redirector.bypassed) if passthrough else None
        self.answerer = Answerer(self.router, default, self.live.run if self.live else None)
        self.server: WireServer = WireServer(self.answerer)
        self._started = False
        self._lock = threading.Lock()

    @property
    def address(self) -> tuple[str, int]:
        """Where the responder listens."""
        return self.server.address

    def start(self) -> ReplaySession:
        """Start answering; idempotent."""
        with self._lock:
            if self._started:
                return self
            # A stopped WireServer cannot restart; every start gets a fresh one.
            self.server = WireServer(self.answerer)
            self.server.start()
            self.answerer.address = self.server.address
            self._redirector.apply()
            self._started = True
        return self

    def stop(self) -> None:
        """Stop answering and construct clients normally again; idempotent."""
        with self._lock:
            if not self._started:
                return
            self._redirector.undo()
            self.server.stop()
            if self.live is not None:
                self.live.close()
            self._started = False

    @contextmanager
    def scope(self, scope: ReplayScope) -> Iterator[ReplayScope]:
        """Answer the commands sent inside the block from ``scope``."""
        if self.answerer.server is None and scope.server is not None:
            self.answerer.server = scope.server  # hello before any command: mirror a recording
        token = current_scope.set(scope)
        try:
            yield scope
        finally:
            current_scope.reset(token)


_session: ReplaySession | None = None
_session_lock = threading.Lock()


def global_session() -> ReplaySession:
    """The process-wide session (started on first use)."""
    global _session
    with _session_lock:
        if _session is None:
            _session = ReplaySession()
        return _session.start()


def set_global_session(session: ReplaySession | None) -> ReplaySession | None:
    """Make ``session`` the process-wide one (None: start a fresh one on next use); returns
    the session it replaces.

    ``enable_pymongo`` in replay mode installs its session here, so ``replay_cassette`` blocks
    answer through the same responder its redirected clients reach; ``disable_pymongo`` puts
    the previous one back. Neither session is started or stopped by this call.
    """
    global _session
    with _session_lock:
        previous, _session = _session, session
    return previous


@contextmanager
def replay_cassette(
    cassette: Cassette | Path | str, *, session: ReplaySession | None = None, strict: bool = True
) -> Iterator[ReplayScope]:
    """Answer the MongoDB calls made inside the block from one recorded cassette.

    PyMongo clients created while a replay session is active talk to the responder; create the
    client inside the block (or after the session started). With ``strict`` the block raises
    :class:`~timetracer.errors.ReplayMissError` on exit if a call found no recording.
    """
    loaded = cassette if isinstance(cassette, Cassette) else load_cassette(cassette)
    active = session or global_session()
    with active.scope(scope_for(loaded)) as scope:
        yield scope
    if strict and scope.misses:
        raise scope.misses[0]


__all__ = [
    "ReplayMissError",
    "ReplayScope",
    "ReplaySession",
    "global_session",
    "replay_cassette",
    "set_global_session",
]
