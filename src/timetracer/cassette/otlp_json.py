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
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _convert_ids(document: dict[str, Any], convert: Callable[[str], str]) -> None:
    for resource_spans in document.get("resourceSpans", ()):
        for scope_spans in resource_spans.get("scopeSpans", ()):
            for span in scope_spans.get("spans", ()):
                for holder in (span, *span.get("links", ())):
                    for key in _ID_KEYS:
                        if holder.get(key):
                            holder[key] = convert(holder[key])


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
    document = json.loads(text)
    if not isinstance(document, dict):
        raise ValueError("OTLP/JSON must be an object with resourceSpans")
    _convert_ids(document, _hex_to_b64)
    data = TracesData()
    json_format.ParseDict(document, data)
    return data
