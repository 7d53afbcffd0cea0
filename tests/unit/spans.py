"""Spans shaped the way timetracer records them, built on a local ``TracerProvider``.

Nothing here touches the global tracer provider: every test gets its own provider whose
spans go to the exporters it names.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import bson
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer, use_span

from timetracer import attributes as attr
from timetracer.cassette.encoding import encode_cassette, spans_to_traces_data
from timetracer.cassette.naming import cassette_name
from timetracer.cassette.store import write_atomic

START_NS = 1_700_000_000_123_000_000
"""2023-11-14T22:13:20.123Z, the start of every request these helpers record by default."""

JSON_HEADERS = (("content-type", "application/json"),)


def local_provider(*exporters: SpanExporter) -> TracerProvider:
    """A provider that hands every finished span to ``exporters``, one span at a time."""
    provider = TracerProvider(
        resource=Resource.create({"service.name": "shop"}), shutdown_on_exit=False
    )
    for exporter in exporters:
        provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider


def flat(pairs: Sequence[tuple[str, str]]) -> tuple[str, ...]:
    """Header pairs as the flat ``name, value, ...`` tuple timetracer stores."""
    return tuple(item for pair in pairs for item in pair)


def http_attributes(
    method: str = "GET",
    path: str = "/items/7",
    route: str = "/items/{item_id}",
    status: int = 200,
    *,
    query: str = "",
    request_headers: Sequence[tuple[str, str]] = (("accept", "application/json"),),
    request_body: bytes = b"",
    response_headers: Sequence[tuple[str, str]] = JSON_HEADERS,
    response_body: bytes = b'{"id": 7}',
    response_body_size: int | None = None,
) -> dict[str, Any]:
    """The ``timetracer.payload.http.*`` attributes of a recorded server span."""
    return {
        attr.HTTP_METHOD: method,
        attr.HTTP_PATH: path,
        attr.HTTP_QUERY: query,
        attr.HTTP_ROUTE: route,
        attr.HTTP_REQUEST_HEADERS: flat(request_headers),
        attr.HTTP_REQUEST_BODY: request_body,
        attr.HTTP_REQUEST_BODY_SIZE: len(request_body),
        attr.HTTP_STATUS: status,
        attr.HTTP_RESPONSE_HEADERS: flat(response_headers),
        attr.HTTP_RESPONSE_BODY: response_body,
        attr.HTTP_RESPONSE_BODY_SIZE: (
            len(response_body) if response_body_size is None else response_body_size
        ),
    }


def mongo_attributes(
    command: Mapping[str, Any],
    *,
    reply: Mapping[str, Any] | None = None,
    failure: Mapping[str, Any] | None = None,
    database: str = "shop",
    reply_size: int | None = None,
) -> dict[str, Any]:
    """The ``timetracer.payload.mongo.*`` attributes of a recorded command span.

    ``reply_size`` records the reply as over the cap: only its size is stored.
    """
    attributes: dict[str, Any] = {
        attr.MONGO_DATABASE: database,
        attr.MONGO_COMMAND_NAME: next(iter(command)),
        attr.MONGO_COMMAND: bson.encode(command),
        "db.collection.name": str(next(iter(command.values()))),
    }
    if failure is not None:
        attributes[attr.MONGO_FAILURE] = bson.encode(failure)
    elif reply_size is not None:
        attributes[attr.MONGO_REPLY_SIZE] = reply_size
    elif reply is not None:
        attributes[attr.MONGO_REPLY] = bson.encode(reply)
    return attributes


def record_request(
    tracer: Tracer,
    *,
    calls: Sequence[Mapping[str, Any]] = (),
    start_ns: int = START_NS,
    duration_ms: int = 25,
    error: str | None = None,
    **http: Any,
) -> int:
    """Record one request: a SERVER root with ``http_attributes(**http)`` and one CLIENT child
    per entry of ``calls`` (each ``mongo_attributes`` output), 1 ms apart. Returns the trace id.

    ``error`` ends the root with an exception event and an ERROR status.
    """
    root = tracer.start_span(
        "request", kind=SpanKind.SERVER, attributes=http_attributes(**http), start_time=start_ns
    )
    with use_span(root, end_on_exit=False):
        for index, call in enumerate(calls):
            begin = start_ns + (index + 1) * 1_000_000
            child = tracer.start_span(
                "mongo", kind=SpanKind.CLIENT, attributes=dict(call), start_time=begin
            )
            child.end(end_time=begin + 500_000)
    if error is not None:
        root.record_exception(RuntimeError(error))
        root.set_status(Status(StatusCode.ERROR, error))
    root.end(end_time=start_ns + duration_ms * 1_000_000)
    return root.get_span_context().trace_id


def spans_of(spans: Sequence[ReadableSpan], trace_id: int) -> list[ReadableSpan]:
    """The spans of one trace."""
    return [span for span in spans if span.context.trace_id == trace_id]


def write_cassette(
    directory: Path, spans: Sequence[ReadableSpan], compression: str = "gzip"
) -> Path:
    """Write ``spans`` as one cassette, named the way the exporter names it."""
    # The local root: no parent, or one in another process (a traceparent header).
    root = next(span for span in spans if span.parent is None or span.parent.is_remote)
    attributes = root.attributes or {}
    name = cassette_name(
        str(attributes.get(attr.HTTP_METHOD, "SPAN")),
        str(attributes.get(attr.HTTP_ROUTE, root.name)),
        root.context.trace_id,
        root.start_time or 0,
    )
    payload = encode_cassette(spans_to_traces_data(spans), compression)
    return write_atomic(directory, name, payload)
