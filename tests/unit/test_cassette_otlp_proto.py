"""The fast span encoder writes exactly the bytes of the contrib OTLP encoder."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, SpanLimits, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
    TraceState,
    set_span_in_context,
)

from tests.unit.spans import http_attributes, mongo_attributes
from timetracer.attributes import FORMAT_VERSION
from timetracer.cassette.encoding import serialize_spans, span_encoder, spans_to_traces_data
from timetracer.cassette.otlp_proto import Unsupported, span_attributes

REMOTE = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1))


def provider(resource: Resource | None = None, **limits: Any) -> tuple[TracerProvider, Any]:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(
        resource=resource or Resource.create({"service.name": "shop"}),
        span_limits=SpanLimits(**limits) if limits else None,
        shutdown_on_exit=False,
    )
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider, exporter


def contrib_bytes(spans: list[ReadableSpan]) -> bytes:
    return spans_to_traces_data(spans).SerializeToString()


def test_a_recorded_request_encodes_to_the_contrib_bytes() -> None:
    tracer_provider, exporter = provider()
    tracer = tracer_provider.get_tracer("starlette", "0.66b1", schema_url="https://s/1.11.0")
    mongo = tracer_provider.get_tracer("pymongo", "0.66b1")
    with tracer.start_as_current_span("GET /items/{id}", kind=SpanKind.SERVER) as server:
        server.set_attributes(http_attributes(query="a=1", request_body=b'{"x": 1}'))
        with mongo.start_as_current_span("db.find", kind=SpanKind.CLIENT) as call:
            call.set_attributes(mongo_attributes({"find": "items"}, reply={"ok": 1.0}))
    spans = list(exporter.get_finished_spans())
    assert span_encoder().traces_data(spans) == contrib_bytes(spans)


def test_every_span_field_encodes_to_the_contrib_bytes() -> None:
    tracer_provider, exporter = provider(
        Resource.create({"service.name": "shop", "n": 3}, schema_url="https://r")
    )
    tracer = tracer_provider.get_tracer(
        "scoped", "1.0", schema_url="https://s", attributes={"scope.attr": True}
    )
    parent = set_span_in_context(NonRecordingSpan(REMOTE))
    link = Link(SpanContext(0x1, 0x2, is_remote=False), {"link.attr": "x"})
    span = tracer.start_span(
        "every-field",
        context=parent,
        kind=SpanKind.CONSUMER,
        links=[link, Link(REMOTE)],
        start_time=5,
    )
    span.set_attributes(
        {
            "s": "",
            "u": "héllo ✓",
            "t": True,
            "f": False,
            "i": 0,
            "neg": -(1 << 63),
            "big": (1 << 63) - 1,
            "d": 0.0,
            "nan": float("nan"),
            "b": b"",
            "raw": bytes(range(256)) * 2,
            "strs": ("a", ""),
            "ints": (1, -2),
            "floats": (1.5,),
            "bools": (True, False),
            "empty": (),
            "long": "x" * 300,
        }
    )
    span.add_event("boom", {"exception.type": "ValueError"}, timestamp=7)
    span.add_event("unnamed-time", timestamp=0)
    span.set_status(Status(StatusCode.ERROR, "it failed"))
    span.end(end_time=9)
    spans = list(exporter.get_finished_spans())
    assert span_encoder().traces_data(spans) == contrib_bytes(spans)


def test_trace_state_dropped_counts_and_unset_times_encode_to_the_contrib_bytes() -> None:
    tracer_provider, exporter = provider(max_attributes=2, max_events=1, max_links=1)
    state = TraceState([("vendor", "v1"), ("other", "x")])
    parent = set_span_in_context(
        NonRecordingSpan(
            SpanContext(0xA, 0xB, False, trace_flags=TraceFlags(1), trace_state=state)
        )
    )
    tracer = tracer_provider.get_tracer("t")
    span = tracer.start_span(
        "", context=parent, links=[Link(REMOTE), Link(REMOTE)], attributes={"a": 1, "b": 2}
    )
    span.set_attribute("c", 3)
    span.add_event("one")
    span.add_event("two")
    span.set_status(Status(StatusCode.OK))
    span.end()
    spans = list(exporter.get_finished_spans())
    assert spans[0].dropped_attributes and spans[0].dropped_events and spans[0].dropped_links
    assert span_encoder().traces_data(spans) == contrib_bytes(spans)


def test_spans_group_by_equal_resource_and_scope_in_order_of_appearance() -> None:
    first, first_spans = provider()
    second, second_spans = provider(Resource.create({"service.name": "other"}))
    twin, twin_spans = provider()  # a different Resource object equal to the first one's
    for tracer_provider, name in [(first, "a"), (second, "b"), (twin, "a"), (first, "c")]:
        with tracer_provider.get_tracer(name).start_as_current_span(f"span-{name}"):
            pass
    spans = [
        *first_spans.get_finished_spans(),
        *second_spans.get_finished_spans(),
        *twin_spans.get_finished_spans(),
    ]
    spans = [spans[0], spans[2], spans[3], spans[1]]
    assert span_encoder().traces_data(spans) == contrib_bytes(spans)


def test_a_resource_that_already_carries_a_format_version_is_not_stamped_again() -> None:
    tracer_provider, exporter = provider(Resource.create({FORMAT_VERSION: 1}))
    with tracer_provider.get_tracer("t").start_as_current_span("s"):
        pass
    spans = list(exporter.get_finished_spans())
    assert span_encoder().traces_data(spans) == contrib_bytes(spans)


def test_an_encoder_reused_across_traces_keeps_matching(caplog: pytest.LogCaptureFixture) -> None:
    tracer_provider, exporter = provider()
    encoder = span_encoder()
    for index in range(5):
        with tracer_provider.get_tracer("t").start_as_current_span(f"s{index}") as span:
            span.set_attributes({"index": index, "same": "value"})
        spans = list(exporter.get_finished_spans())
        exporter.clear()
        assert encoder.traces_data(spans) == contrib_bytes(spans)


def test_a_reused_encoder_keeps_true_and_one_apart() -> None:
    tracer_provider, exporter = provider()
    encoder = span_encoder()
    for value in (True, 1, 1.0, "1", b"1", ("1",), (True,), (1,), (1.0,), False, 0, (0,)):
        with tracer_provider.get_tracer("t").start_as_current_span("s") as span:
            span.set_attribute("same.key", value)
        spans = list(exporter.get_finished_spans())
        exporter.clear()
        assert encoder.traces_data(spans) == contrib_bytes(spans)


def test_an_encoder_whose_caches_overflow_keeps_matching() -> None:
    tracer_provider, exporter = provider()
    encoder = span_encoder()
    for batch in range(3):
        for index in range(40):  # 3 x 40 x 100 distinct pairs: past the cache's bound
            with tracer_provider.get_tracer("t").start_as_current_span("s") as span:
                span.set_attributes({f"k{n}": f"{batch}-{index}" for n in range(100)})
                span.set_attribute("fixed", "value")
        spans = list(exporter.get_finished_spans())
        exporter.clear()
        assert encoder.traces_data(spans) == contrib_bytes(spans)


def test_text_that_is_not_utf8_falls_back_to_the_contrib_encoder() -> None:
    tracer_provider, exporter = provider()
    with tracer_provider.get_tracer("t").start_as_current_span("s") as span:
        span.set_attribute("bad", "\ud800")
        span.set_attribute("good", "ok")
    spans = list(exporter.get_finished_spans())
    with pytest.raises(Unsupported):
        span_encoder().traces_data(spans)
    logging.disable(logging.CRITICAL)  # the contrib encoder logs the value it drops
    try:
        assert serialize_spans(spans) == contrib_bytes(spans)
    finally:
        logging.disable(logging.NOTSET)


def test_span_attributes_are_the_spans_attributes() -> None:
    tracer_provider, exporter = provider()
    with tracer_provider.get_tracer("t").start_as_current_span("s") as span:
        span.set_attributes({"a": 1, "b": ("x",)})
    [finished] = exporter.get_finished_spans()
    assert dict(span_attributes(finished)) == dict(finished.attributes or {})


_values = st.one_of(
    st.text(),
    st.booleans(),
    st.integers(min_value=-(1 << 63), max_value=(1 << 63) - 1),
    st.floats(allow_nan=False),
    st.binary(),
    st.lists(st.text(max_size=5), max_size=3).map(tuple),
    st.lists(st.integers(min_value=-1000, max_value=1000), max_size=3).map(tuple),
)


# One encoder across every generated example, so its caches meet many keys and values.
_SHARED = span_encoder()


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.text(min_size=1, max_size=20), _values, max_size=12))
def test_any_attributes_encode_to_the_contrib_bytes(attributes: dict[str, Any]) -> None:
    tracer_provider, exporter = provider()
    with tracer_provider.get_tracer("t").start_as_current_span("s") as span:
        span.set_attributes(attributes)
    spans = list(exporter.get_finished_spans())
    try:
        fast = _SHARED.traces_data(spans)
    except Unsupported:
        return  # lone surrogates in generated text: covered by the fallback test
    assert fast == contrib_bytes(spans)
