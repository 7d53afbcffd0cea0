"""Received spans: which are local roots, which ids are valid, how they regroup."""

from __future__ import annotations

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.trace.v1.trace_pb2 import Span, SpanFlags

from timetracer import attributes as attr
from timetracer.receiver.spans import has_valid_ids, held_spans, is_local_root, traces_data

HAS_IS_REMOTE = SpanFlags.SPAN_FLAGS_CONTEXT_HAS_IS_REMOTE_MASK
IS_REMOTE = SpanFlags.SPAN_FLAGS_CONTEXT_IS_REMOTE_MASK
TRACE = b"\x0a" * 16
PARENT = b"\x0b" * 8


@pytest.mark.parametrize(
    ("parent", "flags", "root"),
    [
        (b"", 0, True),
        (b"", HAS_IS_REMOTE, True),
        (PARENT, HAS_IS_REMOTE | IS_REMOTE, True),
        (PARENT, HAS_IS_REMOTE, False),
        # Without the "has is_remote" bit the flag means nothing: treat the parent as local.
        (PARENT, IS_REMOTE, False),
        (PARENT, 0, False),
    ],
)
def test_a_local_root_has_no_parent_or_a_parent_flagged_remote(
    parent: bytes, flags: int, root: bool
) -> None:
    assert is_local_root(Span(parent_span_id=parent, flags=flags)) is root


@pytest.mark.parametrize(
    ("trace_id", "span_id", "parent", "valid"),
    [
        (TRACE, b"\x01" * 8, b"", True),
        (TRACE, b"\x01" * 8, PARENT, True),
        (b"\x00" * 16, b"\x01" * 8, b"", False),
        (TRACE, b"\x00" * 8, b"", False),
        (TRACE[:8], b"\x01" * 8, b"", False),
        (TRACE, b"\x01" * 4, b"", False),
        (TRACE, b"\x01" * 8, b"\x01", False),
    ],
)
def test_ids_must_have_their_otlp_lengths_and_not_be_zero(
    trace_id: bytes, span_id: bytes, parent: bytes, valid: bool
) -> None:
    span = Span(trace_id=trace_id, span_id=span_id, parent_span_id=parent)
    assert has_valid_ids(span) is valid


def test_held_spans_read_ids_payload_and_origin_and_regroup_losslessly() -> None:
    request = ExportTraceServiceRequest()
    resource_spans = request.resource_spans.add(schema_url="https://schemas/1")
    resource_spans.resource.attributes.add(key="service.name").value.string_value = "shop"
    scope_spans = resource_spans.scope_spans.add()
    scope_spans.scope.name = "pymongo"
    with_payload = scope_spans.spans.add(trace_id=TRACE, span_id=b"\x01" * 8, name="find")
    with_payload.attributes.add(key=attr.MONGO_COMMAND).value.bytes_value = b"\x05\0\0\0\0"
    scope_spans.spans.add(trace_id=TRACE, span_id=b"\x02" * 8, parent_span_id=PARENT)
    scope_spans.spans.add(trace_id=b"", span_id=b"\x03" * 8)
    held = list(held_spans(request))
    assert held[2] is None
    first, second = held[0], held[1]
    assert first is not None and second is not None
    assert (first.trace_id, first.root, first.payload) == (int.from_bytes(TRACE, "big"), True, True)
    assert (second.parent_id, second.root, second.payload) == (PARENT, False, False)
    assert first.size > len(first.raw)
    rebuilt = traces_data([first, second])
    assert list(rebuilt.resource_spans) == [
        type(resource_spans)(
            resource=resource_spans.resource,
            schema_url="https://schemas/1",
            scope_spans=[type(scope_spans)(scope=scope_spans.scope, spans=scope_spans.spans[:2])],
        )
    ]
