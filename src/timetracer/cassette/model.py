"""The decoded view of a cassette: one HTTP exchange and the dependency calls it made.

A cassette file stays a plain OTLP trace; these classes read the ``timetracer.payload.*``
attributes back out of it. MongoDB documents are kept as the recorded BSON bytes (replay serves
them as they are) and decoded on demand, losslessly.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, TracesData

from timetracer import attributes as attr
from timetracer.errors import CassetteFormatError, MissingDependencyError, TruncatedPayloadError

Headers = tuple[tuple[str, str], ...]


def any_value(value: AnyValue) -> Any:
    """The Python value of an OTLP ``AnyValue``."""
    kind = value.WhichOneof("value")
    if kind is None:
        return None
    if kind == "array_value":
        return tuple([any_value(v) for v in value.array_value.values])
    if kind == "kvlist_value":
        return {kv.key: any_value(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind)


def attributes_of(key_values: Any) -> dict[str, Any]:
    """OTLP attributes as a dict."""
    return {kv.key: any_value(kv.value) for kv in key_values}


def _pairs(flat: Any) -> Headers:
    if not flat:
        return ()
    items = list(_typed(flat, tuple, "headers"))
    if not all(isinstance(item, str) for item in items):
        raise TypeError("headers must be strings")
    return tuple(zip(items[0::2], items[1::2], strict=False))


def _typed(value: Any, kind: type | tuple[type, ...], key: str) -> Any:
    """``value`` if it is None or of ``kind``; a file from elsewhere may hold anything."""
    if value is not None and not isinstance(value, kind):
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wanted = " or ".join(k.__name__ for k in kinds)
        raise TypeError(f"{key} is {type(value).__name__}, not {wanted}")
    return value


@functools.cache
def _bson_decoder() -> tuple[Callable[..., dict[str, Any]], Any, type[Exception]]:
    """``bson.decode``, the lossless options and ``InvalidBSON``, imported and built once.

    Building the ``CodecOptions`` costs three times what decoding a small document does.
    """
    try:
        import bson
        from bson.codec_options import CodecOptions, DatetimeConversion
        from bson.errors import InvalidBSON
    except ImportError:
        raise MissingDependencyError("pymongo (bson)", "pymongo") from None
    options = CodecOptions(
        tz_aware=True, tzinfo=dt.timezone.utc, datetime_conversion=DatetimeConversion.DATETIME_AUTO
    )
    return bson.decode, options, InvalidBSON


def decode_bson(raw: bytes) -> dict[str, Any]:
    """Decode recorded BSON losslessly: aware UTC datetimes, out-of-range dates kept as-is."""
    decode, options, invalid_bson = _bson_decoder()
    try:
        return decode(raw, codec_options=options)
    except invalid_bson as exc:
        # The caller knows the file; CassetteFormatError.at() adds it.
        cause = f"holds a MongoDB document that is not BSON ({exc})"
        raise CassetteFormatError(None, cause) from exc


@dataclass(frozen=True)
class HttpExchange:
    """The recorded request and response."""

    method: str
    route: str
    path: str
    query: str
    request_headers: Headers
    request_body: bytes | None
    request_body_size: int
    status: int | None
    response_headers: Headers
    response_body: bytes | None
    response_body_size: int
    request_body_cut: bool | None = None
    """Recorded truncation mark of the request body (None in files written without it)."""
    response_body_cut: bool | None = None
    """Recorded truncation mark of the response body (None in files written without it)."""

    @property
    def request_truncated(self) -> bool:
        """Whether the stored request body was cut at the size cap."""
        if self.request_body_cut is not None:
            return self.request_body_cut
        return self.request_body is not None and self.request_body_size > len(self.request_body)

    @property
    def response_truncated(self) -> bool:
        """Whether the stored response body was cut at the size cap."""
        if self.response_body_cut is not None:
            return self.response_body_cut
        return self.response_body is not None and self.response_body_size > len(self.response_body)


@dataclass(frozen=True)
class MongoCall:
    """One recorded MongoDB command with its reply or failure."""

    span_id: str
    command_name: str
    database: str
    collection: str | None
    start_ns: int
    end_ns: int
    command_bson: bytes | None
    reply_bson: bytes | None
    failure_bson: bytes | None
    server_bson: bytes | None = None
    command_size: int | None = None
    reply_size: int | None = None
    system: str = field(default="mongodb")

    @property
    def duration_ms(self) -> float:
        """How long the command took when recorded."""
        return (self.end_ns - self.start_ns) / 1e6

    @property
    def failed(self) -> bool:
        """Whether the command failed (as opposed to a reply that carries write errors)."""
        return self.failure_bson is not None

    def _decode(self, raw: bytes | None, what: str, size: int | None) -> dict[str, Any] | None:
        if raw is None and size is not None:
            raise TruncatedPayloadError(
                f"the {what} of {self.command_name} (span {self.span_id}) was {size} bytes, over "
                "TIMETRACER_MAX_REPLY_BYTES when recorded, and was not stored"
            )
        return None if raw is None else decode_bson(raw)

    @property
    def command(self) -> dict[str, Any]:
        """The command document as sent."""
        return self._decode(self.command_bson, "command", self.command_size) or {}

    @property
    def reply(self) -> dict[str, Any] | None:
        """The reply document, or None when the command failed."""
        return self._decode(self.reply_bson, "reply", None if self.failed else self.reply_size)

    @property
    def failure(self) -> dict[str, Any] | None:
        """The failure document, or None when the command succeeded."""
        return self._decode(self.failure_bson, "failure", None)

    @property
    def server(self) -> dict[str, Any] | None:
        """What the server's hello said when recorded (topology, wire versions)."""
        return None if self.server_bson is None else decode_bson(self.server_bson)


class RootFacts:
    """What a full cassette and a list summary both say about the request's root span."""

    start_ns: int
    end_ns: int
    root_status_error: bool
    exchange: HttpExchange | None

    @property
    def duration_ms(self) -> float:
        """Duration of the local root span."""
        return (self.end_ns - self.start_ns) / 1e6

    @property
    def recorded_at(self) -> dt.datetime:
        """When the request started (UTC)."""
        return dt.datetime.fromtimestamp(self.start_ns / 1e9, tz=dt.timezone.utc)

    @property
    def is_error(self) -> bool:
        """Whether the request answered 5xx or its root span ended in error."""
        status = self.exchange.status if self.exchange else None
        return self.root_status_error or (status is not None and status >= 500)


@dataclass(frozen=True)
class Cassette(RootFacts):
    """A decoded cassette: the trace plus the request and calls read from its payloads."""

    data: TracesData = field(repr=False)
    path: Path | None
    trace_id: str
    root_name: str
    start_ns: int
    end_ns: int
    root_status_error: bool
    error: str | None
    exchange: HttpExchange | None
    calls: tuple[MongoCall, ...]
    resource: Mapping[str, Any] = field(default_factory=dict, repr=False)

    def call_counts(self) -> dict[str, int]:
        """Number of recorded calls per system."""
        counts: dict[str, int] = {}
        for call in self.calls:
            counts[call.system] = counts.get(call.system, 0) + 1
        return counts

    @classmethod
    def from_traces_data(cls, data: TracesData, path: Path | None = None) -> Cassette:
        """Read the exchange and the calls out of a ``TracesData`` message."""
        spans: list[Span] = [
            span
            for resource_spans in data.resource_spans
            for scope_spans in resource_spans.scope_spans
            for span in scope_spans.spans
        ]
        if not spans:
            raise CassetteFormatError(path, "holds no spans: not a cassette")
        try:
            return cls._read(data, spans, path)
        except (TypeError, ValueError, OverflowError, OSError) as exc:
            # A file that decodes as OTLP but was not written by timetracer, or was altered.
            raise CassetteFormatError(path, f"not a timetracer recording ({exc})") from exc

    @classmethod
    def _read(cls, data: TracesData, spans: list[Span], path: Path | None) -> Cassette:
        root = root_span(spans)
        root_attrs: dict[str, Any] = {}
        calls: list[MongoCall] = []
        for span in spans:
            found = _decoded(span.attributes, _ROOT_KEYS if span is root else _CALL_KEYS)
            if span is root:
                root_attrs = found
            if attr.MONGO_COMMAND_NAME in found:  # the test _is_mongo() makes
                calls.append(_mongo_call(span, found))
        calls.sort(key=lambda call: call.start_ns)
        resource = (
            attributes_of(data.resource_spans[0].resource.attributes) if data.resource_spans else {}
        )
        # Checked here, not when first shown: a start time no calendar holds is a bad file.
        dt.datetime.fromtimestamp(root.start_time_unix_nano / 1e9, tz=dt.timezone.utc)
        return cls(
            data=data,
            path=path,
            trace_id=root.trace_id.hex(),
            root_name=root.name,
            start_ns=root.start_time_unix_nano,
            end_ns=root.end_time_unix_nano,
            root_status_error=root.status.code == root.status.STATUS_CODE_ERROR,
            error=_exception_of(root),
            exchange=_exchange(root_attrs),
            calls=tuple(calls),
            resource=resource,
        )


# What _exchange() and _mongo_call() read. A cassette holds more (contrib's own attributes,
# db.statement...); decoding only these takes a quarter off the cost of loading one.
_EXCHANGE_KEYS = frozenset(
    {
        attr.HTTP_METHOD,
        attr.HTTP_PATH,
        attr.HTTP_QUERY,
        attr.HTTP_ROUTE,
        attr.HTTP_REQUEST_HEADERS,
        attr.HTTP_REQUEST_BODY,
        attr.HTTP_REQUEST_BODY_SIZE,
        attr.HTTP_REQUEST_BODY_TRUNCATED,
        attr.HTTP_STATUS,
        attr.HTTP_RESPONSE_HEADERS,
        attr.HTTP_RESPONSE_BODY,
        attr.HTTP_RESPONSE_BODY_SIZE,
        attr.HTTP_RESPONSE_BODY_TRUNCATED,
        "http.route",
        "http.response.status_code",
        "http.status_code",
    }
)
_CALL_KEYS = frozenset(
    {
        attr.MONGO_COMMAND_NAME,
        attr.MONGO_DATABASE,
        attr.MONGO_COMMAND,
        attr.MONGO_REPLY,
        attr.MONGO_FAILURE,
        attr.MONGO_SERVER,
        attr.MONGO_COMMAND_SIZE,
        attr.MONGO_REPLY_SIZE,
        "db.mongodb.collection",
        "db.collection.name",
    }
)
_ROOT_KEYS = _EXCHANGE_KEYS | _CALL_KEYS


def request_line(attrs: Mapping[str, Any]) -> tuple[str, str, str, int | None] | None:
    """Method, route, path and status of a root span's decoded attributes; None when the root
    is not a request. What ``timetracer list`` shows, and the start of ``_exchange()``."""
    if attr.HTTP_METHOD not in attrs:
        return None
    path = _typed(attrs.get(attr.HTTP_PATH, "/"), str, attr.HTTP_PATH)
    route = _typed(attrs.get(attr.HTTP_ROUTE), str, attr.HTTP_ROUTE)
    status = attrs.get(attr.HTTP_STATUS)
    if status is None:
        status = attrs.get("http.response.status_code", attrs.get("http.status_code"))
    return (
        _typed(attrs[attr.HTTP_METHOD], str, attr.HTTP_METHOD),
        route or _typed(attrs.get("http.route"), str, "route") or path,
        path,
        int(_typed(status, (int, str), "status")) if status is not None else None,
    )


def _exchange(attrs: Mapping[str, Any]) -> HttpExchange | None:
    line = request_line(attrs)
    if line is None:
        return None
    method, route, path, status = line

    def get(key: str, kind: type, default: Any = None) -> Any:
        return _typed(attrs.get(key, default), kind, key)

    return HttpExchange(
        method=method,
        route=route,
        path=path,
        query=get(attr.HTTP_QUERY, str, ""),
        request_headers=_pairs(attrs.get(attr.HTTP_REQUEST_HEADERS)),
        request_body=get(attr.HTTP_REQUEST_BODY, bytes),
        request_body_size=get(attr.HTTP_REQUEST_BODY_SIZE, int, 0),
        status=status,
        response_headers=_pairs(attrs.get(attr.HTTP_RESPONSE_HEADERS)),
        response_body=get(attr.HTTP_RESPONSE_BODY, bytes),
        response_body_size=get(attr.HTTP_RESPONSE_BODY_SIZE, int, 0),
        request_body_cut=get(attr.HTTP_REQUEST_BODY_TRUNCATED, bool),
        response_body_cut=get(attr.HTTP_RESPONSE_BODY_TRUNCATED, bool),
    )


def _exception_of(span: Span) -> str | None:
    """``Type: message`` of the first exception recorded on a span, if any."""
    for event in span.events:
        if event.name == "exception":
            attrs = attributes_of(event.attributes)
            return (
                f"{attrs.get('exception.type', 'Exception')}: {attrs.get('exception.message', '')}"
            )
    if span.status.code == span.status.STATUS_CODE_ERROR and span.status.message:
        return span.status.message
    return None


def _is_mongo(span: Span) -> bool:
    return any(kv.key == attr.MONGO_COMMAND_NAME for kv in span.attributes)


def root_span(spans: list[Span]) -> Span:
    """The request's span: the earliest of those whose parent is not in the cassette."""
    ids = {span.span_id for span in spans}
    roots = [s for s in spans if not s.parent_span_id or s.parent_span_id not in ids]
    return min(roots or spans, key=lambda s: s.start_time_unix_nano)


def _decoded(key_values: Any, wanted: frozenset[str]) -> dict[str, Any]:
    """The ``wanted`` OTLP attributes as a dict; the others are passed over, not decoded."""
    found: dict[str, Any] = {}
    for kv in key_values:
        key = kv.key
        if key in wanted:
            found[key] = any_value(kv.value)
    return found


def _mongo_call(span: Span, attrs: Mapping[str, Any]) -> MongoCall:
    def get(key: str, kind: type, default: Any = None) -> Any:
        return _typed(attrs.get(key, default), kind, key)

    collection = attrs.get("db.mongodb.collection") or attrs.get("db.collection.name")
    return MongoCall(
        span_id=span.span_id.hex(),
        command_name=get(attr.MONGO_COMMAND_NAME, str),
        database=get(attr.MONGO_DATABASE, str, ""),
        collection=_typed(collection, str, "db.collection.name"),
        start_ns=span.start_time_unix_nano,
        end_ns=span.end_time_unix_nano,
        command_bson=get(attr.MONGO_COMMAND, bytes),
        reply_bson=get(attr.MONGO_REPLY, bytes),
        failure_bson=get(attr.MONGO_FAILURE, bytes),
        server_bson=get(attr.MONGO_SERVER, bytes),
        command_size=get(attr.MONGO_COMMAND_SIZE, int),
        reply_size=get(attr.MONGO_REPLY_SIZE, int),
    )


__all__ = ["Cassette", "HttpExchange", "MongoCall", "any_value", "attributes_of", "decode_bson"]
