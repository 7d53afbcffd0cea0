"""A shop's inventory on Litestar with PyMongo's AsyncMongoClient, recorded and replayed by
timetracer.

``auto_setup(app)`` is the only timetracer line; it reads ``TIMETRACER_MODE`` (unset or
``off``: the app runs as if timetracer were not installed). See README.md.

    MONGODB_URI=mongodb://localhost:27017/ TIMETRACER_MODE=record \\
        uvicorn examples.litestar_app.app:app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any

from litestar import Litestar, Request, get, patch, post
from litestar.exceptions import HTTPException, NotFoundException
from litestar.params import FromPath, JSONBody
from pymongo import ASCENDING, AsyncMongoClient
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.errors import DuplicateKeyError

from timetracer.integrations.litestar import auto_setup

DEFAULT_URI = "mongodb://localhost:27017/"
LOW_STOCK = 5


@dataclass
class Product:
    """A product as the API takes it."""

    sku: str
    name: str
    price: float
    stock: int = 0


@dataclass
class Restock:
    """How many units arrived."""

    units: int


def products(request: Request[Any, Any, Any]) -> AsyncCollection[dict[str, Any]]:
    """The ``products`` collection of the running app."""
    collection: AsyncCollection[dict[str, Any]] = request.app.state.products
    return collection


def public(product: dict[str, Any]) -> dict[str, Any]:
    """A stored product without MongoDB's ``_id``."""
    return {key: value for key, value in product.items() if key != "_id"}


@get("/products")
async def list_products(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    """Every product, by SKU."""
    return [public(p) async for p in products(request).find({}).sort("sku", ASCENDING)]


@get("/products/{sku:str}")
async def get_product(request: Request[Any, Any, Any], sku: FromPath[str]) -> dict[str, Any]:
    """One product."""
    found = await products(request).find_one({"sku": sku})
    if found is None:
        raise NotFoundException(f"no product {sku}")
    return public(found)


@post("/products")
async def add_product(request: Request[Any, Any, Any], data: JSONBody[Product]) -> dict[str, Any]:
    """A new product; its SKU must be new too."""
    document = {"sku": data.sku, "name": data.name, "price": data.price, "stock": data.stock}
    try:
        await products(request).insert_one(dict(document))
    except DuplicateKeyError:
        raise HTTPException(status_code=409, detail=f"SKU {data.sku} exists") from None
    return document


@patch("/products/{sku:str}/stock")
async def restock(
    request: Request[Any, Any, Any], sku: FromPath[str], data: JSONBody[Restock]
) -> dict[str, Any]:
    """Add ``units`` to a product's stock and return it."""
    updated = await products(request).find_one_and_update(
        {"sku": sku}, {"$inc": {"stock": data.units}}, return_document=True
    )
    if updated is None:
        raise NotFoundException(f"no product {sku}")
    return public(updated)


@get("/reports/low-stock")
async def low_stock(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """Products with fewer than LOW_STOCK units, and what restocking them would cost."""
    pipeline = [
        {"$match": {"stock": {"$lt": LOW_STOCK}}},
        {"$sort": {"sku": 1}},
        {"$project": {"_id": 0, "sku": 1, "stock": 1}},
    ]
    rows = await (await products(request).aggregate(pipeline)).to_list(None)
    return {"threshold": LOW_STOCK, "products": rows}


def mongodb(uri: str, database: str) -> Callable[[Litestar], AbstractAsyncContextManager[None]]:
    """The lifespan that opens the MongoDB client at start-up and closes it at shutdown."""

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        # Created at start-up, after auto_setup(): recorded, or pointed at the replay
        # responder, as TIMETRACER_MODE says.
        client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(uri)
        app.state.products = client[database].products
        await app.state.products.create_index([("sku", ASCENDING)], unique=True)
        yield
        await client.close()

    return lifespan


def create_app(mongodb_uri: str | None = None, database: str = "inventory") -> Litestar:
    """The inventory API."""
    uri = mongodb_uri or os.environ.get("MONGODB_URI", DEFAULT_URI)
    app = Litestar(
        route_handlers=[list_products, get_product, add_product, restock, low_stock],
        lifespan=[mongodb(uri, database)],
    )
    return auto_setup(app)


app = create_app()
