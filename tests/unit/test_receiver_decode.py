"""Request body checks: media types, content codings, size limits, protobuf and OTLP/JSON."""

from __future__ import annotations

import gzip
import json
import zlib

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span

from timetracer.receiver.decode import (
    RequestRejected,
    decode_request,
    decompress_body,
    request_encoding,
)

TRACE_ID = bytes.fromhex("0af7651916cd43dd8448eb211c80319c")
SPAN_ID = bytes.fromhex("b7ad6b7169203331")
LIMIT = 1024 * 1024


def one_span_request() -> ExportTraceServiceRequest:
    request = ExportTraceServiceRequest()
    span = request.resource_spans.add().scope_spans.add().spans.add()
    span.trace_id, span.span_id, span.name = TRACE_ID, SPAN_ID, "GET /items"
    return request


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("application/x-protobuf", "protobuf"),
        ("application/json", "json"),
        ("Application/JSON; charset=utf-8", "json"),
        ("text/plain", None),
        ("application/protobuf", None),
        ("", None),
        (None, None),
    ],
)
def test_request_encoding_reads_the_media_type_and_ignores_parameters(
    header: str | None, expected: str | None
) -> None:
    assert request_encoding(header) == expected


@pytest.mark.parametrize(
    ("coding", "compress"),
    [
        (None, lambda b: b),
        ("identity", lambda b: b),
        ("gzip", gzip.compress),
        ("x-gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("DEFLATE", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some clients send
        ("zlib", zlib.compress),
    ],
)
def test_supported_codings_decompress(coding: str | None, compress: object) -> None:
    body = b"spans " * 1000
    assert decompress_body(compress(body), coding, LIMIT) == body  # type: ignore[operator]


def test_several_gzip_members_are_read_as_one_body() -> None:
    assert decompress_body(gzip.compress(b"one ") + gzip.compress(b"two"), "gzip", LIMIT) == (
        b"one two"
    )


@pytest.mark.parametrize("coding", ["br", "zstd", "snappy", "compress"])
def test_an_unsupported_coding_is_415(coding: str) -> None:
    with pytest.raises(RequestRejected) as caught:
        decompress_body(b"x", coding, LIMIT)
    assert caught.value.status == 415
    assert coding in caught.value.message


@pytest.mark.parametrize("coding", ["gzip", "deflate"])
def test_a_decompression_bomb_is_413_without_inflating_it(coding: str) -> None:
    zeros = b"\0" * (64 * 1024 * 1024)
    bomb = gzip.compress(zeros) if coding == "gzip" else zlib.compress(zeros)
    assert len(bomb) < 100_000
    with pytest.raises(RequestRejected) as caught:
        decompress_body(bomb, coding, LIMIT)
    assert caught.value.status == 413


def test_a_body_exactly_at_the_limit_is_accepted() -> None:
    body = b"a" * LIMIT
    assert decompress_body(gzip.compress(body), "gzip", LIMIT) == body


@pytest.mark.parametrize(
    ("coding", "body"),
    [
        ("gzip", gzip.compress(b"x" * 1000)[:-10]),
        ("gzip", b"not gzip at all"),
        ("deflate", zlib.compress(b"x" * 1000)[:-6]),
        ("gzip", gzip.compress(b"x") + b"trailing garbage"),
        ("deflate", zlib.compress(b"x") + b"trailing"),
    ],
)
def test_corrupt_or_truncated_compressed_bodies_are_400(coding: str, body: bytes) -> None:
    with pytest.raises(RequestRejected) as caught:
        decompress_body(body, coding, LIMIT)
    assert caught.value.status == 400


def test_protobuf_decodes_with_any_coding() -> None:
    raw = one_span_request().SerializeToString()
    for coding, body in (("identity", raw), ("gzip", gzip.compress(raw))):
        request = decode_request(body, "protobuf", coding, LIMIT)
        assert request.resource_spans[0].scope_spans[0].spans[0].span_id == SPAN_ID


def test_malformed_protobuf_is_400() -> None:
    with pytest.raises(RequestRejected) as caught:
        decode_request(b"\xff\xff\xff\xff", "protobuf", None, LIMIT)
    assert caught.value.status == 400


def test_otlp_json_with_hex_ids_decodes_and_ignores_unknown_fields() -> None:
    document = {
        "resourceSpans": [
            {
                "resource": {
                    "attributes": [{"key": "service.name", "value": {"stringValue": "s"}}]
                },
                "scopeSpans": [
                    {
                        "scope": {"name": "tests"},
                        "spans": [
                            {
                                "traceId": TRACE_ID.hex(),
                                "spanId": SPAN_ID.hex(),
                                "parentSpanId": "",
                                "name": "GET /items",
                                "kind": 2,
                                "startTimeUnixNano": "1700000000000000000",
                                "attributes": [
                                    {"key": "b", "value": {"bytesValue": "AAE="}},
                                ],
                                "aFieldFromTheFuture": True,
                            }
                        ],
                    }
                ],
            }
        ]
    }
    request = decode_request(json.dumps(document).encode(), "json", None, LIMIT)
    span = request.resource_spans[0].scope_spans[0].spans[0]
    assert (span.trace_id, span.span_id) == (TRACE_ID, SPAN_ID)
    assert span.kind == Span.SpanKind.SPAN_KIND_SERVER
    assert span.start_time_unix_nano == 1_700_000_000_000_000_000
    assert span.attributes[0].value.bytes_value == b"\x00\x01"


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b'"resourceSpans"',
        b"\xff\xfe",
        b'{"resourceSpans": "nope"}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "zz"}]}]}]}',
        b'{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": 12}]}]}]}',
        b"[" * 100_000,
    ],
)
def test_malformed_otlp_json_is_400(body: bytes) -> None:
    with pytest.raises(RequestRejected) as caught:
        decode_request(body, "json", None, LIMIT)
    assert caught.value.status == 400
