"""OTLP ``TracesData`` bytes written straight from SDK spans, for the exporter's hot path.

The OTLP exporter's span encoder builds a protobuf object for every span, attribute and value
before serializing them; on a cassette's few spans that costs more than compressing and writing
the file together. This module writes the same protobuf wire format directly, caching what
repeats from trace to trace (attribute keys, the resource, instrumentation scopes).

The output is byte-for-byte ``encoding.spans_to_traces_data(spans).SerializeToString()``: the
same grouping by resource and scope, the same field order, the same presence rules (a oneof
value or a sub-message is written even when empty; a proto3 scalar is not when it is zero).
Spans holding anything the contrib encoder treats specially (a value of an unexpected type, an
out-of-range integer, text that is not valid UTF-8) raise :class:`Unsupported`, and the caller
falls back to the contrib encoder, so unusual spans never produce different bytes.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from timetracer.attributes import FORMAT_VERSION

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import ReadableSpan

_INT64_MIN, _INT64_MAX = -(1 << 63), (1 << 63) - 1
_pack_fixed64 = struct.Struct("<Q").pack
_pack_fixed32 = struct.Struct("<I").pack
_pack_double = struct.Struct("<d").pack
# SDK SpanKind value -> OTLP SpanKind number (SPAN_KIND_UNSPECIFIED is 0 and never written).
_KIND = {0: b"\x30\x01", 1: b"\x30\x02", 2: b"\x30\x03", 3: b"\x30\x04", 4: b"\x30\x05"}
_FLAGS_LOCAL = b"\x85\x01" + _pack_fixed32(0x100)  # span flags: has-is-remote
_FLAGS_REMOTE = b"\x85\x01" + _pack_fixed32(0x300)  # has-is-remote | is-remote
_MAX_CACHED_KEYS = 4096
_MAX_CACHED_PAIRS = 4096
_MAX_CACHED_VALUE = 256  # characters, bytes or items
_CACHED_KINDS = (str, bytes, int, bool, tuple)


class Unsupported(Exception):
    """The spans hold something only the contrib encoder handles the way it does."""


def _varint(value: int) -> bytes:
    if value < 0:
        value += 1 << 64  # int64 in two's complement: always ten bytes
    if value < 0x80:
        return _SMALL[value]
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


_SMALL = [bytes((n,)) for n in range(0x80)]  # one-byte varints, the common lengths


def _field(tag: bytes, payload: bytes) -> bytes:
    """A length-delimited field: tag, length, payload."""
    size = len(payload)
    return tag + (_SMALL[size] if size < 0x80 else _varint(size)) + payload


def _text(value: str) -> bytes:
    try:
        return value.encode("utf-8")
    except UnicodeEncodeError as exc:  # lone surrogates: the contrib encoder logs and skips
        raise Unsupported("text is not valid UTF-8") from exc


def any_value(value: Any) -> bytes:
    """The fields of an ``AnyValue`` holding ``value`` (type checks in the contrib order)."""
    if value is None:
        return b""
    if isinstance(value, bool):
        return b"\x10\x01" if value else b"\x10\x00"
    if isinstance(value, str):
        return _field(b"\x0a", _text(value))
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise Unsupported("integer out of int64 range")
        return b"\x18" + _varint(value)
    if isinstance(value, float):
        return b"\x21" + _pack_double(value)
    if isinstance(value, bytes):
        return _field(b"\x3a", value)
    if isinstance(value, (tuple, list)):
        return _field(b"\x2a", b"".join(_field(b"\x0a", any_value(v)) for v in value))
    raise Unsupported(f"attribute value of type {type(value).__name__}")


def span_attributes(span: ReadableSpan) -> Mapping[str, Any] | None:
    """A finished span's attributes, read from the SDK's backing dict when it has one.

    ``ReadableSpan.attributes`` is a read-only proxy over ``BoundedAttributes``, whose
    ``Mapping`` methods run in Python for every item (a third of the contrib encoder's time);
    the frozen dict behind them iterates in C.
    """
    bounded = getattr(span, "_attributes", None)
    inner = getattr(bounded, "_dict", None)
    if type(inner) is dict and getattr(bounded, "_immutable", False):
        return inner
    return span.attributes


def _events(span: ReadableSpan) -> Sequence[Any]:
    """``span.events``, skipping the SDK's locked copy of an empty list (most spans)."""
    held = getattr(span, "_events", None)
    if held is not None and not len(held):
        return ()
    return span.events


def _links(span: ReadableSpan) -> Sequence[Any]:
    """``span.links``, skipping the SDK's locked copy of an empty list (most spans)."""
    held = getattr(span, "_links", None)
    if held is not None and not len(held):
        return ()
    return span.links


class SpanEncoder:
    """Encodes spans to ``TracesData`` bytes; keeps caches, so keep one per exporter."""

    def __init__(self, format_version: int) -> None:
        self._format_version = format_version
        self._keys: dict[str, bytes] = {}
        # Encoded attribute fields by field tag, then by value type (True == 1, so one dict
        # would mix them up). Most attributes repeat from trace to trace (db.system,
        # net.peer.name, the server's hello); unique values churn through the bound, and the
        # caches are simply emptied when it is reached.
        self._fields: dict[bytes, dict[type, dict[tuple[str, Any], bytes]]] = {}
        self._cached_pairs = 0
        # Resources and scopes are few and long-lived; they are cached by identity (holding the
        # object, so its id cannot be reused while the entry exists).
        self._resources: dict[int, tuple[Any, bytes]] = {}
        self._scopes: dict[int, tuple[Any, bytes]] = {}

    def _key(self, key: str) -> bytes:
        encoded = self._keys.get(key)
        if encoded is None:
            if type(key) is not str:
                raise Unsupported("attribute key that is not a str")
            encoded = _field(b"\x0a", _text(key)) if key else b""
            if len(self._keys) < _MAX_CACHED_KEYS:
                self._keys[key] = encoded
        return encoded

    def _pair(self, key: str, value: Any) -> bytes:
        """A ``KeyValue`` message (its fields; the caller adds the tag and length)."""
        return self._key(key) + _field(b"\x12", any_value(value))

    def _remember(
        self, cache: dict[tuple[str, Any], bytes], pair: tuple[str, Any], field: bytes
    ) -> None:
        if self._cached_pairs >= _MAX_CACHED_PAIRS:
            for by_kind in self._fields.values():
                for kind_cache in by_kind.values():
                    kind_cache.clear()
            self._cached_pairs = 0
        cache[pair] = field
        self._cached_pairs += 1

    def _attributes(self, tag: bytes, attributes: Mapping[str, Any] | None) -> bytes:
        if not attributes:
            return b""
        caches = self._fields.get(tag)
        if caches is None:
            caches = self._fields[tag] = {kind: {} for kind in _CACHED_KINDS}
        parts = []
        append = parts.append
        for key, value in attributes.items():
            kind = type(value)
            cache = caches.get(kind)
            # Large payloads are unique: not worth hashing. Small values mostly repeat. Only
            # tuples of text are cached: (1,) == (True,) == (1.0,) as dict keys.
            if cache is not None and (
                kind is int
                or kind is bool
                or (
                    len(value) <= _MAX_CACHED_VALUE
                    and (kind is not tuple or all(type(item) is str for item in value))
                )
            ):
                try:
                    field = cache.get((key, value))
                except TypeError:  # an unhashable element in a sequence: never cached
                    field, cache = None, None
                if field is not None:
                    append(field)
                    continue
            pair = self._pair(key, value)
            size = len(pair)
            field = (tag + _SMALL[size] if size < 0x80 else tag + _varint(size)) + pair
            if cache is not None:
                self._remember(cache, (key, value), field)
            append(field)
        return b"".join(parts)

    def _resource(self, resource: Any) -> bytes:
        cached = self._resources.get(id(resource))
        if cached is not None and cached[0] is resource:
            return cached[1]
        attributes = resource.attributes
        body = self._attributes(b"\x0a", attributes)
        if FORMAT_VERSION not in (attributes or {}):
            # encoding.stamp(): the cassette format version, appended to the resource.
            stamp = self._key(FORMAT_VERSION) + _field(b"\x12", any_value(self._format_version))
            body += _field(b"\x0a", stamp)
        encoded = _field(b"\x0a", body)  # ResourceSpans.resource
        if len(self._resources) < 64:
            self._resources[id(resource)] = (resource, encoded)
        return encoded

    def _scope(self, scope: Any) -> bytes:
        """``ScopeSpans.scope``; the schema URL is written after the spans by the caller."""
        cached = self._scopes.get(id(scope))
        if cached is not None and cached[0] is scope:
            return cached[1]
        body = b""
        if scope is not None:
            if scope.name:
                body += _field(b"\x0a", _text(scope.name))
            if scope.version:
                body += _field(b"\x12", _text(scope.version))
            body += self._attributes(b"\x1a", scope.attributes)
        encoded = _field(b"\x0a", body)
        if len(self._scopes) < 256:
            self._scopes[id(scope)] = (scope, encoded)
        return encoded

    def span(self, span: ReadableSpan) -> bytes:
        """One ``Span`` message (without its field tag), as the contrib encoder writes it."""
        context = span.get_span_context()
        parts = [
            b"\x0a\x10" + context.trace_id.to_bytes(16, "big"),
            b"\x12\x08" + context.span_id.to_bytes(8, "big"),
        ]
        trace_state = context.trace_state
        if trace_state:
            parts.append(
                _field(b"\x1a", _text(",".join(f"{k}={v}" for k, v in trace_state.items())))
            )
        parent = span.parent
        if parent is not None:
            parts.append(b"\x22\x08" + parent.span_id.to_bytes(8, "big"))
        if span.name:
            parts.append(_field(b"\x2a", _text(span.name)))
        parts.append(_KIND[span.kind._value_])  # ._value_: .value is a slow enum descriptor
        if span.start_time:
            parts.append(b"\x39" + _pack_fixed64(span.start_time))
        if span.end_time:
            parts.append(b"\x41" + _pack_fixed64(span.end_time))
        parts.append(self._attributes(b"\x4a", span_attributes(span)))
        if span.dropped_attributes:
            parts.append(b"\x50" + _varint(span.dropped_attributes))
        for event in _events(span):
            parts.append(_field(b"\x5a", self._event(event)))
        if span.dropped_events:
            parts.append(b"\x60" + _varint(span.dropped_events))
        for link in _links(span):
            parts.append(_field(b"\x6a", self._link(link)))
        if span.dropped_links:
            parts.append(b"\x70" + _varint(span.dropped_links))
        status = span.status
        if status is not None:
            code = status.status_code._value_
            if code or status.description:
                body = _field(b"\x12", _text(status.description)) if status.description else b""
                if code:
                    body += b"\x18" + _varint(code)
                parts.append(_field(b"\x7a", body))
            else:
                parts.append(b"\x7a\x00")  # an UNSET status is still a present, empty message
        parts.append(_FLAGS_REMOTE if parent is not None and parent.is_remote else _FLAGS_LOCAL)
        return b"".join(parts)

    def _event(self, event: Any) -> bytes:
        body = b"\x09" + _pack_fixed64(event.timestamp) if event.timestamp else b""
        if event.name:
            body += _field(b"\x12", _text(event.name))
        body += self._attributes(b"\x1a", event.attributes)
        if event.dropped_attributes:
            body += b"\x20" + _varint(event.dropped_attributes)
        return body

    def _link(self, link: Any) -> bytes:
        context = link.context
        body = b"\x0a\x10" + context.trace_id.to_bytes(16, "big")
        body += b"\x12\x08" + context.span_id.to_bytes(8, "big")
        body += self._attributes(b"\x22", link.attributes)
        if link.dropped_attributes:
            body += b"\x28" + _varint(link.dropped_attributes)
        return body + b"\x35" + _pack_fixed32(0x300 if context.is_remote else 0x100)

    def traces_data(self, spans: Sequence[ReadableSpan]) -> bytes:
        """The serialized, format-stamped ``TracesData`` of ``spans``.

        Spans are grouped by resource, then by instrumentation scope, each group in order of
        first appearance, as the contrib encoder groups them (by equality, not identity).
        """
        try:
            return self._traces_data(spans)
        except UnicodeEncodeError as exc:  # a str attribute with lone surrogates
            raise Unsupported("text is not valid UTF-8") from exc

    def _traces_data(self, spans: Sequence[ReadableSpan]) -> bytes:
        groups: list[tuple[Any, list[tuple[Any, list[bytes]]]]] = []
        # Identity first (every span of a provider shares one resource object), equality when
        # a new object appears; ids are stable here since the spans hold the objects.
        by_resource: dict[int, list[tuple[Any, list[bytes]]]] = {}
        by_scope: dict[tuple[int, int], list[bytes]] = {}
        for span in spans:
            resource = span.resource
            scopes = by_resource.get(id(resource))
            if scopes is None:
                scopes = next((g[1] for g in groups if g[0] == resource), None)
                if scopes is None:
                    scopes = []
                    groups.append((resource, scopes))
                by_resource[id(resource)] = scopes
            scope = span.instrumentation_scope or None
            encoded = by_scope.get((id(scopes), id(scope)))
            if encoded is None:
                encoded = next((s[1] for s in scopes if s[0] == scope), None)
                if encoded is None:
                    encoded = []
                    scopes.append((scope, encoded))
                by_scope[(id(scopes), id(scope))] = encoded
            encoded.append(self.span(span))
        out = []
        for resource, scopes in groups:
            body = [self._resource(resource)]
            for scope, encoded_spans in scopes:
                scope_body = self._scope(scope) + b"".join(
                    _field(b"\x12", s) for s in encoded_spans
                )
                if scope is not None and scope.schema_url:
                    scope_body += _field(b"\x1a", _text(scope.schema_url))
                body.append(_field(b"\x12", scope_body))
            if resource.schema_url:
                body.append(_field(b"\x1a", _text(resource.schema_url)))
            out.append(_field(b"\x0a", b"".join(body)))
        return b"".join(out)
