"""``timetracer.cassette.model``: the request and calls read back out of a cassette.

What a cassette gives back must equal what was recorded, BSON types included.
"""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any

import bson
import pytest
from bson import Binary, Decimal128, Int64, MaxKey, MinKey, ObjectId, Regex, Timestamp
from bson.datetime_ms import DatetimeMS
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import (
    START_NS,
    mongo_attributes,
    record_request,
    write_cassette,
)
from timetracer import attributes as attr
from timetracer.cassette.encoding import spans_to_traces_data
from timetracer.cassette.model import Cassette, HttpExchange, MongoCall
from timetracer.cassette.reader import load_cassette
from timetracer.errors import TruncatedPayloadError

UTC = dt.timezone.utc
GENERIC = b"\x00\x01\xfe\xff"
UUID_BYTES = uuid.UUID("12345678-1234-5678-1234-567812345678").bytes
# (field, value recorded, value read back). pymongo reads generic binary (subtype 0) as bytes.
BSON_VALUES: list[tuple[str, Any, Any]] = [
    ("object_id", ObjectId("65a1b2c3d4e5f60718293a4b"), ObjectId("65a1b2c3d4e5f60718293a4b")),
    (
        "datetime",
        dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
        dt.datetime(2024, 1, 2, 3, 4, 5, 678000, tzinfo=UTC),
    ),
    ("decimal128", Decimal128("12345.6789"), Decimal128("12345.6789")),
    ("int64", Int64(2**40), Int64(2**40)),
    ("int32", 7, 7),
    ("binary_generic", Binary(GENERIC, 0), GENERIC),
    ("binary_uuid", Binary(UUID_BYTES, 4), Binary(UUID_BYTES, 4)),
    ("nested", {"a": [1, {"b": [2, [3]]}, []], "c": {}}, {"a": [1, {"b": [2, [3]]}, []], "c": {}}),
    ("regex", Regex("^ann", "i"), Regex("^ann", "i")),
    ("min_key", MinKey(), MinKey()),
    ("max_key", MaxKey(), MaxKey()),
    ("timestamp", Timestamp(1_700_000_000, 7), Timestamp(1_700_000_000, 7)),
    ("null", None, None),
]


def load(tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path, **request: Any) -> Cassette:
    record_request(tracer, **request)
    return load_cassette(write_cassette(tmp_path, memory.get_finished_spans()))


@pytest.fixture
def reply_of_every_type(tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path) -> MongoCall:
    reply = {"ok": 1.0, **{name: value for name, value, _ in BSON_VALUES}}
    cassette = load(tracer, memory, tmp_path, calls=[mongo_attributes({"find": "t"}, reply=reply)])
    return cassette.calls[0]


@pytest.mark.parametrize(
    ("name", "recorded", "read_back"), BSON_VALUES, ids=[v[0] for v in BSON_VALUES]
)
def test_bson_values_read_back_equal_to_what_was_recorded(
    reply_of_every_type: MongoCall, name: str, recorded: Any, read_back: Any
) -> None:
    value = (reply_of_every_type.reply or {})[name]

    assert value == read_back
    assert type(value) is type(read_back)


def test_decoding_is_lossless_the_document_re_encodes_to_the_recorded_bytes(
    reply_of_every_type: MongoCall,
) -> None:
    assert bson.encode(reply_of_every_type.reply or {}) == reply_of_every_type.reply_bson


def test_a_datetime_recorded_in_another_zone_reads_back_as_the_same_instant_in_utc(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    paris = dt.datetime(2024, 6, 1, 12, 0, 0, 250000, tzinfo=dt.timezone(dt.timedelta(hours=2)))
    command = {"find": "t", "filter": {"at": paris}}

    cassette = load(tracer, memory, tmp_path, calls=[mongo_attributes(command)])
    at = cassette.calls[0].command["filter"]["at"]

    assert at == paris
    assert at.tzinfo == UTC


def test_a_date_outside_pythons_range_reads_back_as_recorded(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    far_future = DatetimeMS(300_000_000_000_000)  # year ~11000
    command = {"find": "t", "filter": {"at": far_future}}

    cassette = load(tracer, memory, tmp_path, calls=[mongo_attributes(command)])

    assert cassette.calls[0].command["filter"]["at"] == far_future


def test_the_exchange_is_read_from_the_root_payload(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    cassette = load(
        tracer,
        memory,
        tmp_path,
        method="PUT",
        path="/items/7",
        route="/items/{item_id}",
        status=200,
        query="dry_run=1",
        request_headers=[("content-type", "application/json")],
        request_body=b'{"name": "x"}',
        response_body=b"{}",
    )

    assert cassette.exchange == HttpExchange(
        method="PUT",
        route="/items/{item_id}",
        path="/items/7",
        query="dry_run=1",
        request_headers=(("content-type", "application/json"),),
        request_body=b'{"name": "x"}',
        request_body_size=13,
        status=200,
        response_headers=(("content-type", "application/json"),),
        response_body=b"{}",
        response_body_size=2,
    )


def test_calls_come_in_recorded_order_with_their_details(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    cassette = load(
        tracer,
        memory,
        tmp_path,
        calls=[
            mongo_attributes({"find": "items"}, reply={"ok": 1.0}),
            mongo_attributes({"insert": "orders"}, failure={"ok": 0.0, "code": 11000}),
        ],
    )
    find, insert = cassette.calls

    assert (find.command_name, find.database, find.collection) == ("find", "shop", "items")
    assert find.system == "mongodb"
    assert find.duration_ms == 0.5
    assert not find.failed
    assert find.failure is None
    assert insert.failed
    assert insert.reply is None
    assert insert.failure == {"ok": 0.0, "code": 11000}
    assert cassette.call_counts() == {"mongodb": 2}


def test_a_reply_stored_only_as_its_size_raises_truncated_payload_error_when_read(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    cassette = load(
        tracer, memory, tmp_path, calls=[mongo_attributes({"find": "big"}, reply_size=20_000_000)]
    )
    (call,) = cassette.calls

    assert call.command == {"find": "big"}
    with pytest.raises(TruncatedPayloadError) as caught:
        _ = call.reply
    assert "20000000 bytes" in str(caught.value)
    assert "TIMETRACER_MAX_REPLY_BYTES" in str(caught.value)
    assert call.span_id in str(caught.value)


def test_a_command_stored_only_as_its_size_raises_truncated_payload_error_when_read() -> None:
    call = MongoCall(
        span_id="00f067aa0ba902b7",
        command_name="insert",
        database="shop",
        collection="items",
        start_ns=0,
        end_ns=1,
        command_bson=None,
        reply_bson=bson.encode({"ok": 1.0}),
        failure_bson=None,
        command_size=17_000_000,
    )

    with pytest.raises(TruncatedPayloadError, match="the command of insert"):
        _ = call.command
    assert call.reply == {"ok": 1.0}


def test_the_recorded_server_hello_is_readable(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    call = mongo_attributes({"find": "items"}, reply={"ok": 1.0})
    call[attr.MONGO_SERVER] = bson.encode({"setName": "rs0", "maxWireVersion": 21})

    cassette = load(tracer, memory, tmp_path, calls=[call])

    assert cassette.calls[0].server == {"setName": "rs0", "maxWireVersion": 21}


def test_cassette_timing_comes_from_the_root_span(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    cassette = load(tracer, memory, tmp_path, duration_ms=42)

    assert cassette.duration_ms == 42.0
    assert cassette.recorded_at == dt.datetime(2023, 11, 14, 22, 13, 20, 123000, tzinfo=UTC)
    assert cassette.start_ns == START_NS
    assert cassette.root_name == "request"
    assert cassette.resource["service.name"] == "shop"


@pytest.mark.parametrize(
    ("status", "error", "is_error"),
    [
        (200, None, False),
        (404, None, False),
        (500, None, True),
        (503, None, True),
        (200, "handler crashed", True),
    ],
)
def test_a_cassette_is_an_error_when_it_answered_5xx_or_its_root_failed(
    tracer: Tracer,
    memory: InMemorySpanExporter,
    tmp_path: Path,
    status: int,
    error: str | None,
    is_error: bool,
) -> None:
    cassette = load(tracer, memory, tmp_path, status=status, error=error)

    assert cassette.is_error is is_error


def test_the_first_recorded_exception_is_the_cassettes_error(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    cassette = load(tracer, memory, tmp_path, error="handler crashed")

    assert cassette.error == "RuntimeError: handler crashed"


def test_a_trace_without_http_payload_has_no_exchange(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    with tracer.start_as_current_span("nightly-job"):
        pass

    cassette = Cassette.from_traces_data(spans_to_traces_data(memory.get_finished_spans()))

    assert cassette.exchange is None
    assert cassette.calls == ()
    assert not cassette.is_error


@pytest.mark.parametrize(
    ("body", "size", "truncated"),
    [(b"abcd", 4, False), (b"abcd", 10, True), (None, 10, False)],
)
def test_a_body_is_truncated_when_more_bytes_passed_than_were_stored(
    body: bytes | None, size: int, truncated: bool
) -> None:
    exchange = HttpExchange(
        method="GET",
        route="/",
        path="/",
        query="",
        request_headers=(),
        request_body=body,
        request_body_size=size,
        status=200,
        response_headers=(),
        response_body=body,
        response_body_size=size,
    )

    assert exchange.request_truncated is truncated
    assert exchange.response_truncated is truncated
