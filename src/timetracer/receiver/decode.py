"""Turning an OTLP/HTTP request body into an ``ExportTraceServiceRequest``, or refusing it.

Every refusal is a :class:`RequestRejected` carrying the HTTP status OTLP/HTTP prescribes:
415 for a media type or content coding this receiver does not speak, 413 for a body (or its
decompressed form) over the size limit, 400 for anything that does not parse.
"""

from __future__ import annotations

import zlib
from typing import Literal

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from timetracer.cassette.otlp_json import parse_otlp_json
from timetracer.errors import RequestRejected

Encoding = Literal["protobuf", "json"]

PROTOBUF_TYPE = "application/x-protobuf"
JSON_TYPE = "application/json"
CONTENT_CODINGS = ("gzip", "deflate")
"""Content codings accepted besides ``identity``; ``x-gzip`` and ``zlib`` are aliases."""

_MEDIA_TYPES: dict[str, Encoding] = {PROTOBUF_TYPE: "protobuf", JSON_TYPE: "json"}
_GZIP = zlib.MAX_WBITS | 16
_ZLIB = zlib.MAX_WBITS
_RAW_DEFLATE = -zlib.MAX_WBITS
_CHUNK = 64 * 1024


def request_encoding(content_type: str | None) -> Encoding | None:
    """``protobuf`` or ``json`` for a ``Content-Type`` header (parameters ignored), else None."""
    if not content_type:
        return None
    media_type = content_type.split(";", 1)[0].strip().lower()
    return _MEDIA_TYPES.get(media_type)


def decompress_body(body: bytes, content_encoding: str | None, limit: int) -> bytes:
    """Undo the ``Content-Encoding`` of ``body``, refusing output larger than ``limit`` bytes.

    The output is produced at most ``limit + 1`` bytes at a time, so a decompression bomb costs
    no more memory than an honest body at the limit.
    """
    coding = (content_encoding or "identity").strip().lower()
    if coding == "identity":
        return body
    if coding in ("gzip", "x-gzip"):
        return _inflate(body, _GZIP, limit, coding)
    if coding in ("deflate", "zlib"):
        # HTTP's "deflate" is zlib-wrapped (RFC 9110); some clients send raw deflate anyway.
        wbits = _ZLIB if _looks_like_zlib(body) else _RAW_DEFLATE
        return _inflate(body, wbits, limit, coding)
    raise RequestRejected(
        415, f"unsupported Content-Encoding {content_encoding!r}: use gzip, deflate or none"
    )


def decode_request(
    body: bytes, encoding: Encoding, content_encoding: str | None, limit: int
) -> ExportTraceServiceRequest:
    """Decompress and parse one ``/v1/traces`` body."""
    payload = decompress_body(body, content_encoding, limit)
    if encoding == "json":
        try:
            return parse_otlp_json(payload, ExportTraceServiceRequest(), ignore_unknown_fields=True)
        except (ValueError, json_format.ParseError, RecursionError) as exc:
            # ValueError covers bad JSON, bad UTF-8 and bad hex or base64 ids.
            raise RequestRejected(400, f"invalid OTLP/JSON: {_short(exc)}") from exc
    try:
        return ExportTraceServiceRequest.FromString(payload)
    except (DecodeError, RecursionError) as exc:
        raise RequestRejected(400, f"invalid OTLP protobuf: {_short(exc)}") from exc


def _looks_like_zlib(body: bytes) -> bool:
    # RFC 1950: compression method 8 in the low nibble, header checksum divisible by 31.
    return len(body) >= 2 and body[0] & 0x0F == 8 and (body[0] << 8 | body[1]) % 31 == 0


def _inflate(body: bytes, wbits: int, limit: int, coding: str) -> bytes:
    out = bytearray()
    data = body
    try:
        while True:
            decompressor = zlib.decompressobj(wbits)
            while data:
                out += decompressor.decompress(data, limit + 1 - len(out))
                if len(out) > limit:
                    raise RequestRejected(413, f"body decompresses to more than {limit} bytes")
                data = decompressor.unconsumed_tail
                if decompressor.eof:
                    break
            if not decompressor.eof:
                raise RequestRejected(400, f"{coding} body is truncated")
            # A gzip body may hold several members back to back (RFC 1952); anything else
            # after the end of the stream is garbage.
            data = decompressor.unused_data
            if not data:
                return bytes(out)
            if wbits != _GZIP:
                raise RequestRejected(400, f"{coding} body has data after the end of the stream")
    except zlib.error as exc:
        raise RequestRejected(400, f"{coding} body is corrupt ({exc})") from exc


def _short(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text if len(text) <= 200 else text[:197] + "..."
