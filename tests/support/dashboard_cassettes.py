"""A recorded directory for the dashboard tests: varied requests, planted script payloads,
an unreadable file and a subdirectory, recorded on a local tracer (``tests.unit.spans``).

Every payload that would run if the page ever treated recorded text as HTML sets
``window.__pwned``; the tests assert it stays undefined.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bson import Int64, ObjectId
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.unit.spans import (
    START_NS,
    local_provider,
    mongo_attributes,
    record_request,
    spans_of,
    write_cassette,
)

SECOND = 1_000_000_000
DAY = 86_400 * SECOND
SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'
PAYLOADS = (SCRIPT, IMG)
PLANTED_ROUTE = "/search/{term}"
PLANTED_PATH = f"/search/{IMG}"
UNREADABLE = "20231114T221320000Z_GET_broken_00000000000000000000000000000000.cassette"
NESTED = "nested"


def _find(collection: str, documents: Sequence[dict[str, Any]], **filter_: Any) -> dict[str, Any]:
    return mongo_attributes(
        {"find": collection, "filter": filter_},
        reply={
            "cursor": {"firstBatch": list(documents), "id": Int64(0), "ns": f"shop.{collection}"},
            "ok": 1.0,
        },
    )


def _insert(collection: str, document: dict[str, Any]) -> dict[str, Any]:
    return mongo_attributes(
        {"insert": collection, "documents": [document]}, reply={"n": 1, "ok": 1.0}
    )


ITEM = {"_id": ObjectId("65a000000000000000000001"), "sku": "a-1", "price": 5}
DUPLICATE = {
    "ok": 0.0,
    "code": 11000,
    "codeName": "DuplicateKey",
    "errmsg": "E11000 duplicate key error collection: shop.orders",
}

# (method, path, route, status, duration ms, day offset, calls, extra http arguments)
REQUESTS: list[tuple[str, str, str, int, int, int, list[dict[str, Any]], dict[str, Any]]] = [
    ("GET", "/items/a-1", "/items/{sku}", 200, 12, 0, [_find("items", [ITEM], sku="a-1")], {}),
    ("GET", "/items/b-2", "/items/{sku}", 200, 8, 0, [_find("items", [], sku="b-2")], {}),
    ("POST", "/items", "/items", 201, 30, 0,
     [_find("items", [], sku="c-3"), _insert("items", {"sku": "c-3"})],
     {"request_body": b'{"sku": "c-3", "price": 7}',
      "request_headers": (("content-type", "application/json"),)}),
    ("PATCH", "/items/a-1", "/items/{sku}", 200, 15, 0, [mongo_attributes(
        {"update": "items", "updates": [{"q": {"sku": "a-1"}, "u": {"$set": {"price": 6}}}]},
        reply={"n": 1, "nModified": 1, "ok": 1.0})], {}),
    ("DELETE", "/items/zz", "/items/{sku}", 404, 5, 0, [mongo_attributes(
        {"delete": "items", "deletes": [{"q": {"sku": "zz"}, "limit": 1}]},
        reply={"n": 0, "ok": 1.0})], {"response_body": b'{"error": "no such item"}'}),
    ("GET", "/stats", "/stats", 200, 120, 0, [mongo_attributes(
        {"aggregate": "items", "pipeline": [{"$group": {"_id": None, "n": {"$sum": 1}}}]},
        reply={"cursor": {"firstBatch": [{"_id": None, "n": 3}], "id": Int64(0)}, "ok": 1.0}),
        _find("orders", [])], {}),
    ("POST", "/orders", "/orders", 409, 22, 0, [mongo_attributes(
        {"insert": "orders", "documents": [{"_id": 1}]}, failure=DUPLICATE)], {}),
    ("GET", "/items", "/items", 200, 45, 1, [_find("items", [ITEM] * 3)], {}),
    ("GET", "/items/a-1", "/items/{sku}", 200, 9, 1, [_find("items", [ITEM], sku="a-1")], {}),
    ("POST", "/items", "/items", 201, 28, 1, [_insert("items", {"sku": "d-4"})],
     {"request_body": b'{"sku": "d-4"}',
      "request_headers": (("content-type", "application/json"),)}),
    ("PUT", "/items/a-1", "/items/{sku}", 503, 70, 1, [], {"response_body": b"unavailable",
     "response_headers": (("content-type", "text/plain"),)}),
]  # fmt: skip


@dataclass(frozen=True)
class RecordedDirectory:
    """The directory and what is in it."""

    root: Path
    readable: int
    """Cassettes that decode (the unreadable one not counted)."""
    planted: Path
    """The cassette with script payloads in a header, both bodies, the path and a document."""
    boom: Path
    """The request whose root span ended in an exception (and a 500)."""


def _planted_calls() -> list[dict[str, Any]]:
    document = {"_id": ObjectId("65a000000000000000000099"), "name": SCRIPT, "note": IMG}
    return [_find("items", [document], name=SCRIPT)]


def build_directory(root: Path) -> RecordedDirectory:
    """Record the requests above (and the planted and failing ones) into ``root``."""
    memory = InMemorySpanExporter()
    provider = local_provider(memory)
    tracer = provider.get_tracer("tests.dashboard")
    written: list[Path] = []

    def write(directory: Path, **request: Any) -> Path:
        trace_id = record_request(tracer, **request)
        path = write_cassette(directory, spans_of(memory.get_finished_spans(), trace_id))
        written.append(path)
        return path

    for index, (method, path, route, status, ms, day, calls, extra) in enumerate(REQUESTS):
        write(
            root,
            method=method,
            path=path,
            route=route,
            status=status,
            duration_ms=ms,
            start_ns=START_NS + day * DAY + index * SECOND,
            calls=calls,
            **extra,
        )
    boom = write(
        root,
        method="GET",
        path="/boom",
        route="/boom",
        status=500,
        duration_ms=3,
        start_ns=START_NS + 30 * SECOND,
        error="division by zero",
        response_body=b"Internal Server Error",
        response_headers=(("content-type", "text/plain"),),
    )
    planted = write(
        root,
        method="POST",
        path=PLANTED_PATH,
        route=PLANTED_PATH,
        status=200,
        duration_ms=17,
        start_ns=START_NS + 40 * SECOND,
        query="q=" + SCRIPT,
        request_headers=(("content-type", "application/json"), ("x-planted", SCRIPT), (IMG, IMG)),
        request_body=json.dumps({"term": SCRIPT, "html": IMG}).encode(),
        response_body=json.dumps({"found": [SCRIPT, IMG]}).encode(),
        response_headers=(("content-type", "application/json"), ("x-reply", IMG)),
        calls=_planted_calls(),
    )
    write(
        root / NESTED,
        method="GET",
        path="/health",
        route="/health",
        status=200,
        duration_ms=1,
        start_ns=START_NS + 50 * SECOND,
        response_body=b"ok",
        response_headers=(("content-type", "text/plain"),),
    )
    provider.shutdown()
    (root / UNREADABLE).write_bytes(b"this is not a cassette")
    return RecordedDirectory(root=root, readable=len(written), planted=planted, boom=boom)


_VARIANTS = [("GET", "/items/{sku}", 200), ("POST", "/items", 201), ("GET", "/stats", 500),
             ("DELETE", "/items/{sku}", 404)]  # fmt: skip


def write_many(root: Path, count: int) -> None:
    """Write ``count`` small cassettes quickly: one recorded trace (a request and one call),
    copied with fresh trace ids and start times, in four method / route / status variants
    (every fourth one a 500 on ``/stats``)."""
    from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

    from timetracer import attributes as attr
    from timetracer.cassette.encoding import spans_to_traces_data
    from timetracer.cassette.naming import cassette_name

    memory = InMemorySpanExporter()
    provider = local_provider(memory)
    record_request(provider.get_tracer("tests.dashboard"), calls=[_find("items", [ITEM])])
    recorded = spans_to_traces_data(memory.get_finished_spans())
    provider.shutdown()
    variants = []
    for method, route, status in _VARIANTS:
        variant = TracesData()
        variant.CopyFrom(recorded)
        for span in variant.resource_spans[0].scope_spans[0].spans:
            for pair in span.attributes:
                if pair.key == attr.HTTP_METHOD:
                    pair.value.string_value = method
                elif pair.key == attr.HTTP_ROUTE:
                    pair.value.string_value = route
                elif pair.key == attr.HTTP_STATUS:
                    pair.value.int_value = status
        variants.append((method, route, variant))
    root.mkdir(parents=True, exist_ok=True)
    data = TracesData()
    for index in range(count):
        method, route, variant = variants[index % len(variants)]
        data.CopyFrom(variant)
        trace_id = (0x10000000 + index).to_bytes(16, "big")
        shift = index * 1_000_000 + (index % 7) * 3_000
        for span in data.resource_spans[0].scope_spans[0].spans:
            span.trace_id = trace_id
            span.start_time_unix_nano += shift
            span.end_time_unix_nano += shift + (index % 50) * 100_000
        # Plain writes, not write_atomic: nothing reads the directory while it is made.
        name = cassette_name(method, route, 0x10000000 + index, START_NS + shift)
        (root / name).write_bytes(data.SerializeToString())
