"""OTLP/HTTP response bodies: ``ExportTraceServiceResponse`` on success, ``google.rpc.Status``
on failure, each in the encoding of the request (the OTLP/HTTP specification asks for both).
"""

from __future__ import annotations

import json

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from timetracer.receiver.decode import JSON_TYPE, PROTOBUF_TYPE, Encoding

# gRPC status codes for the HTTP statuses this receiver answers, mapped like the Collector's
# own OTLP receiver (InvalidArgument, Unauthenticated, ...); anything else is Unknown.
_GRPC_CODES = {400: 3, 401: 16, 404: 5, 411: 3, 413: 8, 415: 3, 429: 8, 503: 14}
_UNKNOWN = 2


def content_type(encoding: Encoding) -> str:
    """The ``Content-Type`` of a response in ``encoding``."""
    return JSON_TYPE if encoding == "json" else PROTOBUF_TYPE


def success_body(encoding: Encoding, rejected_spans: int = 0, message: str = "") -> bytes:
    """An ``ExportTraceServiceResponse``; ``rejected_spans`` fills its partial-success part."""
    response = ExportTraceServiceResponse()
    if rejected_spans:
        response.partial_success.rejected_spans = rejected_spans
        response.partial_success.error_message = message
    if encoding == "json":
        return json_format.MessageToJson(response, indent=None).encode()
    return response.SerializeToString()


def error_body(encoding: Encoding, status: int, message: str) -> bytes:
    """A ``google.rpc.Status`` (``code``, ``message``) for an HTTP error ``status``."""
    code = _GRPC_CODES.get(status, _UNKNOWN)
    if encoding == "json":
        return json.dumps({"code": code, "message": message}).encode()
    # google.rpc.Status is not among timetracer's dependencies; its two scalar fields are
    # simple to write by hand: field 1 varint code, field 2 length-delimited UTF-8 message.
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low, value = value & 0x7F, value >> 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)
