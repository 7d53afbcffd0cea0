"""``TraceAssembler``: spans from many requests become one finished trace per local root."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    Tracer,
    set_span_in_context,
)

from tests.unit.spans import http_attributes, mongo_attributes, record_request, spans_of
from timetracer.receiver.assembler import FinishedTrace, TraceAssembler
from timetracer.receiver.stats import ReceiverStats

CALLS = [mongo_attributes({"find": "items"}, reply={"ok": 1}), mongo_attributes({"count": "x"})]


class Clock:
    """A hand-driven monotonic clock."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


def assembler(clock: Clock, **options: float) -> TraceAssembler:
    options.setdefault("settle_seconds", 1.0)
    options.setdefault("max_wait_seconds", 60.0)
    return TraceAssembler(ReceiverStats(), clock=clock, **options)  # type: ignore[arg-type]


def request_of(spans: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
    """What the SDK's OTLP exporter sends for ``spans``."""
    return encode_spans(spans)


def names(finished: FinishedTrace) -> list[str]:
    return [
        span.name
        for resource_spans in finished.data.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


def one_request(tracer: Tracer, memory: InMemorySpanExporter) -> tuple[int, list[ReadableSpan]]:
    trace_id = record_request(tracer, calls=CALLS)
    return trace_id, spans_of(memory.get_finished_spans(), trace_id)


def test_spans_sent_in_several_requests_become_one_trace_once_the_root_settles(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    trace_id, spans = one_request(tracer, memory)
    collector = assembler(clock)
    for span in spans:  # children first, root last, one request each
        collector.add(request_of([span]))
    assert collector.due() == []  # the root has not settled yet
    clock.now += 1.0
    [finished] = collector.due()
    assert finished.trace_id == trace_id
    assert finished.root.name == "request"
    assert sorted(names(finished)) == ["mongo", "mongo", "request"]
    assert finished.has_payload
    assert finished.span_count == 3
    assert collector.pending_traces == 0
    assert collector.pending_bytes == 0
    assert collector.stats.snapshot()["spans"] == 3


def test_a_child_arriving_after_its_root_but_within_the_settle_time_is_included(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    _, spans = one_request(tracer, memory)
    root, children = spans[-1], spans[:-1]
    collector = assembler(clock)
    collector.add(request_of([root]))
    clock.now += 0.5
    collector.add(request_of(children))
    clock.now += 0.5
    [finished] = collector.due()
    assert finished.span_count == 3


def test_spans_after_the_cassette_count_as_late_and_their_children_too(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    _, spans = one_request(tracer, memory)
    root, first, second = spans[-1], spans[0], spans[1]
    collector = assembler(clock, settle_seconds=0)
    collector.add(request_of([first, root]))
    [finished] = collector.due()
    assert finished.span_count == 2
    collector.add(request_of([second]))
    # A span below the late one is late as well, not an orphan waiting forever.
    grandchild = ExportTraceServiceRequest()
    grandchild.CopyFrom(request_of([second]))
    span = grandchild.resource_spans[0].scope_spans[0].spans[0]
    span.parent_span_id, span.span_id = span.span_id, b"\x01" * 8
    collector.add(grandchild)
    assert collector.stats.snapshot()["late_spans"] == 2
    assert collector.pending_traces == 0
    assert collector.due() == []


def test_a_span_received_twice_is_kept_once(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    _, spans = one_request(tracer, memory)
    collector = assembler(clock, settle_seconds=0)
    collector.add(request_of(spans[:1]))
    collector.add(request_of(spans))
    [finished] = collector.due()
    collector.add(request_of(spans))  # a sender retrying after the cassette was written
    assert finished.span_count == 3
    assert collector.stats.snapshot()["duplicate_spans"] == 4


def test_a_span_with_a_remote_parent_starts_its_own_local_trace(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    trace_id = 0x0AF7651916CD43DD8448EB211C80319C
    caller = SpanContext(trace_id, 0x1111, is_remote=True, trace_flags=TraceFlags(1))
    upstream = tracer.start_span("upstream", kind=SpanKind.SERVER)  # not in this trace
    upstream.end()
    called = tracer.start_span(
        "called",
        context=set_span_in_context(NonRecordingSpan(caller)),
        kind=SpanKind.SERVER,
        attributes=http_attributes(),
    )
    called.end()
    collector = assembler(clock, settle_seconds=0)
    collector.add(request_of([s for s in memory.get_finished_spans() if s.name == "called"]))
    [finished] = collector.due()
    assert finished.trace_id == trace_id
    assert finished.root.name == "called"
    assert finished.root.parent_span_id == (0x1111).to_bytes(8, "big")


def test_two_local_roots_of_one_trace_become_two_finished_traces(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    frontend = tracer.start_span("frontend", kind=SpanKind.SERVER, attributes=http_attributes())
    context = frontend.get_span_context()
    remote = SpanContext(context.trace_id, context.span_id, True, TraceFlags(1))
    backend = tracer.start_span(
        "backend",
        context=set_span_in_context(NonRecordingSpan(remote)),
        kind=SpanKind.SERVER,
        attributes=http_attributes(path="/inner"),
    )
    child = tracer.start_span(
        "backend-query", context=set_span_in_context(backend), attributes=CALLS[0]
    )
    for span in (child, backend, frontend):
        span.end()
    collector = assembler(clock, settle_seconds=0)
    collector.add(request_of(memory.get_finished_spans()))
    finished = {f.root.name: sorted(names(f)) for f in collector.due()}
    assert finished == {"frontend": ["frontend"], "backend": ["backend", "backend-query"]}


def test_spans_whose_root_never_arrives_expire_after_the_maximum_wait(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    _, spans = one_request(tracer, memory)
    collector = assembler(clock, max_wait_seconds=60)
    collector.add(request_of(spans[:1]))
    clock.now += 59
    collector.add(request_of(spans[1:2]))  # news: the wait starts again
    clock.now += 59
    assert collector.due() == []
    assert collector.pending_traces == 1
    clock.now += 1
    assert collector.due() == []
    assert collector.pending_traces == 0
    assert collector.pending_bytes == 0
    assert collector.stats.snapshot()["expired"] == 1


def test_the_root_of_an_expired_trace_makes_no_incomplete_cassette(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    _, spans = one_request(tracer, memory)
    collector = assembler(clock, settle_seconds=0, max_wait_seconds=60)
    collector.add(request_of(spans[:1]))
    clock.now += 60
    assert collector.due() == []
    collector.add(request_of(spans[1:]))  # the rest, root included, far too late
    assert collector.due() == []
    assert collector.pending_traces == 0
    assert collector.stats.snapshot()["late_spans"] == 2


def test_the_root_of_an_evicted_trace_makes_no_incomplete_cassette(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    collector = assembler(clock, max_traces=1, settle_seconds=0)
    first = one_request(tracer, memory)[1]
    second = one_request(tracer, memory)[1]
    collector.add(request_of(first[:1]))
    collector.add(request_of(second))  # pushes the first trace out
    collector.add(request_of(first[1:]))
    [finished] = collector.due()
    assert finished.trace_id == second[0].context.trace_id
    stats = collector.stats.snapshot()
    assert (stats["evicted"], stats["late_spans"]) == (1, 2)


def test_over_the_trace_bound_the_oldest_orphans_are_evicted_and_rooted_traces_written(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    collector = assembler(clock, max_traces=2, settle_seconds=1000)
    traces = [one_request(tracer, memory) for _ in range(4)]
    collector.add(request_of(traces[0][1]))  # complete: root included
    collector.add(request_of(traces[1][1][:1]))  # an orphan
    collector.add(request_of(traces[2][1][:1]))
    collector.add(request_of(traces[3][1][:1]))
    assert collector.pending_traces == 2
    [finished] = collector.due()  # written early instead of dropped
    assert finished.trace_id == traces[0][0]
    assert collector.stats.snapshot()["evicted"] == 1


def test_over_the_byte_bound_the_oldest_trace_is_evicted(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    first = one_request(tracer, memory)[1][:2]
    second = one_request(tracer, memory)[1][:2]
    measure = assembler(clock)
    measure.add(request_of(first))
    one_trace = measure.pending_bytes
    collector = assembler(clock, max_bytes=one_trace * 3 // 2)
    collector.add(request_of(first))
    collector.add(request_of(second))
    assert collector.pending_traces == 1
    assert collector.pending_bytes == one_trace
    assert collector.stats.snapshot()["evicted"] == 1


def test_spans_with_invalid_ids_are_rejected_and_counted(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    _, spans = one_request(tracer, memory)
    request = request_of(spans)
    bad = request.resource_spans[0].scope_spans[0].spans
    bad[0].trace_id = b"\x00" * 16
    collector = assembler(clock)
    assert collector.add(request) == 1
    bad[0].trace_id, bad[0].span_id = b"\x01" * 16, b"short"
    assert collector.add(request) == 1
    assert collector.stats.snapshot()["rejected_spans"] == 2


def test_drain_hands_out_unsettled_roots_and_counts_orphans_as_dropped(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    complete = one_request(tracer, memory)
    orphan = one_request(tracer, memory)
    collector = assembler(clock, settle_seconds=1000)
    collector.add(request_of(complete[1]))
    collector.add(request_of(orphan[1][:1]))
    [finished] = collector.drain()
    assert finished.trace_id == complete[0]
    assert collector.pending_traces == 0
    assert collector.pending_bytes == 0
    assert collector.stats.snapshot()["dropped_at_shutdown"] == 1


def test_spans_are_regrouped_by_resource_and_scope(
    tracer: Tracer, memory: InMemorySpanExporter, clock: Clock
) -> None:
    _, spans = one_request(tracer, memory)
    request = request_of(spans)
    # The same spans, but the children come from another instrumentation scope.
    moved = request.resource_spans[0].scope_spans.add()
    moved.scope.name = "pymongo"
    original = request.resource_spans[0].scope_spans[0]
    children = [s for s in original.spans if s.parent_span_id]
    moved.spans.extend(children)
    root = [s for s in original.spans if not s.parent_span_id]
    del original.spans[:]
    original.spans.extend(root)
    collector = assembler(clock, settle_seconds=0)
    collector.add(request)
    [finished] = collector.due()
    [resource_spans] = finished.data.resource_spans
    assert [ss.scope.name for ss in resource_spans.scope_spans] == ["tests.unit", "pymongo"]
    assert [len(ss.spans) for ss in resource_spans.scope_spans] == [1, 2]
    resource = {kv.key: kv.value.string_value for kv in resource_spans.resource.attributes}
    assert resource["service.name"] == "shop"
