"""Received spans as the assembler holds them: serialized, with what grouping needs read out.

A held span keeps its bytes rather than the protobuf object, so its memory is known exactly
and the (possibly huge) export request it came in can be freed at once.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import (
    ResourceSpans,
    ScopeSpans,
    Span,
    SpanFlags,
    TracesData,
)

from timetracer.attributes import PREFIX

_HAS_IS_REMOTE = SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
_IS_REMOTE = SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
# Bookkeeping per held span (ids, dict entries) on top of its serialized bytes.
_SPAN_OVERHEAD = 256


def is_local_root(span: Span) -> bool:
    """Whether ``span`` starts a local trace: no parent, or a parent flagged remote."""
    if not span.parent_span_id:
        return True
    return bool(span.flags & _HAS_IS_REMOTE) and bool(span.flags & _IS_REMOTE)


def has_valid_ids(span: Span) -> bool:
    """A 16-byte non-zero trace id, an 8-byte non-zero span id, an empty or 8-byte parent."""
    return (
        len(span.trace_id) == 16
        and any(span.trace_id)
        and len(span.span_id) == 8
        and any(span.span_id)
        and len(span.parent_span_id) in (0, 8)
    )


@dataclass(frozen=True)
class Origin:
    """Where a span came from: its resource and instrumentation scope, serialized."""

    resource: bytes
    resource_schema: str
    scope: bytes
    scope_schema: str


@dataclass(frozen=True)
class HeldSpan:
    """One received span."""

    trace_id: int
    span_id: bytes
    parent_id: bytes
    root: bool
    """Whether it is a local root (see :func:`is_local_root`)."""
    origin: Origin
    raw: bytes
    payload: bool
    """Whether it carries a ``timetracer.payload.*`` attribute."""

    @property
    def size(self) -> int:
        """Approximate memory held for this span."""
        return len(self.raw) + _SPAN_OVERHEAD


def held_spans(request: ExportTraceServiceRequest) -> Iterator[HeldSpan | None]:
    """Every span of ``request`` as a :class:`HeldSpan`; None for a span with invalid ids."""
    for resource_spans in request.resource_spans:
        resource = resource_spans.resource.SerializeToString(deterministic=True)
        for scope_spans in resource_spans.scope_spans:
            origin = Origin(
                resource,
                resource_spans.schema_url,
                scope_spans.scope.SerializeToString(deterministic=True),
                scope_spans.schema_url,
            )
            for span in scope_spans.spans:
                if not has_valid_ids(span):
                    yield None
                    continue
                yield HeldSpan(
                    trace_id=int.from_bytes(span.trace_id, "big"),
                    span_id=span.span_id,
                    parent_id=span.parent_span_id,
                    root=is_local_root(span),
                    origin=origin,
                    raw=span.SerializeToString(),
                    payload=any(kv.key.startswith(PREFIX) for kv in span.attributes),
                )


def traces_data(spans: list[HeldSpan]) -> TracesData:
    """Spans regrouped by resource, then scope, in order of first appearance (as the SDK's
    OTLP encoder groups them)."""
    data = TracesData()
    resources: dict[tuple[bytes, str], ResourceSpans] = {}
    scopes: dict[Origin, ScopeSpans] = {}
    for held in spans:
        origin = held.origin
        scope_spans = scopes.get(origin)
        if scope_spans is None:
            key = (origin.resource, origin.resource_schema)
            resource_spans = resources.get(key)
            if resource_spans is None:
                resource_spans = resources[key] = data.resource_spans.add()
                resource_spans.resource.MergeFromString(origin.resource)
                resource_spans.schema_url = origin.resource_schema
            scope_spans = scopes[origin] = resource_spans.scope_spans.add()
            scope_spans.scope.MergeFromString(origin.scope)
            scope_spans.schema_url = origin.scope_schema
        scope_spans.spans.add().MergeFromString(held.raw)
    return data
