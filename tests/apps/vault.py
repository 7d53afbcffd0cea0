"""An app that handles secrets every way an app can, for the redaction tests.

Secrets arrive in headers, JSON bodies, form bodies and query strings; they are stored in
MongoDB (so commands carry them), read back (so replies carry them), and sent back to the
client in JSON bodies and a ``Set-Cookie`` header. Whatever the client sends is echoed, so a
test plants its own unique secrets and then looks for them in the cassettes.

``TT_APP_DB`` names the database (default ``vault``); ``MONGODB_URI`` says where MongoDB is.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl

from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

URI = os.environ.get("MONGODB_URI", "mongodb://127.0.0.1:27017/")
DB = os.environ.get("TT_APP_DB", "vault")


@asynccontextmanager
async def lifespan(app: Starlette) -> AsyncIterator[None]:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(URI, serverSelectionTimeoutMS=5000)
    app.state.accounts = client[DB].accounts
    yield
    await client.close()


def _public(document: dict[str, Any] | None) -> dict[str, Any]:
    # The whole stored document goes back to the client, secrets included: the worst case.
    return {key: value for key, value in (document or {}).items() if key != "_id"}


async def create_account(request: Request) -> JSONResponse:
    """Store every string field of the JSON body, read it back, echo it with a session cookie."""
    body = await request.json()
    stored = {key: value for key, value in body.items() if not isinstance(value, int)}
    accounts = request.app.state.accounts
    await accounts.insert_one(stored)
    found = await accounts.find_one({"user": body["user"]})
    # Numbers are echoed, not stored: see docs/security.md on integers in MongoDB documents.
    numbers = {key: value for key, value in body.items() if isinstance(value, int)}
    response = JSONResponse({"account": _public(found), "numbers": numbers}, status_code=201)
    response.set_cookie("session", body["session_token"])
    return response


async def login(request: Request) -> JSONResponse:
    """A form login: the stored account (secrets and all) comes back from MongoDB."""
    # Parsed by hand: Starlette's form parser needs python-multipart, which is not installed.
    form = dict(parse_qsl((await request.body()).decode()))
    found = await request.app.state.accounts.find_one({"user": form["username"]})
    return JSONResponse({"account": _public(found), "form": form})


async def search(request: Request) -> JSONResponse:
    """Secrets in the query string; the matching accounts and the parameters are echoed."""
    params = dict(request.query_params)
    cursor = request.app.state.accounts.find({"user": params.get("user", "")})
    found = [_public(document) async for document in cursor]
    return JSONResponse({"found": found, "params": params})


app = Starlette(
    routes=[
        Route("/accounts", create_account, methods=["POST"]),
        Route("/login", login, methods=["POST"]),
        Route("/search", search, methods=["GET"]),
    ],
    lifespan=lifespan,
)
