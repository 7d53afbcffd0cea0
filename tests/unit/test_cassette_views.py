"""``timetracer.cassette.views``: the JSON shapes ``list --json`` and ``show --json`` print."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from bson import Binary, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import mongo_attributes, record_request, write_cassette
from timetracer.cassette.model import Cassette
from timetracer.cassette.reader import load_cassette
from timetracer.cassette.views import body_view, detail, relaxed_ejson, summary

SUMMARY_KEYS = {
    "path", "trace_id", "method", "route", "url_path", "status", "duration_ms", "recorded_at",
    "calls",
}  # fmt: skip
DETAIL_KEYS = {
    "path", "trace_id", "recorded_at", "duration_ms", "error", "request", "response", "calls",
}  # fmt: skip
REQUEST_KEYS = {"method", "route", "url_path", "query", "headers", "body", "body_truncated"}
RESPONSE_KEYS = {"status", "headers", "body", "body_truncated"}
CALL_KEYS = {"system", "operation", "database", "collection", "command", "duration_ms"}
JSON = (("content-type", "application/json"),)


@pytest.fixture
def cassette(tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path) -> Cassette:
    record_request(
        tracer,
        method="POST",
        path="/orders",
        route="/orders",
        status=201,
        query="dry_run=0",
        request_headers=JSON,
        request_body=b'{"sku": "A-1"}',
        response_body=b'{"id": 9}',
        duration_ms=12,
        calls=[
            mongo_attributes({"find": "items", "filter": {"sku": "A-1"}}, reply={"ok": 1.0}),
            mongo_attributes({"insert": "orders"}, failure={"ok": 0.0, "code": 11000}),
            mongo_attributes({"find": "big"}, reply_size=20_000_000),
        ],
    )
    return load_cassette(write_cassette(tmp_path, memory.get_finished_spans()))


def test_summary_has_exactly_the_documented_keys(cassette: Cassette) -> None:
    view = summary(cassette)

    assert set(view) == SUMMARY_KEYS
    assert view["path"] == str(cassette.path)
    assert view["trace_id"] == cassette.trace_id
    assert (view["method"], view["route"], view["url_path"]) == ("POST", "/orders", "/orders")
    assert view["status"] == 201
    assert view["duration_ms"] == 12.0
    assert view["recorded_at"] == "2023-11-14T22:13:20.123000+00:00"
    assert view["calls"] == {"mongodb": 3}


def test_detail_has_exactly_the_documented_keys(cassette: Cassette) -> None:
    view = detail(cassette)

    assert set(view) == DETAIL_KEYS
    assert set(view["request"]) == REQUEST_KEYS
    assert set(view["response"]) == RESPONSE_KEYS
    assert [set(call) for call in view["calls"]] == [
        CALL_KEYS | {"reply"},
        CALL_KEYS | {"failure"},
        CALL_KEYS | {"reply", "truncated"},
    ]
    json.dumps(view)  # plain JSON all the way down


def test_detail_shows_the_request_and_response(cassette: Cassette) -> None:
    view = detail(cassette)

    assert view["request"] == {
        "method": "POST",
        "route": "/orders",
        "url_path": "/orders",
        "query": "dry_run=0",
        "headers": [["content-type", "application/json"]],
        "body": {"sku": "A-1"},
        "body_truncated": False,
    }
    assert view["response"] == {
        "status": 201,
        "headers": [["content-type", "application/json"]],
        "body": {"id": 9},
        "body_truncated": False,
    }


def test_detail_shows_each_call_with_its_reply_or_failure(cassette: Cassette) -> None:
    found, failed, truncated = detail(cassette)["calls"]

    assert found == {
        "system": "mongodb",
        "operation": "find",
        "database": "shop",
        "collection": "items",
        "command": {"find": "items", "filter": {"sku": "A-1"}},
        "reply": {"ok": 1.0},
        "duration_ms": 0.5,
    }
    assert failed["failure"] == {"ok": 0.0, "code": 11000}
    assert truncated["reply"] is None
    assert truncated["truncated"] == {"command_bytes": None, "reply_bytes": 20_000_000}


def test_relaxed_ejson_renders_bson_types_as_plain_json() -> None:
    document = {
        "oid": ObjectId("65a1b2c3d4e5f60718293a4b"),
        "at": dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=dt.timezone.utc),
        "price": Decimal128("12.50"),
        "count": Int64(2**40),
        "blob": Binary(b"\x00\xff", 0),
        "uuid": Binary(b"\x00" * 15 + b"\x01", 4),
        "pattern": Regex("^ann", "i"),
        "low": MinKey(),
        "high": MaxKey(),
        "ts": Timestamp(1_700_000_000, 7),
        "list": [1, {"a": None}],
    }

    assert relaxed_ejson(document) == {
        "oid": {"$oid": "65a1b2c3d4e5f60718293a4b"},
        "at": {"$date": "2024-01-02T03:04:05.678Z"},
        "price": {"$numberDecimal": "12.50"},
        "count": 2**40,
        "blob": {"$binary": {"base64": "AP8=", "subType": "00"}},
        "uuid": {"$binary": {"base64": "AAAAAAAAAAAAAAAAAAAAAQ==", "subType": "04"}},
        "pattern": {"$regularExpression": {"pattern": "^ann", "options": "i"}},
        "low": {"$minKey": 1},
        "high": {"$maxKey": 1},
        "ts": {"$timestamp": {"t": 1_700_000_000, "i": 7}},
        "list": [1, {"a": None}],
    }
    assert relaxed_ejson(None) is None


@pytest.mark.parametrize(
    ("body", "headers", "size", "shown"),
    [
        (b'{"a": [1]}', JSON, 10, {"a": [1]}),
        (b'{"a": [1]}', (("content-type", "application/ld+json; charset=utf-8"),), 10, {"a": [1]}),
        (b'{"a": [', JSON, 100, '{"a": ['),
        (b"not json", JSON, 8, "not json"),
        (b"caf\xc3\xa9", (), 5, "café"),
        (b"\xff\xfe\x00", (), 3, {"base64": "//4A"}),
        (None, JSON, 0, None),
    ],
    ids=["json", "json-suffix", "truncated-json", "invalid-json", "utf8", "binary", "none"],
)
def test_body_view_shows_json_as_data_text_as_text_and_binary_as_base64(
    body: bytes | None, headers: Any, size: int, shown: Any
) -> None:
    assert body_view(body, headers, size) == shown
