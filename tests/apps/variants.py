"""An app whose behaviour a test can change after recording, to prove replay notices.

``TT_VARIANT`` (or ``build_app(variant)``) picks the behaviour of ``GET /orders/{customer}``:
- ``base``: finds the customer's orders and returns them;
- ``filter``: adds a filter on status (a different query);
- ``extra``: also counts all orders (an extra query);
- ``body``: returns an extra field (a different response body);
- ``fewer``: answers without querying at all (a recorded call is no longer made).
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from pymongo import AsyncMongoClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

VARIANTS = ("base", "filter", "extra", "body", "fewer")


def build_app(variant: str, mongo_uri: str) -> Starlette:
    """The orders app with one behaviour variant."""
    if variant not in VARIANTS:
        raise ValueError(f"variant {variant!r}: expected one of {', '.join(VARIANTS)}")

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(mongo_uri)
        app.state.orders = client.variants.orders
        yield
        await client.close()

    async def seed(request: Request) -> JSONResponse:
        orders = request.app.state.orders
        await orders.delete_many({})
        await orders.insert_many(
            [{"customer": c, "n": i, "status": "open"} for c in ("ann", "bob") for i in range(3)]
        )
        return JSONResponse({"ok": True})

    async def orders_of(request: Request) -> JSONResponse:
        customer = request.path_params["customer"]
        if variant == "fewer":
            return JSONResponse({"customer": customer, "orders": []})
        query: dict[str, Any] = {"customer": customer}
        if variant == "filter":
            query["status"] = "open"
        found = [o["n"] async for o in request.app.state.orders.find(query).sort("n")]
        payload: dict[str, Any] = {"customer": customer, "orders": found}
        if variant == "extra":
            payload["total"] = await request.app.state.orders.count_documents({})
        if variant == "body":
            payload["vip"] = False
        return JSONResponse(payload)

    return Starlette(
        routes=[
            Route("/seed", seed, methods=["POST"]),
            Route("/orders/{customer}", orders_of, methods=["GET"]),
        ],
        lifespan=lifespan,
    )


def __getattr__(name: str) -> Any:
    if name == "app":
        return build_app(os.environ.get("TT_VARIANT", "base"), os.environ["MONGODB_URI"])
    raise AttributeError(name)
