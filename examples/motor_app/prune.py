"""A maintenance script on the event log: delete events older than a cut-off, on Motor or
AsyncMongoClient. Recorded and replayed with ``enable_motor``.

A script has no request around its MongoDB calls, so it opens a root span itself; everything
inside becomes one cassette, which the same script then replays::

    MONGODB_URI=mongodb://localhost:27017/ TIMETRACER_MODE=record \\
        python -m examples.motor_app.prune 30
    TIMETRACER_MODE=replay TIMETRACER_CASSETTE=cassettes/<the SPAN_prune-events cassette> \\
        python -m examples.motor_app.prune 30
"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import datetime, timedelta, timezone
from typing import Any

from opentelemetry import trace

from examples.motor_app.store import Driver, close, connect
from timetracer.plugins import disable_motor, enable_motor


async def prune(events: Any, before: datetime) -> int:
    """Delete the events logged before ``before``; return how many went."""
    result = await events.delete_many({"at": {"$lt": before}})
    return int(result.deleted_count)


async def main(days: int, driver: Driver, database: str = "events") -> int:
    """Prune events older than ``days``; record or replay as ``TIMETRACER_MODE`` says."""
    enable_motor()  # before the client exists: pymongo copies its listeners at construction
    client = connect(driver, os.environ.get("MONGODB_URI", "mongodb://localhost:27017/"))
    try:
        with trace.get_tracer("events.prune").start_as_current_span("prune-events"):
            cut_off = datetime.now(timezone.utc) - timedelta(days=days)
            return await prune(client[database].events, cut_off)
    finally:
        await close(client)
        disable_motor()


if __name__ == "__main__":
    chosen: Driver = os.environ.get("MONGODB_DRIVER", "async")  # type: ignore[assignment]
    deleted = asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 30, chosen))
    print(f"deleted {deleted} event(s)")
