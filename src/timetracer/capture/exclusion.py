"""Requests that are passed through unrecorded, and how their MongoDB calls learn it.

The HTTP recorder decides per request (``TIMETRACER_EXCLUDE_PATHS``), but MongoDB commands are
captured by another hook, the pymongo instrumentor's, which knows nothing about the request.
A context variable carries the decision: set around the app's call, it is seen by every command
the request runs, in its own task, in tasks it starts and in worker threads (Starlette's
threadpool and Motor's executor copy the context, as they must for the span parent too).
Leaving the payloads off is enough to keep the request out of the cassettes: the exporter
writes only traces that carry payloads.
"""

from __future__ import annotations

from contextvars import ContextVar, Token

_unrecorded: ContextVar[bool] = ContextVar("timetracer_unrecorded_request", default=False)


def in_unrecorded_request() -> bool:
    """Whether the code running now serves a request that must not be recorded."""
    return _unrecorded.get()


# Lower case: it was, and reads as, a function (``with unrecorded_request():``).
class unrecorded_request:
    """Mark everything run inside the block as part of an unrecorded request (or, with
    ``unrecorded=False``, as part of a recorded one: a request can start inside a context
    inherited from an earlier request on the same connection, so every request sets its own).

    A class rather than a generator-based context manager: it runs for every request.
    """

    __slots__ = ("_token", "_unrecorded")

    def __init__(self, unrecorded: bool = True) -> None:
        self._unrecorded = unrecorded
        self._token: Token[bool] | None = None

    def __enter__(self) -> None:
        self._token = _unrecorded.set(self._unrecorded)

    def __exit__(self, *exc_info: object) -> None:
        if self._token is not None:
            _unrecorded.reset(self._token)
            self._token = None
