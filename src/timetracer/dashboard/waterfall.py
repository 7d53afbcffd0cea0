"""The spans of a cassette laid out on a time axis, as plain JSON for the dashboard's waterfall.

Every span of the trace is kept (the server span, the ASGI send/receive spans, each MongoDB
command), in tree order: a parent, then its children by start time. Times are milliseconds from
the earliest span's start, so the page only scales them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from timetracer.cassette.model import Cassette

MAX_SPANS = 2000
"""Spans drawn at most; a trace with more reports how many it left out."""

_KINDS = {
    Span.SPAN_KIND_INTERNAL: "internal",
    Span.SPAN_KIND_SERVER: "server",
    Span.SPAN_KIND_CLIENT: "client",
    Span.SPAN_KIND_PRODUCER: "producer",
    Span.SPAN_KIND_CONSUMER: "consumer",
}


def _spans(cassette: Cassette) -> list[Span]:
    return [
        span
        for resource_spans in cassette.data.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]


def _tree_order(spans: list[Span]) -> Iterator[tuple[Span, int]]:
    """Each span with its depth, parents before children, siblings by start time."""
    ids = {span.span_id for span in spans}
    children: dict[bytes, list[Span]] = {}
    roots: list[Span] = []
    for span in spans:
        parent = span.parent_span_id
        if parent and parent in ids and parent != span.span_id:
            children.setdefault(span.parent_span_id, []).append(span)
        else:
            roots.append(span)
    by_start = lambda span: (span.start_time_unix_nano, span.end_time_unix_nano)  # noqa: E731
    # An explicit stack rather than recursion: a deep (or crafted) trace cannot hit the
    # recursion limit, and a cycle of parent ids cannot loop because each span is seen once.
    seen: set[bytes] = set()
    stack = [(root, 0) for root in sorted(roots, key=by_start, reverse=True)]
    # Spans caught in a parent cycle have no root above them; they are drawn after the rest.
    rest = sorted(spans, key=by_start, reverse=True)
    while stack or rest:
        if not stack:
            stack.append((rest.pop(), 0))
        span, depth = stack.pop()
        if span.span_id in seen:
            continue
        seen.add(span.span_id)
        yield span, depth
        kids = sorted(children.get(span.span_id, ()), key=by_start, reverse=True)
        stack.extend((kid, depth + 1) for kid in kids)


def waterfall(cassette: Cassette, limit: int = MAX_SPANS) -> dict[str, Any]:
    """``{total_ms, spans: [{span_id, parent_id, name, kind, depth, start_ms, duration_ms,
    error, call}], omitted}``; ``call`` is the index of the span's entry in the detail's
    ``calls`` (None for spans that are not dependency calls)."""
    spans = _spans(cassette)
    if not spans:
        return {"total_ms": 0.0, "spans": [], "omitted": 0}
    origin = min(span.start_time_unix_nano for span in spans)
    end = max(max(span.end_time_unix_nano, span.start_time_unix_nano) for span in spans)
    calls = {call.span_id: index for index, call in enumerate(cassette.calls)}
    rows: list[dict[str, Any]] = []
    for span, depth in _tree_order(spans):
        if len(rows) == limit:
            break
        span_id = span.span_id.hex()
        call = calls.get(span_id)
        name, failed = span.name, False
        if call is not None:
            recorded = cassette.calls[call]
            failed = recorded.failed
            target = ".".join(part for part in (recorded.database, recorded.collection) if part)
            name = f"{recorded.command_name} {target}".strip()
        rows.append(
            {
                "span_id": span_id,
                "parent_id": span.parent_span_id.hex() or None,
                "name": name,
                "kind": _KINDS.get(span.kind, "unspecified"),
                "depth": depth,
                "start_ms": round((span.start_time_unix_nano - origin) / 1e6, 3),
                "duration_ms": round(
                    max(span.end_time_unix_nano - span.start_time_unix_nano, 0) / 1e6, 3
                ),
                "error": failed or span.status.code == span.status.STATUS_CODE_ERROR,
                "call": call,
            }
        )
    return {
        "total_ms": round((end - origin) / 1e6, 3),
        "spans": rows,
        "omitted": len(spans) - len(rows),
    }
