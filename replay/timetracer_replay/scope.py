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


class ScopeRouter(monitoring.CommandListener):
    """Notes each command's scope by wire request id; the responder takes it back."""

    def __init__(self) -> None:
        self._scopes: OrderedDict[int, ReplayScope] = OrderedDict()
        self._lock = threading.Lock()

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        """Remember which scope sent this request id."""
        scope = current_scope.get()
        if scope is None:
            return
        with self._lock:
            self._scopes[event.request_id] = scope
            while len(self._scopes) > _MAX_PENDING_IDS:
                self._scopes.popitem(last=False)

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        """Nothing to do: the scope was already taken when the message arrived."""

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        """Nothing to do: the scope was already taken when the message arrived."""

    def take(self, request_id: int) -> ReplayScope | None:
        """The scope that sent ``request_id``, forgetting it."""
        with self._lock:
            return self._scopes.pop(request_id, None)
