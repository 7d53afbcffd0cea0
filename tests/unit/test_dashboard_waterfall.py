"""``timetracer.dashboard.waterfall``: every span on one time axis, in tree order."""

from __future__ import annotations

from opentelemetry.proto.trace.v1.trace_pb2 import TracesData
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Tracer, use_span

from tests.unit.spans import START_NS, http_attributes, mongo_attributes, record_request
from timetracer.cassette.encoding import spans_to_traces_data
from timetracer.cassette.model import Cassette
from timetracer.dashboard.waterfall import waterfall

MS = 1_000_000


def cassette_of(memory: InMemorySpanExporter) -> Cassette:
    return Cassette.from_traces_data(spans_to_traces_data(memory.get_finished_spans()))


def test_spans_are_in_tree_order_with_offsets_from_the_first_start(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    root = tracer.start_span(
        "request", kind=SpanKind.SERVER, attributes=http_attributes(), start_time=START_NS
    )
    with use_span(root, end_on_exit=False):
        # Started out of order: the view sorts siblings by start time.
        late = tracer.start_span("send", start_time=START_NS + 9 * MS)
        late.end(end_time=START_NS + 10 * MS)
        handler = tracer.start_span("handler", start_time=START_NS + 1 * MS)
        with use_span(handler, end_on_exit=False):
            call = tracer.start_span(
                "mongo",
                kind=SpanKind.CLIENT,
                attributes=mongo_attributes({"find": "items"}, reply={"ok": 1.0}),
                start_time=START_NS + 2 * MS,
            )
            call.end(end_time=START_NS + 5 * MS)
        handler.end(end_time=START_NS + 6 * MS)
    root.end(end_time=START_NS + 12 * MS)

    view = waterfall(cassette_of(memory))

    assert view["total_ms"] == 12.0
    assert view["omitted"] == 0
    assert [(s["name"], s["depth"], s["start_ms"], s["duration_ms"]) for s in view["spans"]] == [
        ("request", 0, 0.0, 12.0),
        ("handler", 1, 1.0, 5.0),
        ("find shop.items", 2, 2.0, 3.0),
        ("send", 1, 9.0, 1.0),
    ]
    assert [s["kind"] for s in view["spans"]] == ["server", "internal", "client", "internal"]
    assert [s["call"] for s in view["spans"]] == [None, None, 0, None]
    assert view["spans"][1]["parent_id"] == view["spans"][0]["span_id"]
    assert view["spans"][0]["parent_id"] is None


def test_failed_calls_and_failed_spans_are_errors(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    record_request(
        tracer,
        error="boom",
        calls=[
            mongo_attributes({"insert": "orders"}, failure={"ok": 0.0, "code": 11000}),
            mongo_attributes({"find": "orders"}, reply={"ok": 1.0}),
        ],
    )

    spans = waterfall(cassette_of(memory))["spans"]

    assert [(s["name"], s["error"]) for s in spans] == [
        ("request", True),
        ("insert shop.orders", True),
        ("find shop.orders", False),
    ]


def test_a_long_trace_is_cut_at_the_limit_and_says_how_much_was_left_out(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    record_request(tracer, calls=[mongo_attributes({"find": "items"}, reply={"ok": 1.0})] * 5)

    view = waterfall(cassette_of(memory), limit=3)

    assert len(view["spans"]) == 3
    assert view["omitted"] == 3


def test_a_cycle_of_parent_ids_is_drawn_once_without_looping(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    record_request(tracer, calls=[mongo_attributes({"find": "items"}, reply={"ok": 1.0})])
    data = spans_to_traces_data(memory.get_finished_spans())
    spans = data.resource_spans[0].scope_spans[0].spans
    first, second = spans[0], spans[1]
    # A crafted file: two spans that are each other's parent, plus one that is its own.
    first.parent_span_id, second.parent_span_id = second.span_id, first.span_id
    extra = spans.add()
    extra.CopyFrom(first)
    extra.span_id = b"\x01" * 8
    extra.parent_span_id = extra.span_id

    view = waterfall(Cassette.from_traces_data(data))

    assert len(view["spans"]) == 3  # each drawn once, the loop broken where it was entered
    assert len({span["span_id"] for span in view["spans"]}) == 3
    assert view["omitted"] == 0


def test_a_trace_without_spans_gives_an_empty_waterfall(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    record_request(tracer)
    cassette = cassette_of(memory)
    empty = Cassette(
        data=TracesData(),
        path=None,
        trace_id=cassette.trace_id,
        root_name="request",
        start_ns=0,
        end_ns=0,
        root_status_error=False,
        error=None,
        exchange=None,
        calls=(),
    )

    assert waterfall(empty) == {"total_ms": 0.0, "spans": [], "omitted": 0}
