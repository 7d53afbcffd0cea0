"""Clients created at import, in the lifespan and per request, and an index made at start-up:
the shapes of app replay must redirect (a Starlette app on PyMongo and AsyncMongoClient)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient, MongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
AT_IMPORT: MongoClient[dict[str, Any]] = MongoClient(URI, serverSelectionTimeoutMS=5000)


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(URI, serverSelectionTimeoutMS=5000)
    await client.lifetimes.things.create_index("name")
    app.state.things = client.lifetimes.things
    yield
    await client.close()


async def seed(request: Request) -> JSONResponse:
    await request.app.state.things.delete_many({})
    await request.app.state.things.insert_many([{"name": n} for n in ("a", "b", "c")])
    return JSONResponse({"ok": True})


def from_import_client(request: Request) -> JSONResponse:
    return JSONResponse({"count": AT_IMPORT.lifetimes.things.count_documents({})})


async def from_lifespan_client(request: Request) -> JSONResponse:
    names = [t["name"] async for t in request.app.state.things.find({}).sort("name")]
    return JSONResponse({"names": names})


def from_request_client(request: Request) -> JSONResponse:
    with MongoClient(URI, serverSelectionTimeoutMS=5000) as client:
        found = client.lifetimes.things.find_one({"name": request.path_params["name"]})
    return JSONResponse({"found": found is not None})


app = Starlette(
    routes=[
        Route("/seed", seed, methods=["POST"]),
        Route("/import", from_import_client),
        Route("/lifespan", from_lifespan_client),
        Route("/request/{name}", from_request_client),
    ],
    lifespan=lifespan,
)
