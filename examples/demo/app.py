"""A tiny notes API on Starlette and PyMongo's AsyncMongoClient: the app the demo records.

Nothing in it knows about timetracer; the demo starts it under `timetracer run`.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bson import ObjectId
from bson.errors import InvalidId
from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    client: AsyncMongoClient = AsyncMongoClient(os.environ["MONGODB_URI"])
    app.state.notes = client.demo.notes
    yield
    await client.close()


def _public(note: dict) -> dict:
    return {"id": str(note["_id"]), "title": note["title"], "tags": note.get("tags", [])}


async def list_notes(request: Request) -> JSONResponse:
    tag = request.query_params.get("tag")
    query = {"tags": tag} if tag else {}
    notes = [_public(n) async for n in request.app.state.notes.find(query).sort("title")]
    return JSONResponse({"count": len(notes), "notes": notes})


async def create_note(request: Request) -> JSONResponse:
    body = await request.json()
    note = {"title": str(body["title"]), "tags": list(body.get("tags", []))}
    result = await request.app.state.notes.insert_one(note)
    return JSONResponse({"id": str(result.inserted_id)}, status_code=201)


async def get_note(request: Request) -> JSONResponse:
    try:
        note_id = ObjectId(request.path_params["note_id"])
    except InvalidId:
        return JSONResponse({"error": "bad id"}, status_code=400)
    note = await request.app.state.notes.find_one({"_id": note_id})
    if note is None:
        return JSONResponse({"error": "not found"}, status_code=404)
    return JSONResponse(_public(note))


app = Starlette(
    routes=[
        Route("/notes", list_notes, methods=["GET"]),
        Route("/notes", create_note, methods=["POST"]),
        Route("/notes/{note_id}", get_note, methods=["GET"]),
    ],
    lifespan=lifespan,
)
