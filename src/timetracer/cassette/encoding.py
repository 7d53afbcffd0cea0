"""Turning finished SDK spans into cassette bytes, and cassette bytes back into ``TracesData``.

Encoding uses the OTLP exporter's own span encoder (``opentelemetry-exporter-otlp-proto-common``)
so a cassette is byte-for-byte what an OTLP exporter would have sent, wrapped as ``TracesData``
and stamped with the cassette format version. The exporter's hot path writes the same bytes
directly with :func:`serialize_spans` (see ``otlp_proto``), several times faster.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from timetracer.attributes import FORMAT_VERSION
from timetracer.cassette.compression import compress, decompress
from timetracer.cassette.otlp_json import traces_data_from_json
from timetracer.cassette.otlp_proto import SpanEncoder, Unsupported
from timetracer.errors import CassetteFormatError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

CURRENT_FORMAT_VERSION = 1
"""The cassette format this release writes and the newest it reads."""


def stamp(data: TracesData) -> TracesData:
    """Mark every resource of ``data`` with the current format version (in place)."""
    for resource_spans in data.resource_spans:
        attributes = resource_spans.resource.attributes
        if not any(kv.key == FORMAT_VERSION for kv in attributes):
            attributes.append(
                KeyValue(key=FORMAT_VERSION, value=AnyValue(int_value=CURRENT_FORMAT_VERSION))
            )
    return data


def spans_to_traces_data(spans: Sequence[ReadableSpan]) -> TracesData:
    """One ``TracesData`` message for the given spans, stamped with the format version."""
    # Imported here: it loads the whole SDK, which reading cassettes (list, show) never needs.
    from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans

    request = encode_spans(spans)
    return stamp(TracesData(resource_spans=request.resource_spans))


def span_encoder() -> SpanEncoder:
    """A fast span encoder; keep one per exporter (it caches keys, resources and scopes)."""
    return SpanEncoder(CURRENT_FORMAT_VERSION)


def serialize_spans(spans: Sequence[ReadableSpan], encoder: SpanEncoder | None = None) -> bytes:
    """``spans_to_traces_data(spans).SerializeToString()``, byte for byte, written directly."""
    try:
        return (encoder or span_encoder()).traces_data(spans)
    except Unsupported:
        # An unusual value: the contrib encoder decides what becomes of it, as it always did.
        return spans_to_traces_data(spans).SerializeToString()


def encode_cassette(data: TracesData, compression: str) -> bytes:
    """Serialize and compress a cassette."""
    return compress(data.SerializeToString(), compression)


def decode_cassette(raw: bytes, source: object = None) -> TracesData:
    """Parse cassette bytes (any compression; protobuf or OTLP/JSON) and check the version."""
    if not raw:
        raise CassetteFormatError(source, "empty file")
    payload = decompress(raw, source=source)
    data = _parse(payload, source)
    if not any(rs.scope_spans for rs in data.resource_spans):
        raise CassetteFormatError(source, "holds no spans: not a cassette")
    version = format_version(data)
    if version > CURRENT_FORMAT_VERSION:
        raise CassetteFormatError(
            source,
            f"cassette format version {version} is newer than this timetracer reads "
            f"(up to {CURRENT_FORMAT_VERSION}): upgrade timetracer to read it",
        )
    return data


def _parse(payload: bytes, source: object) -> TracesData:
    data = TracesData()
    json_error: Exception | None = None
    if payload.lstrip()[:1] == b"{":
        try:
            return traces_data_from_json(payload)
        except (ValueError, json_format.ParseError) as exc:
            # Protobuf bytes can begin like JSON (a 123-byte first field starts "\n{"), so a
            # failed JSON parse falls through to protobuf before giving up.
            json_error = exc
    try:
        data.ParseFromString(payload)
    except DecodeError as exc:
        if json_error is not None:
            raise CassetteFormatError(source, f"invalid OTLP/JSON ({json_error})") from json_error
        raise CassetteFormatError(source, f"not an OTLP TracesData message ({exc})") from exc
    if json_error is not None and not any(rs.scope_spans for rs in data.resource_spans):
        raise CassetteFormatError(source, f"invalid OTLP/JSON ({json_error})") from json_error
    return data


def format_version(data: TracesData) -> int:
    """The format version stamped on ``data``; files without a stamp count as version 1."""
    for resource_spans in data.resource_spans:
        for kv in resource_spans.resource.attributes:
            if kv.key == FORMAT_VERSION:
                return int(kv.value.int_value)
    return 1
