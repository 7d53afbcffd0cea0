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

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_unrecorded: ContextVar[bool] = ContextVar("timetracer_unrecorded_request", default=False)


def in_unrecorded_request() -> bool:
    """Whether the code running now serves a request that must not be recorded."""
    return _unrecorded.get()


@contextmanager
def unrecorded_request(unrecorded: bool = True) -> Iterator[None]:
    """Mark everything run inside the block as part of an unrecorded request (or, with
    ``unrecorded=False``, as part of a recorded one: a request can start inside a context
    inherited from an earlier request on the same connection, so every request sets its own).
    """
    token = _unrecorded.set(unrecorded)
    try:
        yield
    finally:
        _unrecorded.reset(token)
