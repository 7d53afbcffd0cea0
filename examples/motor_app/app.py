"""An event log on FastAPI, the same code on Motor or on PyMongo's AsyncMongoClient, recorded and
replayed by timetracer.

Motor is deprecated in favour of ``AsyncMongoClient``; this app runs on either
(``MONGODB_DRIVER=motor`` or ``async``, default ``async``) so a migration can be checked against
the same cassettes. ``auto_setup(app)`` is the only timetracer line; it reads
``TIMETRACER_MODE`` (unset or ``off``: the app runs as if timetracer were not installed).
``prune.py`` is a script on the same database, recorded with ``enable_motor``. See README.md.

    MONGODB_URI=mongodb://localhost:27017/ MONGODB_DRIVER=motor TIMETRACER_MODE=record \\
        uvicorn examples.motor_app.app:app
"""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timezone
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel
from pymongo import DESCENDING

from examples.motor_app.store import Driver, close, connect
from timetracer.integrations.fastapi import auto_setup

DEFAULT_URI = "mongodb://localhost:27017/"
PAGE = 50


class Event(BaseModel):
    """An event as the API takes it."""

    kind: str
    message: str


def public(event: dict[str, Any]) -> dict[str, Any]:
    """A stored event as the API shows it."""
    return {
        "kind": event["kind"],
        "message": event["message"],
        "at": event["at"].isoformat(),
    }


def create_app(
    mongodb_uri: str | None = None, database: str = "events", driver: Driver | None = None
) -> FastAPI:
    """The event log API on ``driver`` (default: ``MONGODB_DRIVER``, else ``async``)."""
    uri = mongodb_uri or os.environ.get("MONGODB_URI", DEFAULT_URI)
    chosen: Driver = driver or os.environ.get("MONGODB_DRIVER", "async")  # type: ignore[assignment]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Created at start-up, after auto_setup(): recorded, or pointed at the replay
        # responder, as TIMETRACER_MODE says (Motor builds a PyMongo client underneath).
        client = connect(chosen, uri)
        app.state.events = client[database].events
        yield
        await close(client)

    app = FastAPI(title="Event log", lifespan=lifespan)

    @app.post("/events", status_code=201)
    async def log_event(request: Request, event: Event) -> dict[str, Any]:
        document = {**event.model_dump(), "at": datetime.now(timezone.utc)}
        await request.app.state.events.insert_one(document)
        return public(document)

    @app.get("/events")
    async def recent(request: Request, kind: str | None = None) -> dict[str, Any]:
        query = {"kind": kind} if kind else {}
        cursor = request.app.state.events.find(query).sort("at", DESCENDING).limit(PAGE)
        found = [public(e) for e in await cursor.to_list(None)]
        return {"count": len(found), "events": found}

    @app.get("/events/kinds")
    async def kinds(request: Request) -> dict[str, int]:
        pipeline = [{"$group": {"_id": "$kind", "n": {"$sum": 1}}}, {"$sort": {"_id": 1}}]
        cursor = request.app.state.events.aggregate(pipeline)
        if inspect.isawaitable(cursor):  # AsyncMongoClient's aggregate() is a coroutine
            cursor = await cursor
        return {row["_id"]: row["n"] for row in await cursor.to_list(None)}

    @app.delete("/events")
    async def clear(request: Request) -> dict[str, int]:
        if request.query_params.get("confirm") != "yes":
            raise HTTPException(400, "add ?confirm=yes to delete every event")
        result = await request.app.state.events.delete_many({})
        return {"deleted": result.deleted_count}

    return auto_setup(app)


app = create_app()
