"""The benchmark scenario: one Starlette endpoint doing ``find_one``, ``insert_one`` and
``count_documents`` on AsyncMongoClient, driven in-process through ``httpx.ASGITransport``.

The client is created in the app's lifespan, as a real app would, so replay redirects it too.
"""

from __future__ import annotations

import json
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from pymongo import AsyncMongoClient, MongoClient
from starlette import applications
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from tests.support.asgi import running_app

# A small catalogue: nx-27017 answers count_documents by scanning, so the count's cost (and
# with it the database's share of every request) grows with the collection.
ITEMS = 20
CATEGORIES = 4
ROUTE = "/items/{sku}/orders"


def sku(index: int) -> str:
    """The item a request orders: the catalogue cycles, so every item is asked for."""
    return f"sku-{index % ITEMS:03d}"


def seed(uri: str, database: str) -> None:
    """Fill ``items`` with a fixed catalogue (sync client, before any instrumentation)."""
    client: MongoClient[dict[str, Any]] = MongoClient(uri)
    try:
        items = client[database].items
        items.delete_many({})
        items.insert_many(
            {
                "sku": sku(n),
                "name": f"Item {n}",
                "category": f"cat-{n % CATEGORIES}",
                "price": 5 + n % 37,
                "stock": 100 + n,
            }
            for n in range(ITEMS)
        )
    finally:
        client.close()


def build_app(uri: str, database: str) -> applications.Starlette:
    """The app, built as ``applications.Starlette`` is *now*.

    The contrib Starlette instrumentor replaces the class in ``starlette.applications``, so the
    app must be built after instrumenting and through the module, as an app imported under
    ``opentelemetry-instrument`` would be.
    """

    @asynccontextmanager
    async def lifespan(app: applications.Starlette) -> AsyncIterator[dict[str, Any]]:
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
        try:
            yield {"db": client[database]}
        finally:
            await client.close()

    async def order(request: Request) -> JSONResponse:
        db = request.state.db
        wanted = request.path_params["sku"]
        qty = int((await request.json())["qty"])
        item = await db.items.find_one({"sku": wanted}, {"_id": 0})
        if item is None:
            return JSONResponse({"error": f"no item {wanted}"}, status_code=404)
        inserted = await db.orders.insert_one(
            {"sku": wanted, "qty": qty, "total": item["price"] * qty}
        )
        same = await db.items.count_documents({"category": item["category"]})
        return JSONResponse(
            {"order_id": str(inserted.inserted_id), "item": item, "same_category": same}
        )

    return applications.Starlette(routes=[Route(ROUTE, order, methods=["POST"])], lifespan=lifespan)


@dataclass
class Timing:
    """One round of requests: per-request latencies and the wall time of the whole round."""

    latencies_ns: list[int]
    wall_ns: int


async def _send(client: httpx.AsyncClient, index: int) -> None:
    body = json.dumps({"qty": index % 5 + 1}).encode()
    response = await client.post(
        f"/items/{sku(index)}/orders", content=body, headers={"content-type": "application/json"}
    )
    if response.status_code != 200:
        raise RuntimeError(f"request {index} answered {response.status_code}: {response.text}")


async def drive(
    app: applications.Starlette,
    requests: int,
    warmup: int,
    *,
    every: int = 0,
    sample: Callable[[], Any] | None = None,
) -> tuple[Timing, list[Any]]:
    """Send ``warmup`` then ``requests`` requests, one at a time, timing each of the latter.

    With ``sample``, it is called before the first timed request and after every ``every``-th
    one (the memory benchmark reads RSS this way); the samples are returned with the timing.
    """
    samples: list[Any] = []
    async with running_app(app) as served:
        transport = httpx.ASGITransport(app=served)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as client:
            for index in range(warmup):
                await _send(client, index)
            if sample is not None:
                samples.append(sample())
            latencies: list[int] = []
            clock = time.perf_counter_ns
            began = clock()
            for index in range(warmup, warmup + requests):
                start = clock()
                await _send(client, index)
                latencies.append(clock() - start)
                if sample is not None and every and (index - warmup + 1) % every == 0:
                    samples.append(sample())
            wall = clock() - began
    return Timing(latencies, wall), samples
