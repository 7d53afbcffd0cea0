"""OTLP/JSON for ``TracesData``: protobuf JSON mapping, except that trace and span ids are hex.

The OTLP specification writes ``traceId``, ``spanId`` and ``parentSpanId`` as hex strings where
protobuf's own JSON mapping would use base64; everything else (attribute ``bytesValue`` included)
follows the protobuf mapping. This is the form trace viewers and the Collector's
``otlpjsonfile`` receiver read.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from typing import Any, TypeVar

from google.protobuf import json_format
from google.protobuf.message import Message
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

_ID_KEYS = ("traceId", "spanId", "parentSpanId")
_Traces = TypeVar("_Traces", bound=Message)


def _convert_ids(document: dict[str, Any], convert: Callable[[str], str]) -> None:
    for resource_spans in _objects(document, "resourceSpans"):
        for scope_spans in _objects(resource_spans, "scopeSpans"):
            for span in _objects(scope_spans, "spans"):
                for holder in (span, *_objects(span, "links")):
                    for key in _ID_KEYS:
                        value = holder.get(key)
                        if not value:
                            continue
                        if not isinstance(value, str):
                            raise ValueError(f"{key} must be a string, not {value!r}")
                        holder[key] = convert(value)


def _objects(parent: dict[str, Any], key: str) -> list[dict[str, Any]]:
    # Input may be any JSON at all: a wrong shape must be a ValueError, never an AttributeError.
    items = parent.get(key) or []
    if not isinstance(items, list) or not all(isinstance(item, dict) for item in items):
        raise ValueError(f"{key} must be a list of objects")
    return items


def _b64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def _hex_to_b64(value: str) -> str:
    return base64.b64encode(bytes.fromhex(value)).decode()


def traces_data_to_json(data: TracesData, *, indent: int | None = None) -> str:
    """``TracesData`` as OTLP/JSON text."""
    document = json_format.MessageToDict(data, preserving_proto_field_name=False)
    _convert_ids(document, _b64_to_hex)
    return json.dumps(document, indent=indent)


def traces_data_from_json(text: str | bytes) -> TracesData:
    """Parse OTLP/JSON text; raises ``ValueError`` (or ``json_format.ParseError``) when invalid."""
    return parse_otlp_json(text, TracesData())


def parse_otlp_json(
    text: str | bytes, message: _Traces, *, ignore_unknown_fields: bool = False
) -> _Traces:
    """Fill ``message`` (``TracesData`` or an ``ExportTraceServiceRequest``, which share their
    one field) from OTLP/JSON text and return it.

    ``ignore_unknown_fields`` is what an OTLP receiver needs: the specification tells receivers
    to skip fields a newer sender adds. Raises ``ValueError`` (or ``json_format.ParseError``)
    when the text is not valid OTLP/JSON.
    """
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("OTLP/JSON must be an object with resourceSpans")
    _convert_ids(document, _hex_to_b64)
    json_format.ParseDict(document, message, ignore_unknown_fields=ignore_unknown_fields)
    return message
