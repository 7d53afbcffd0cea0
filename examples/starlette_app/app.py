"""A to-do list on Starlette with PyMongo's AsyncMongoClient, recorded and replayed by timetracer.

``auto_setup(app)`` is the only timetracer line; it reads ``TIMETRACER_MODE`` (unset or
``off``: the app runs as if timetracer were not installed). See README.md.

    MONGODB_URI=mongodb://localhost:27017/ TIMETRACER_MODE=record \\
        uvicorn examples.starlette_app.app:app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from timetracer.integrations.starlette import auto_setup

DEFAULT_URI = "mongodb://localhost:27017/"


def tasks(request: Request) -> AsyncCollection[dict[str, Any]]:
    """The ``tasks`` collection of the running app."""
    collection: AsyncCollection[dict[str, Any]] = request.app.state.tasks
    return collection


def public(task: dict[str, Any]) -> dict[str, Any]:
    """A stored task as the API shows it: its ObjectId as ``id``."""
    return {"id": str(task["_id"]), "title": task["title"], "done": task["done"]}


def task_id(request: Request) -> ObjectId | None:
    """The ``{task_id}`` of the URL, if it is an ObjectId."""
    try:
        return ObjectId(request.path_params["task_id"])
    except InvalidId:
        return None


def not_found() -> JSONResponse:
    return JSONResponse({"error": "no such task"}, status_code=404)


async def list_tasks(request: Request) -> JSONResponse:
    """``GET /tasks[?done=true|false]``: tasks in the order they were added."""
    query: dict[str, Any] = {}
    if "done" in request.query_params:
        query["done"] = request.query_params["done"] == "true"
    found = [public(t) async for t in tasks(request).find(query).sort("_id", ASCENDING)]
    return JSONResponse({"count": len(found), "tasks": found})


async def add_task(request: Request) -> JSONResponse:
    """``POST /tasks`` with ``{"title": ...}``."""
    body = await request.json()
    title = str(body.get("title", "")).strip()
    if not title:
        return JSONResponse({"error": "a task needs a title"}, status_code=400)
    task = {"title": title, "done": False}
    result = await tasks(request).insert_one(task)
    return JSONResponse(public({**task, "_id": result.inserted_id}), status_code=201)


async def get_task(request: Request) -> JSONResponse:
    """``GET /tasks/{task_id}``."""
    found = await tasks(request).find_one({"_id": task_id(request)})
    return JSONResponse(public(found)) if found else not_found()


async def finish_task(request: Request) -> JSONResponse:
    """``POST /tasks/{task_id}/done``."""
    result = await tasks(request).update_one({"_id": task_id(request)}, {"$set": {"done": True}})
    return await get_task(request) if result.matched_count else not_found()


async def delete_task(request: Request) -> Response:
    """``DELETE /tasks/{task_id}``."""
    result = await tasks(request).delete_one({"_id": task_id(request)})
    return Response(status_code=204) if result.deleted_count else not_found()


def create_app(mongodb_uri: str | None = None, database: str = "todo") -> Starlette:
    """The to-do API; its MongoDB client lives as long as the app runs."""
    uri = mongodb_uri or os.environ.get("MONGODB_URI", DEFAULT_URI)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        # Created at start-up, after auto_setup(): recorded, or pointed at the replay
        # responder, as TIMETRACER_MODE says.
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
        app.state.tasks = client[database].tasks
        yield
        await client.close()

    routes = [
        Route("/tasks", list_tasks, methods=["GET"]),
        Route("/tasks", add_task, methods=["POST"]),
        Route("/tasks/{task_id}", get_task, methods=["GET"]),
        Route("/tasks/{task_id}", delete_task, methods=["DELETE"]),
        Route("/tasks/{task_id}/done", finish_task, methods=["POST"]),
    ]
    return auto_setup(Starlette(routes=routes, lifespan=lifespan))


app = create_app()
