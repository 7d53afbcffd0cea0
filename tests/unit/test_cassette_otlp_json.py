"""``timetracer.cassette.otlp_json``: OTLP/JSON with hex ids, as viewers and the Collector read."""

from __future__ import annotations

import base64
import json

import bson
import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import mongo_attributes, record_request
from timetracer import attributes as attr
from timetracer.cassette.encoding import decode_cassette, spans_to_traces_data
from timetracer.cassette.model import Cassette
from timetracer.cassette.otlp_json import traces_data_from_json, traces_data_to_json


@pytest.fixture
def recorded(tracer: Tracer, memory: InMemorySpanExporter) -> tuple[int, TracesData]:
    trace_id = record_request(
        tracer, calls=[mongo_attributes({"find": "items"}, reply={"ok": 1.0})]
    )
    return trace_id, spans_to_traces_data(memory.get_finished_spans())


def spans_in(document: dict) -> list[dict]:
    return [
        span
        for resource_spans in document["resourceSpans"]
        for scope_spans in resource_spans["scopeSpans"]
        for span in scope_spans["spans"]
    ]


def test_trace_and_span_ids_are_written_as_hex(recorded: tuple[int, TracesData]) -> None:
    trace_id, data = recorded

    spans = spans_in(json.loads(traces_data_to_json(data)))

    assert {span["traceId"] for span in spans} == {f"{trace_id:032x}"}
    child = next(span for span in spans if "parentSpanId" in span)
    root = next(span for span in spans if "parentSpanId" not in span)
    assert child["parentSpanId"] == root["spanId"]
    assert len(root["spanId"]) == 16
    int(root["spanId"], 16)


def test_bytes_attributes_stay_base64(recorded: tuple[int, TracesData]) -> None:
    _, data = recorded

    spans = spans_in(json.loads(traces_data_to_json(data)))

    child = next(span for span in spans if "parentSpanId" in span)
    command = next(a for a in child["attributes"] if a["key"] == attr.MONGO_COMMAND)
    assert base64.b64decode(command["value"]["bytesValue"]) == bson.encode({"find": "items"})


def test_json_round_trips_to_the_same_message(recorded: tuple[int, TracesData]) -> None:
    _, data = recorded

    assert traces_data_from_json(traces_data_to_json(data, indent=2)) == data


def test_json_loads_through_decode_cassette_into_the_same_cassette(
    recorded: tuple[int, TracesData],
) -> None:
    trace_id, data = recorded

    cassette = Cassette.from_traces_data(decode_cassette(traces_data_to_json(data).encode()))

    assert cassette.trace_id == f"{trace_id:032x}"
    assert [call.command for call in cassette.calls] == [{"find": "items"}]


def test_json_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(ValueError, match="must be an object"):
        traces_data_from_json("[]")
