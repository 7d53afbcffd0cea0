"""``timetracer.cassette.encoding``: spans to stamped ``TracesData`` bytes and back."""

from __future__ import annotations

import random

import pytest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.resource.v1.resource_pb2 import Resource
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span, TracesData
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import mongo_attributes, record_request
from timetracer.attributes import FORMAT_VERSION
from timetracer.cassette.encoding import (
    CURRENT_FORMAT_VERSION,
    decode_cassette,
    encode_cassette,
    format_version,
    spans_to_traces_data,
    stamp,
)
from timetracer.cassette.otlp_json import traces_data_to_json
from timetracer.errors import CassetteFormatError


@pytest.fixture
def data(tracer: Tracer, memory: InMemorySpanExporter) -> TracesData:
    record_request(tracer, calls=[mongo_attributes({"find": "items"}, reply={"ok": 1.0})])
    return spans_to_traces_data(memory.get_finished_spans())


def minimal(span_name: str = "request", version: int | None = None) -> TracesData:
    """A hand-built one-span ``TracesData``, optionally stamped with ``version``."""
    resource = Resource()
    if version is not None:
        resource.attributes.append(KeyValue(key=FORMAT_VERSION, value=AnyValue(int_value=version)))
    span = Span(trace_id=b"\x01" * 16, span_id=b"\x02" * 8, name=span_name)
    return TracesData(
        resource_spans=[ResourceSpans(resource=resource, scope_spans=[ScopeSpans(spans=[span])])]
    )


def test_encoded_spans_are_stamped_with_the_current_format_version(data: TracesData) -> None:
    keys = [kv.key for kv in data.resource_spans[0].resource.attributes]

    assert keys.count(FORMAT_VERSION) == 1
    assert format_version(data) == CURRENT_FORMAT_VERSION


def test_stamping_twice_adds_one_stamp(data: TracesData) -> None:
    stamp(stamp(data))

    keys = [kv.key for kv in data.resource_spans[0].resource.attributes]
    assert keys.count(FORMAT_VERSION) == 1


def test_encoding_keeps_every_span(data: TracesData) -> None:
    spans = [span for rs in data.resource_spans for ss in rs.scope_spans for span in ss.spans]

    assert sorted(span.name for span in spans) == ["mongo", "request"]


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_a_cassette_decodes_to_the_message_it_was_encoded_from(
    data: TracesData, compression: str
) -> None:
    assert decode_cassette(encode_cassette(data, compression)) == data


def test_otlp_json_cassettes_decode_too(data: TracesData) -> None:
    assert decode_cassette(traces_data_to_json(data, indent=2).encode()) == data


def test_a_file_without_a_stamp_counts_as_version_one() -> None:
    unstamped = minimal()

    assert format_version(unstamped) == 1
    assert decode_cassette(unstamped.SerializeToString()) == unstamped


def test_a_newer_format_version_is_refused_with_advice_to_upgrade() -> None:
    raw = encode_cassette(minimal(version=99), "gzip")

    with pytest.raises(CassetteFormatError) as caught:
        decode_cassette(raw, source="future.cassette")

    message = str(caught.value)
    assert "future.cassette" in message
    assert "99" in message
    assert "upgrade timetracer" in message


@pytest.mark.parametrize(
    ("raw", "cause"),
    [
        (b"", "empty file"),
        (random.Random(7).randbytes(4096), "not an OTLP TracesData message"),
        (TracesData(resource_spans=[ResourceSpans()]).SerializeToString(), "holds no spans"),
        (b"\x1f\x8b\x08garbage", "corrupt or truncated gzip"),
        (b'{"resourceSpans": [', "invalid OTLP/JSON"),
        (b"[1, 2, 3]", ""),
    ],
    ids=["empty", "random", "no-spans", "bad-gzip", "bad-json", "json-array"],
)
def test_bytes_that_are_not_a_cassette_raise_cassette_format_error_naming_the_file(
    raw: bytes, cause: str
) -> None:
    with pytest.raises(CassetteFormatError) as caught:
        decode_cassette(raw, source="bad.cassette")

    assert str(caught.value).startswith("bad.cassette: ")
    assert cause in caught.value.cause


@pytest.mark.parametrize(
    "raw",
    [b'{"hello": "world"}', b'{"resourceSpans": "none"}', b'{"resourceSpans": [{"x": 1}]}'],
)
def test_json_that_is_not_otlp_raises_cassette_format_error(raw: bytes) -> None:
    with pytest.raises(CassetteFormatError) as caught:
        decode_cassette(raw, source="notes.cassette")

    assert "notes.cassette" in str(caught.value)


def test_a_protobuf_cassette_whose_bytes_look_like_json_still_decodes() -> None:
    # Field 1 of TracesData is tagged b"\n"; a 123-byte first ResourceSpans follows with its
    # length, b"{". After stripping the whitespace the bytes start like a JSON object.
    name = "x"
    while minimal(name).resource_spans[0].ByteSize() < 123:
        name += "x"
    data = minimal(name)
    raw = data.SerializeToString()
    assert raw[:2] == b"\n{"

    assert decode_cassette(raw) == data
