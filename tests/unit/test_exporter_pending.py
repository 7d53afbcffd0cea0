"""``timetracer_exporter.pending``: spans waiting for their root, bounded by count and bytes."""

from __future__ import annotations

from typing import Any

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanContext

from timetracer import attributes as attr
from timetracer_exporter.pending import PendingTraces, payload_bytes


def span(trace_id: int, span_id: int = 1, **attributes: Any) -> ReadableSpan:
    return ReadableSpan(
        name="span", context=SpanContext(trace_id, span_id, is_remote=False), attributes=attributes
    )


def big(trace_id: int, size: int) -> ReadableSpan:
    return span(trace_id, **{attr.MONGO_REPLY: b"x" * size})


def test_spans_are_grouped_by_trace_and_popped_in_arrival_order() -> None:
    pending = PendingTraces()
    a1, b1, a2 = span(1, 1), span(2, 2), span(1, 3)
    for item in (a1, b1, a2):
        pending.add(item.context.trace_id, item)

    assert pending.pop(1) == [a1, a2]
    assert pending.pop(1) == []
    assert len(pending) == 1


def test_payload_bytes_count_only_timetracer_attributes_plus_an_overhead() -> None:
    item = span(1, **{attr.HTTP_REQUEST_BODY: b"x" * 100, "http.url": "y" * 1000})

    assert payload_bytes(item) == 512 + 100


def test_over_the_trace_limit_the_oldest_whole_traces_are_evicted() -> None:
    pending = PendingTraces(max_traces=2)

    assert pending.add(1, span(1)) == []
    assert pending.add(2, span(2)) == []
    assert pending.add(1, span(1, 2)) == []
    assert pending.add(3, span(3)) == [1]
    assert pending.pop(1) == []
    assert len(pending) == 2


def test_over_the_byte_limit_the_oldest_traces_are_evicted_and_bytes_released() -> None:
    pending = PendingTraces(max_bytes=10_000)
    pending.add(1, big(1, 4_000))
    pending.add(2, big(2, 4_000))

    evicted = pending.add(3, big(3, 4_000))

    assert evicted == [1]
    assert pending.bytes == 2 * (512 + 4_000)


def test_a_single_trace_over_the_byte_limit_is_kept() -> None:
    pending = PendingTraces(max_bytes=1_000)

    assert pending.add(1, big(1, 5_000)) == []
    assert len(pending.pop(1)) == 1
    assert pending.bytes == 0


def test_clear_drops_everything_and_says_how_many() -> None:
    pending = PendingTraces()
    pending.add(1, big(1, 10))
    pending.add(2, big(2, 10))

    assert pending.clear() == 2
    assert len(pending) == 0
    assert pending.bytes == 0
