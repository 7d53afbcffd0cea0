"""A small "shop" ASGI app backed by MongoDB, for timetracer's record and replay tests.

``build_app(framework, driver, mongo_uri)`` builds the same JSON API on Starlette, FastAPI or
Litestar, talking to MongoDB through PyMongo (sync handlers in worker threads), PyMongo's
async API or Motor. uvicorn can serve ``tests.apps.shop:app``, which is built on first access
from ``TT_APP_FRAMEWORK``, ``TT_APP_DRIVER``, ``MONGODB_URI`` and ``TT_APP_DB``.

Layout: a data-access layer (``ShopStore`` / ``AsyncShopStore``) holds every MongoDB call;
one table of ``Endpoint`` rows says how each route maps a request onto a store method and the
result onto JSON; the per-framework glue at the bottom only adapts requests and responses.
"""

from __future__ import annotations

import base64
import datetime as dt
import inspect
import json
import os
import re
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from typing import Any, Literal, TypeVar, get_args

import anyio.from_thread
import anyio.to_thread
from bson import Binary, Int64, ObjectId
from fastapi import FastAPI
from litestar import Litestar, Router
from litestar import Request as LitestarRequest
from litestar import Response as LitestarResponse
from litestar import route as litestar_route
from litestar.handlers import HTTPRouteHandler
from litestar.params import JSONBody
from pymongo import AsyncMongoClient, DeleteOne, InsertOne, MongoClient, UpdateOne
from pymongo.errors import DuplicateKeyError
from pymongo.results import BulkWriteResult, DeleteResult, InsertOneResult, UpdateResult
from starlette.applications import Starlette
from starlette.requests import Request as StarletteRequest
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "DRIVERS",
    "DUPLICATE_ID",
    "ENDPOINTS",
    "FRAMEWORKS",
    "AsyncShopStore",
    "Call",
    "Driver",
    "Endpoint",
    "Framework",
    "HttpError",
    "ShopStore",
    "app_from_env",
    "build_app",
    "handle_async",
    "handle_sync",
    "open_store",
    "seed_documents",
    "to_json",
]

Framework = Literal["starlette", "fastapi", "litestar"]
Driver = Literal["pymongo", "async", "motor"]
FRAMEWORKS: tuple[Framework, ...] = get_args(Framework)
DRIVERS: tuple[Driver, ...] = get_args(Driver)

COLLECTION = "items"
DUPLICATE_ID = "dup-0001"
SEED_EPOCH = dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc)
MAX_SEED = 10_000
STATS_PIPELINE: list[dict[str, Any]] = [
    {"$group": {"_id": None, "total_qty": {"$sum": "$qty"}, "avg_price": {"$avg": "$price"}}}
]
STATS_FILTER: dict[str, Any] = {"qty": {"$gt": 5}}
_T = TypeVar("_T")


# --- documents -------------------------------------------------------------------------------


def seed_documents(n: int) -> list[dict[str, Any]]:
    """Return ``n`` deterministic item documents covering the common BSON types."""
    return [
        {
            "sku": f"sku-{i:04d}",
            "name": f"Item {i}",
            "price": round(1.25 + 0.5 * i, 2),
            "qty": i % 12,
            # Beyond 32 bits, so it is a genuine int64 on the wire.
            "big": Int64(2**40 + i),
            "blob": Binary(i.to_bytes(2, "big") * 3),
            "tags": [f"tag-{i % 3}", "even" if i % 2 == 0 else "odd"],
            "dims": {"w": i % 7 + 1, "h": i % 5 + 1, "grid": [[i, i + 1], [i + 2, i + 3]]},
            # BSON dates hold milliseconds; the odd millisecond offset makes them visible.
            "created": SEED_EPOCH + dt.timedelta(minutes=i, milliseconds=(7 * i) % 1000),
        }
        for i in range(n)
    ]


def to_json(value: Any) -> Any:
    """Convert a BSON-decoded value into JSON-ready data (ids as strings, ISO datetimes)."""
    if isinstance(value, Mapping):
        return {str(key): to_json(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_json(item) for item in value]
    if isinstance(value, ObjectId):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.isoformat()
    if isinstance(value, bytes):  # also bson.Binary, a bytes subclass
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, Int64):
        # Some JSON encoders (msgspec in Litestar) reject int subclasses.
        return int(value)
    return value


def _bulk_requests() -> list[InsertOne[Any] | UpdateOne | DeleteOne]:
    return [
        InsertOne({"sku": "bulk-0001", "name": "Bulk item", "price": 9.5, "qty": 3}),
        UpdateOne({"sku": "sku-0001"}, {"$inc": {"qty": 10}}),
        DeleteOne({"sku": "sku-0002"}),
    ]


def _duplicate_document() -> dict[str, Any]:
    return {"_id": DUPLICATE_ID, "sku": "dup", "name": "Duplicate", "price": 1.0, "qty": 1}


# --- data access -----------------------------------------------------------------------------


class ShopStore:
    """Every MongoDB call of the shop, through a synchronous PyMongo collection."""

    def __init__(self, collection: Any) -> None:
        """Wrap the ``items`` collection of a ``pymongo.MongoClient`` database."""
        self.items = collection

    def seed(self, n: int) -> int:
        """Replace the collection with ``seed_documents(n)``; return how many were inserted."""
        self.items.drop()
        return len(self.items.insert_many(seed_documents(n)).inserted_ids)

    def list_items(self, limit: int) -> list[dict[str, Any]]:
        """All items sorted by sku (``limit`` 0 means no limit)."""
        return list(self.items.find({}).sort("sku", 1).limit(limit))

    def get_item(self, sku: str) -> dict[str, Any] | None:
        """The item with this sku, or None."""
        return self.items.find_one({"sku": sku})

    def create_item(self, doc: dict[str, Any]) -> InsertOneResult:
        """Insert one item."""
        return self.items.insert_one(doc)

    def update_item(self, sku: str, fields: dict[str, Any]) -> UpdateResult:
        """Set ``fields`` on the item with this sku."""
        return self.items.update_one({"sku": sku}, {"$set": fields})

    def delete_item(self, sku: str) -> DeleteResult:
        """Delete the item with this sku."""
        return self.items.delete_one({"sku": sku})

    def stats(self) -> tuple[list[dict[str, Any]], int]:
        """Aggregated totals and the number of items with more than 5 in stock."""
        totals = list(self.items.aggregate(STATS_PIPELINE))
        return totals, self.items.count_documents(STATS_FILTER)

    def bulk(self) -> BulkWriteResult:
        """One bulk_write with an insert, an update and a delete."""
        return self.items.bulk_write(_bulk_requests())

    def insert_duplicate(self) -> None:
        """Insert the same ``_id`` twice; the second insert raises DuplicateKeyError."""
        self.items.insert_one(_duplicate_document())
        self.items.insert_one(_duplicate_document())


async def _resolve(value: _T | Awaitable[_T]) -> _T:
    # PyMongo's async API returns coroutines where Motor returns ready objects (aggregate()
    # gives a cursor at once, close() returns None), so await only what needs awaiting.
    if inspect.isawaitable(value):
        return await value
    return value


class AsyncShopStore:
    """The same MongoDB calls as ``ShopStore``, for PyMongo's async API and for Motor."""

    def __init__(self, collection: Any) -> None:
        """Wrap the ``items`` collection of an ``AsyncMongoClient`` or Motor database."""
        self.items = collection

    async def seed(self, n: int) -> int:
        """Replace the collection with ``seed_documents(n)``; return how many were inserted."""
        await self.items.drop()
        return len((await self.items.insert_many(seed_documents(n))).inserted_ids)

    async def list_items(self, limit: int) -> list[dict[str, Any]]:
        """All items sorted by sku (``limit`` 0 means no limit)."""
        docs: list[dict[str, Any]] = (
            await self.items.find({}).sort("sku", 1).limit(limit).to_list(None)
        )
        return docs

    async def get_item(self, sku: str) -> dict[str, Any] | None:
        """The item with this sku, or None."""
        doc: dict[str, Any] | None = await self.items.find_one({"sku": sku})
        return doc

    async def create_item(self, doc: dict[str, Any]) -> InsertOneResult:
        """Insert one item."""
        result: InsertOneResult = await self.items.insert_one(doc)
        return result

    async def update_item(self, sku: str, fields: dict[str, Any]) -> UpdateResult:
        """Set ``fields`` on the item with this sku."""
        result: UpdateResult = await self.items.update_one({"sku": sku}, {"$set": fields})
        return result

    async def delete_item(self, sku: str) -> DeleteResult:
        """Delete the item with this sku."""
        result: DeleteResult = await self.items.delete_one({"sku": sku})
        return result

    async def stats(self) -> tuple[list[dict[str, Any]], int]:
        """Aggregated totals and the number of items with more than 5 in stock."""
        cursor = await _resolve(self.items.aggregate(STATS_PIPELINE))
        totals: list[dict[str, Any]] = await cursor.to_list(None)
        return totals, await self.items.count_documents(STATS_FILTER)

    async def bulk(self) -> BulkWriteResult:
        """One bulk_write with an insert, an update and a delete."""
        result: BulkWriteResult = await self.items.bulk_write(_bulk_requests())
        return result

    async def insert_duplicate(self) -> None:
        """Insert the same ``_id`` twice; the second insert raises DuplicateKeyError."""
        await self.items.insert_one(_duplicate_document())
        await self.items.insert_one(_duplicate_document())


Store = ShopStore | AsyncShopStore


@asynccontextmanager
async def open_store(driver: Driver, mongo_uri: str, db_name: str) -> AsyncIterator[Store]:
    """Connect with ``driver`` for as long as the context lasts and yield the store."""
    # tz_aware: datetimes come back as UTC-aware, so they render with an explicit offset.
    client: Any
    if driver == "pymongo":
        client = MongoClient(mongo_uri, tz_aware=True)
        store: Store = ShopStore(client[db_name][COLLECTION])
    elif driver == "async":
        client = AsyncMongoClient(mongo_uri, tz_aware=True)
        store = AsyncShopStore(client[db_name][COLLECTION])
    elif driver == "motor":
        # Imported here: only this driver needs Motor (which is deprecated upstream).
        from motor.motor_asyncio import AsyncIOMotorClient

        client = AsyncIOMotorClient(mongo_uri, tz_aware=True)
        store = AsyncShopStore(client[db_name][COLLECTION])
    else:
        raise ValueError(f"unknown driver {driver!r}; expected one of {DRIVERS}")
    try:
        yield store
    finally:
        if driver == "pymongo":
            # MongoClient.close() blocks on sockets; keep the event loop free meanwhile.
            await anyio.to_thread.run_sync(client.close)
        else:
            await _resolve(client.close())


# --- endpoints (framework-neutral) -----------------------------------------------------------


class HttpError(Exception):
    """An expected error answer (404, 409, 400) with its JSON payload."""

    def __init__(self, status: int, payload: dict[str, Any]) -> None:
        """Answer ``status`` with ``payload`` as the JSON body."""
        super().__init__(status, payload)
        self.status = status
        self.payload = payload


@dataclass(frozen=True)
class Call:
    """The parts of a request the endpoints look at."""

    path: Mapping[str, str]
    query: Mapping[str, str]
    body: Any = None


@dataclass(frozen=True)
class Endpoint:
    """One route: how a request becomes a store call and the result becomes JSON.

    ``action`` calls a store method and returns its result, which is awaitable for an
    ``AsyncShopStore``; None means the route needs no database. ``render`` turns the result
    into the JSON payload or raises ``HttpError``.
    """

    name: str
    method: str
    path: str
    action: Callable[[Any, Call], Any] | None
    render: Callable[[Any], Any]
    status: int = 200
    reads_body: bool = False


def _int_param(query: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise HttpError(400, {"error": f"{name} must be an integer"}) from None
    if not lo <= value <= hi:
        raise HttpError(400, {"error": f"{name} must be between {lo} and {hi}"})
    return value


_NEW_ITEM_FIELDS: dict[str, tuple[type, ...]] = {
    "sku": (str,),
    "name": (str,),
    "price": (int, float),
    "qty": (int,),
}


def _new_item(body: Any) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise HttpError(400, {"error": "expected a JSON object"})
    wrong = [
        field
        for field, types in _NEW_ITEM_FIELDS.items()
        if not isinstance(body.get(field), types) or isinstance(body.get(field), bool)
    ]
    if wrong:
        raise HttpError(400, {"error": "missing or invalid fields", "fields": wrong})
    doc = {field: body[field] for field in _NEW_ITEM_FIELDS}
    doc["price"] = float(doc["price"])
    return doc


def _changes(body: Any) -> dict[str, Any]:
    # MongoDB rejects an empty $set and any change of _id; say so as a 400 instead of a 500.
    if not isinstance(body, dict) or not body or "_id" in body:
        raise HttpError(400, {"error": "expected a non-empty JSON object without _id"})
    return body


def _found(doc: dict[str, Any] | None) -> Any:
    if doc is None:
        raise HttpError(404, {"error": "not found"})
    return to_json(doc)


def _listing(docs: list[dict[str, Any]]) -> dict[str, Any]:
    skus = [doc.get("sku") for doc in docs]
    return {"count": len(skus), "skus": skus}


def _stats(result: tuple[list[dict[str, Any]], int]) -> dict[str, Any]:
    totals, in_stock = result
    total = totals[0] if totals else {}
    return {
        "total_qty": total.get("total_qty", 0),
        "avg_price": total.get("avg_price"),
        "qty_gt_5": in_stock,
    }


def _bulk(result: BulkWriteResult) -> dict[str, Any]:
    return {
        "inserted": result.inserted_count,
        "matched": result.matched_count,
        "modified": result.modified_count,
        "deleted": result.deleted_count,
        "upserted": result.upserted_count,
    }


def _boom(_: None) -> Any:
    raise RuntimeError("boom: deliberate failure for the error-path tests")


ENDPOINTS: tuple[Endpoint, ...] = (
    # Fixed paths first: Starlette matches routes in order and /items/{sku} would shadow them.
    Endpoint("health", "GET", "/health", None, lambda _: {"ok": True}),
    Endpoint("boom", "GET", "/boom", None, _boom),
    Endpoint(
        "seed",
        "POST",
        "/items/seed",
        lambda store, call: store.seed(_int_param(call.query, "n", 250, 1, MAX_SEED)),
        lambda inserted: {"inserted": inserted},
    ),
    Endpoint("stats", "GET", "/stats", lambda store, _: store.stats(), _stats),
    Endpoint("bulk", "POST", "/items/bulk", lambda store, _: store.bulk(), _bulk),
    Endpoint(
        "duplicate",
        "POST",
        "/items/dup",
        lambda store, _: store.insert_duplicate(),
        # Only reached if the server accepted the second insert, which it must not.
        lambda _: {"error": "duplicate was accepted"},
    ),
    Endpoint(
        "list_items",
        "GET",
        "/items",
        lambda store, call: store.list_items(_int_param(call.query, "limit", 0, 0, 1_000_000)),
        _listing,
    ),
    Endpoint(
        "create_item",
        "POST",
        "/items",
        lambda store, call: store.create_item(_new_item(call.body)),
        lambda result: {"id": str(result.inserted_id)},
        status=201,
        reads_body=True,
    ),
    Endpoint("get_item", "GET", "/items/{sku}", lambda s, c: s.get_item(c.path["sku"]), _found),
    Endpoint(
        "update_item",
        "PATCH",
        "/items/{sku}",
        lambda store, call: store.update_item(call.path["sku"], _changes(call.body)),
        lambda result: {"matched": result.matched_count, "modified": result.modified_count},
        reads_body=True,
    ),
    Endpoint(
        "delete_item",
        "DELETE",
        "/items/{sku}",
        lambda store, call: store.delete_item(call.path["sku"]),
        lambda result: {"deleted": result.deleted_count},
    ),
)


def _duplicate_error(exc: DuplicateKeyError) -> HttpError:
    return HttpError(409, {"error": "duplicate", "code": exc.code})


def handle_sync(endpoint: Endpoint, store: Store, call: Call) -> Any:
    """Serve ``call`` with a ``ShopStore``; returns the JSON payload or raises HttpError."""
    try:
        result = endpoint.action(store, call) if endpoint.action else None
    except DuplicateKeyError as exc:
        raise _duplicate_error(exc) from exc
    return endpoint.render(result)


async def handle_async(endpoint: Endpoint, store: Store, call: Call) -> Any:
    """Serve ``call`` with an ``AsyncShopStore``; returns the JSON payload or raises HttpError."""
    try:
        result = await endpoint.action(store, call) if endpoint.action else None
    except DuplicateKeyError as exc:
        raise _duplicate_error(exc) from exc
    return endpoint.render(result)


def _parse_json(raw: bytes) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise HttpError(400, {"error": "invalid JSON body"}) from None


def _lifespan(
    driver: Driver, mongo_uri: str, db_name: str
) -> Callable[[Any], AbstractAsyncContextManager[None]]:
    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        async with open_store(driver, mongo_uri, db_name) as store:
            app.state.store = store
            yield

    return lifespan


# --- Starlette and FastAPI -------------------------------------------------------------------


async def _read_starlette_body(request: StarletteRequest) -> Any:
    return _parse_json(await request.body())


def _starlette_endpoint(endpoint: Endpoint, sync: bool) -> Callable[..., Any]:
    if sync:
        # A plain def: Starlette and FastAPI run it in their (anyio) thread pool, like a
        # typical PyMongo app. from_thread hops back to the event loop to read the body.
        def serve(request: StarletteRequest) -> Response:
            body = None
            if endpoint.reads_body:
                body = anyio.from_thread.run(_read_starlette_body, request)
            call = Call(request.path_params, request.query_params, body)
            payload = handle_sync(endpoint, request.app.state.store, call)
            return JSONResponse(payload, status_code=endpoint.status)

        serve.__name__ = endpoint.name
        return serve

    async def serve_async(request: StarletteRequest) -> Response:
        body = await _read_starlette_body(request) if endpoint.reads_body else None
        call = Call(request.path_params, request.query_params, body)
        payload = await handle_async(endpoint, request.app.state.store, call)
        return JSONResponse(payload, status_code=endpoint.status)

    serve_async.__name__ = endpoint.name
    return serve_async


async def _starlette_http_error(_request: StarletteRequest, exc: Exception) -> Response:
    if not isinstance(exc, HttpError):
        raise TypeError(f"registered for HttpError only, got {exc!r}")
    return JSONResponse(exc.payload, status_code=exc.status)


def _build_starlette(driver: Driver, lifespan: Callable[[Any], Any]) -> Starlette:
    routes = [
        Route(e.path, _starlette_endpoint(e, driver == "pymongo"), methods=[e.method], name=e.name)
        for e in ENDPOINTS
    ]
    return Starlette(
        routes=routes, lifespan=lifespan, exception_handlers={HttpError: _starlette_http_error}
    )


def _build_fastapi(driver: Driver, lifespan: Callable[[Any], Any]) -> FastAPI:
    app = FastAPI(lifespan=lifespan, exception_handlers={HttpError: _starlette_http_error})
    for e in ENDPOINTS:
        # The endpoints take the raw Request, so FastAPI injects it and validates nothing;
        # they are still APIRoutes with path templates, as in a typical FastAPI app.
        app.add_api_route(
            e.path,
            _starlette_endpoint(e, driver == "pymongo"),
            methods=[e.method],
            name=e.name,
            status_code=e.status,
        )
    return app


# --- Litestar --------------------------------------------------------------------------------


def _litestar_path(path: str) -> str:
    # Litestar wants typed path parameters: {sku} becomes {sku:str}.
    return re.sub(r"\{(\w+)\}", r"{\1:str}", path)


def _litestar_handler(endpoint: Endpoint, sync: bool) -> HTTPRouteHandler:
    # Handlers return plain data and signal errors with HttpError, so each keeps one declared
    # success status. The body comes in as Litestar's parsed ``data``: Litestar runs sync
    # handlers in a plain executor thread, which cannot hop back to the event loop.
    def call_of(request: LitestarRequest[Any, Any, Any], data: Any) -> Call:
        return Call(request.path_params, request.query_params, data)

    fn: Callable[..., Any]
    if sync and endpoint.reads_body:

        def fn(request: LitestarRequest[Any, Any, Any], data: JSONBody[Any]) -> Any:
            return handle_sync(endpoint, request.app.state.store, call_of(request, data))

    elif sync:

        def fn(request: LitestarRequest[Any, Any, Any]) -> Any:
            return handle_sync(endpoint, request.app.state.store, call_of(request, None))

    elif endpoint.reads_body:

        async def fn(request: LitestarRequest[Any, Any, Any], data: JSONBody[Any]) -> Any:
            return await handle_async(endpoint, request.app.state.store, call_of(request, data))

    else:

        async def fn(request: LitestarRequest[Any, Any, Any]) -> Any:
            return await handle_async(endpoint, request.app.state.store, call_of(request, None))

    fn.__name__ = endpoint.name
    return litestar_route(
        _litestar_path(endpoint.path),
        http_method=endpoint.method,
        name=endpoint.name,
        status_code=endpoint.status,
        sync_to_thread=True if sync else None,
    )(fn)


def _litestar_http_error(
    _request: LitestarRequest[Any, Any, Any], exc: HttpError
) -> LitestarResponse[Any]:
    return LitestarResponse(exc.payload, status_code=exc.status)


def _build_litestar(driver: Driver, lifespan: Callable[[Any], Any]) -> Litestar:
    # One Router registers all handlers at once. Registered one by one, Litestar 2.x calls
    # on_registration again on the earlier handlers of a shared path, wrapping a sync handler
    # in sync_to_thread twice, so it answers 500 "Unsupported type: coroutine" (see
    # litestar-org/litestar#4738, fixed in v3 only).
    handlers = [_litestar_handler(e, driver == "pymongo") for e in ENDPOINTS]
    return Litestar(
        route_handlers=[Router(path="/", route_handlers=handlers)],
        lifespan=[lifespan],
        exception_handlers={HttpError: _litestar_http_error},
    )


# --- entry points ----------------------------------------------------------------------------

_BUILDERS: dict[str, Callable[[Driver, Callable[[Any], Any]], Any]] = {
    "starlette": _build_starlette,
    "fastapi": _build_fastapi,
    "litestar": _build_litestar,
}


def build_app(
    framework: Framework, driver: Driver, mongo_uri: str, db_name: str = "shop"
) -> Starlette | Litestar:
    """Build the shop app on ``framework`` using MongoDB ``driver``.

    The MongoDB client is created in the app's lifespan and closed on shutdown, so nothing
    connects until the app starts. FastAPI apps are Starlette apps.
    """
    if framework not in _BUILDERS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")
    if driver not in DRIVERS:
        raise ValueError(f"unknown driver {driver!r}; expected one of {DRIVERS}")
    builder = _BUILDERS[framework]
    app: Starlette | Litestar = builder(driver, _lifespan(driver, mongo_uri, db_name))
    return app


def app_from_env(environ: Mapping[str, str] | None = None) -> Starlette | Litestar:
    """Build the app configured by ``TT_APP_FRAMEWORK``, ``TT_APP_DRIVER``, ``MONGODB_URI``
    and ``TT_APP_DB`` (defaults: starlette, pymongo, mongodb://127.0.0.1:27017/, shop)."""
    env = os.environ if environ is None else environ
    framework = env.get("TT_APP_FRAMEWORK", "starlette")
    driver = env.get("TT_APP_DRIVER", "pymongo")
    if framework not in FRAMEWORKS or driver not in DRIVERS:
        raise ValueError(
            f"TT_APP_FRAMEWORK={framework!r} / TT_APP_DRIVER={driver!r}: "
            f"expected one of {FRAMEWORKS} / {DRIVERS}"
        )
    return build_app(
        framework,  # type: ignore[arg-type]  # checked against FRAMEWORKS above
        driver,  # type: ignore[arg-type]
        env.get("MONGODB_URI", "mongodb://127.0.0.1:27017/"),
        env.get("TT_APP_DB", "shop"),
    )


def __getattr__(name: str) -> Any:
    """Build the module-level ``app`` on first access, so importing needs no configuration."""
    if name == "app":
        app = app_from_env()
        # Cache it: later lookups find the global and never come back here.
        globals()["app"] = app
        return app
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
