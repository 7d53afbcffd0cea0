"""Recorded MongoDB calls, cassettes and a small Starlette shop for the replay unit tests.

Commands are written the way PyMongo 4.20 sends them (key order included, ``lsid`` left out:
replay ignores it); cassettes are recorded on the local tracer of ``tests.unit.spans``.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import bson
import pymongo
from bson import Int64
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer, use_span
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.unit.spans import START_NS, http_attributes, mongo_attributes, spans_of, write_cassette
from timetracer import attributes as attr
from timetracer.cassette import Cassette, MongoCall
from timetracer.cassette.encoding import spans_to_traces_data

DB = "db"
SHOP_URI = "mongodb://db.invalid:27017/"
"""Where the shop app thinks its database is: a name that never resolves."""
PING = {"ping": 1, "$db": DB}
ITEM_A = {"_id": bson.ObjectId("65a000000000000000000001"), "sku": "a", "price": 5}

_span_ids = itertools.count(1)


def find_one_command(sku: str) -> dict[str, Any]:
    """What ``db.items.find_one({"sku": sku})`` sends."""
    return {"find": "items", "filter": {"sku": sku}, "limit": 1, "singleBatch": True, "$db": DB}


def find_reply(*documents: Mapping[str, Any]) -> dict[str, Any]:
    """A server's reply to a ``find`` that returned ``documents`` in one batch."""
    return {"cursor": {"firstBatch": list(documents), "id": Int64(0), "ns": f"{DB}.items"},
            "ok": 1.0}  # fmt: skip


def mongo_call(
    command: Mapping[str, Any],
    *,
    reply: Mapping[str, Any] | None = None,
    failure: Mapping[str, Any] | None = None,
    reply_size: int | None = None,
    command_size: int | None = None,
    server: Mapping[str, Any] | None = None,
) -> MongoCall:
    """A recorded call as a cassette holds it; ``command_size`` / ``reply_size`` mark the
    command / reply as over the size cap (only the size was stored)."""
    name = next(iter(command))
    if reply is None and failure is None and reply_size is None:
        reply = {"ok": 1.0}
    start = START_NS + next(_span_ids) * 1000
    return MongoCall(
        span_id=f"{next(_span_ids):016x}",
        command_name=name,
        database=str(command.get("$db", DB)),
        collection=str(command[name]) if isinstance(command[name], str) else None,
        start_ns=start,
        end_ns=start + 500,
        command_bson=None if command_size is not None else bson.encode(command),
        reply_bson=None if reply is None or reply_size is not None else bson.encode(reply),
        failure_bson=None if failure is None else bson.encode(failure),
        server_bson=None if server is None else bson.encode(server),
        command_size=command_size,
        reply_size=reply_size,
    )


def wire_message(request_id: int) -> Any:
    """Just enough of a parsed wire message for the answerer: its header's request id."""
    return SimpleNamespace(header=SimpleNamespace(request_id=request_id), more_to_come=False)


def call_attributes(
    command: Mapping[str, Any],
    *,
    reply: Mapping[str, Any] | None = None,
    server: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """A recorded command span's attributes (``mongo_attributes`` plus the server summary)."""
    attributes = mongo_attributes(
        command, reply=reply if reply is not None else {"ok": 1.0}, database=DB
    )
    if server is not None:
        attributes[attr.MONGO_SERVER] = bson.encode(server)
    return attributes


def record(
    tracer: Tracer,
    *,
    calls: Sequence[Mapping[str, Any]] = (),
    start_ns: int = START_NS,
    overrides: Mapping[str, Any] | None = None,
    without_http: bool = False,
    **http: Any,
) -> int:
    """Record one request like ``spans.record_request``, whose root attributes cannot be
    bent: ``overrides`` replaces some of them (a truncated body's size), ``without_http``
    leaves every HTTP payload out. Returns the trace id."""
    attributes = {} if without_http else {**http_attributes(**http), **(overrides or {})}
    span = tracer.start_span(
        "request", kind=SpanKind.SERVER, attributes=attributes, start_time=start_ns
    )
    with use_span(span, end_on_exit=False):
        for index, call in enumerate(calls):
            begin = start_ns + (index + 1) * 1_000_000
            child = tracer.start_span(
                "mongo", kind=SpanKind.CLIENT, attributes=dict(call), start_time=begin
            )
            child.end(end_time=begin + 500_000)
    span.end(end_time=start_ns + 25_000_000)
    return span.get_span_context().trace_id


def cassette_of(memory: InMemorySpanExporter, trace_id: int, path: Path | None = None) -> Cassette:
    """The decoded cassette of one recorded trace, without writing it."""
    spans = spans_of(memory.get_finished_spans(), trace_id)
    return Cassette.from_traces_data(spans_to_traces_data(spans), path=path)


def write_recording(
    directory: Path, tracer: Tracer, memory: InMemorySpanExporter, **recorded: Any
) -> Path:
    """Record one request (``record(**recorded)``) and write it as a cassette file."""
    trace_id = record(tracer, **recorded)
    return write_cassette(directory, spans_of(memory.get_finished_spans(), trace_id))


def item_recording(
    sku: str = "a",
    *,
    asked: str | None = None,
    body: bytes = b'{"sku":"a","price":5}',
    extra_calls: Sequence[Mapping[str, Any]] = (),
    start_ns: int = START_NS,
) -> dict[str, Any]:
    """``record`` arguments for ``GET /items/<sku>`` of :func:`shop_app`: a ping and a
    ``find_one`` of ``asked`` (default ``sku``) answered with ``ITEM_A``, then ``extra_calls``."""
    calls = [
        call_attributes(PING),
        call_attributes(find_one_command(asked or sku), reply=find_reply(ITEM_A)),
        *extra_calls,
    ]
    return {
        "calls": calls,
        "start_ns": start_ns,
        "method": "GET",
        "path": f"/items/{sku}",
        "route": "/items/{sku}",
        "status": 200,
        "response_body": body,
    }


def shop_app(uri: str = SHOP_URI) -> Starlette:
    """``GET /items/{sku}``: ping, then ``find_one`` by sku; the client is made in the lifespan."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, Any]]:
        client: pymongo.MongoClient[dict[str, Any]] = pymongo.MongoClient(
            uri, serverSelectionTimeoutMS=2000
        )
        try:
            yield {"client": client}
        finally:
            client.close()

    async def item(request: Request) -> JSONResponse:
        database = request.state.client[DB]
        database.command("ping")
        found = database.items.find_one({"sku": request.path_params["sku"]})
        if found is None:
            return JSONResponse({"error": "no such item"}, status_code=404)
        return JSONResponse({"sku": found["sku"], "price": found["price"]})

    return Starlette(routes=[Route("/items/{sku}", item)], lifespan=lifespan)
