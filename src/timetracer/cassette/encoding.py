"""Turning finished SDK spans into cassette bytes, and cassette bytes back into ``TracesData``.

Encoding uses the OTLP exporter's own span encoder (``opentelemetry-exporter-otlp-proto-common``)
so a cassette is byte-for-byte what an OTLP exporter would have sent, wrapped as ``TracesData``
and stamped with the cassette format version. The exporter's hot path writes the same bytes
directly with :func:`serialize_spans` (see ``otlp_proto``), several times faster.
"""

from __future__ import annotations

import re
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
# Whitespace (bytes.strip()'s set), then a brace; matched in place: protobuf payloads start
# with a newline byte, and stripping would copy the whole payload to look at one byte.
_JSON_START = re.compile(rb"[ \t\n\r\x0b\x0c]*\{")


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
    data = parse_payload(cassette_payload(raw, source), source)
    check_contents(data, source)
    return data


def cassette_payload(raw: bytes, source: object = None) -> bytes:
    """A cassette file's bytes with the compression undone: protobuf or OTLP/JSON."""
    if not raw:
        raise CassetteFormatError(source, "empty file")
    return decompress(raw, source=source)


def looks_like_json(payload: bytes) -> bool:
    """Whether a payload may be OTLP/JSON (protobuf bytes can too: see ``parse_payload``)."""
    return _JSON_START.match(payload) is not None


def check_contents(data: TracesData, source: object) -> None:
    """Refuse a parsed cassette that holds no spans, or whose format is newer than this
    release reads."""
    if not any(rs.scope_spans for rs in data.resource_spans):
        raise CassetteFormatError(source, "holds no spans: not a cassette")
    check_version(format_version(data), source)


def check_version(version: int, source: object) -> None:
    """Refuse a cassette format newer than this release reads."""
    if version > CURRENT_FORMAT_VERSION:
        raise CassetteFormatError(
            source,
            f"cassette format version {version} is newer than this timetracer reads "
            f"(up to {CURRENT_FORMAT_VERSION}): upgrade timetracer to read it",
        )


def parse_payload(payload: bytes, source: object = None) -> TracesData:
    """The ``TracesData`` of a decompressed cassette, OTLP/JSON or protobuf."""
    data = TracesData()
    json_error: Exception | None = None
    if looks_like_json(payload):
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
