"""Which recording answers a command: the scope active in the code that sent it.

Commands reach the responder over a socket, with no trace context. pymongo publishes a
``CommandStartedEvent`` in the sending thread or task just before it writes the message, and
that event's ``request_id`` is the wire message's ``requestID``. A listener on the client side
therefore notes which :class:`ReplayScope` (a request being replayed, a test, a ``with`` block)
each request id belongs to, and the responder looks it up when the message arrives.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from pymongo import monitoring

from timetracer.errors import ReplayMissError
from timetracer_replay.index import CallIndex

# Request ids noted but never looked up (moreToCome writes, closed connections) age out.
_MAX_PENDING_IDS = 65536


@dataclass
class ReplayScope:
    """The recorded calls one unit of work is answered from, and what happened to them."""

    name: str
    """The cassette (or label) the calls come from."""
    index: CallIndex
    server: dict[str, Any] | None = None
    """What the recorded server's hello said, if known."""
    misses: list[ReplayMissError] = field(default_factory=list)
    noise: list[str] = field(default_factory=list)
    answered: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)


current_scope: ContextVar[ReplayScope | None] = ContextVar("timetracer_replay_scope", default=None)


@dataclass(frozen=True)
class ClientOrigin:
    """How the app constructed a redirected client (for hybrid replay's real connection)."""

    args: tuple[Any, ...]
    kwargs: dict[str, Any]


@dataclass(frozen=True)
class Routing:
    """Where a command came from: its scope (if any) and its client's original arguments."""

    scope: ReplayScope | None
    origin: ClientOrigin | None


class ScopeRouter:
    """Notes each command's scope by wire request id; the responder takes it back."""

    def __init__(self) -> None:
        self._routes: OrderedDict[int, Routing] = OrderedDict()
        self._lock = threading.Lock()

    def note(self, request_id: int, routing: Routing) -> None:
        """Remember where ``request_id`` came from."""
        with self._lock:
            self._routes[request_id] = routing
            while len(self._routes) > _MAX_PENDING_IDS:
                self._routes.popitem(last=False)

    def take(self, request_id: int) -> Routing | None:
        """Where ``request_id`` came from, forgetting it."""
        with self._lock:
            return self._routes.pop(request_id, None)

    def listener_for(self, origin: ClientOrigin) -> ClientListener:
        """The command listener given to one redirected client."""
        return ClientListener(self, origin)


class ClientListener(monitoring.CommandListener):
    """Attached to each redirected client: tells the router who sends each request id."""

    def __init__(self, router: ScopeRouter, origin: ClientOrigin) -> None:
        self.router = router
        self.origin = origin
        self._last = Routing(None, origin)
        """The routing noted last: a request's commands share it (Routing is immutable)."""

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Note the scope active where the command is being sent."""
        scope, routing = current_scope.get(), self._last
        if routing.scope is not scope:
            routing = self._last = Routing(scope, self.origin)
        self.router.note(event.request_id, routing)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to do: the routing was taken when the message arrived."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to do: the routing was taken when the message arrived."""
