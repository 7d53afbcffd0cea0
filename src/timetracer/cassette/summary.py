"""A cassette's one-line summary, read without decoding its dependency calls.

``timetracer list`` reads every file of a directory that may hold tens of thousands. A summary
parses the file with a reduced schema (``summary_schema``: attributes as a map, values left
serialized), decodes only the root span's request keys, and counts the call spans by the same
test the model uses, so it shows exactly what ``views.summary(load_cassette(path))`` shows, for
under a third of a full load's instructions (``benchmarks/list_instructions.py``).

What the summary does not read it does not check either: a protobuf cassette damaged only inside
what a summary leaves unparsed (an event, a call's payload) lists, and fails when it is shown or
replayed. Compressed cassettes carry a checksum that catches such damage before parsing.
"""

from __future__ import annotations

import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from google.protobuf.message import DecodeError
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from timetracer import attributes as attr
from timetracer.cassette.encoding import (
    cassette_payload,
    check_version,
    looks_like_json,
    parse_payload,
)
from timetracer.cassette.model import HttpExchange, RootFacts, any_value, request_line, root_span
from timetracer.cassette.reader import read_cassette_bytes
from timetracer.cassette.summary_schema import summary_traces_data
from timetracer.errors import CassetteFormatError

# The root attributes a summary shows (method, route, path, status). Only these are decoded;
# the model's own _exchange() then derives the four fields from them, as it does for a full
# load (headers and bodies, which a summary does not show, are left out: empty and None).
_SUMMARY_KEYS = frozenset(
    {
        attr.HTTP_METHOD,
        attr.HTTP_PATH,
        attr.HTTP_ROUTE,
        attr.HTTP_STATUS,
        "http.route",
        "http.response.status_code",
        "http.status_code",
    }
)


@dataclass(frozen=True)
class CassetteSummary(RootFacts):
    """The request of a cassette and how many calls it made, as ``Cassette`` presents them.

    ``exchange`` holds the method, route, path and status; its headers and bodies are empty.
    ``path`` is the file as it was given (listing thousands, a ``Path`` for each costs more
    than a summary's decoding).
    """

    path: Path | str | None
    trace_id: str
    root_name: str
    start_ns: int
    end_ns: int
    root_status_error: bool
    exchange: HttpExchange | None
    mongo_calls: int

    def call_counts(self) -> dict[str, int]:
        """Number of recorded calls per system (MongoDB is the one system recorded)."""
        return {"mongodb": self.mongo_calls} if self.mongo_calls else {}


def load_summary(path: Path | str) -> CassetteSummary:
    """The summary of one cassette file; a damaged file raises ``CassetteFormatError``."""
    payload = cassette_payload(read_cassette_bytes(path), source=path)
    if looks_like_json(payload):
        # OTLP/JSON (an exported cassette, rare in a recording directory): parsed in full,
        # then read the same way as protobuf.
        payload = parse_payload(payload, path).SerializeToString()
    try:
        data = summary_traces_data().FromString(payload)
    except DecodeError as exc:
        raise CassetteFormatError(path, f"not an OTLP TracesData message ({exc})") from exc
    spans = [
        span
        for resource_spans in data.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    if not spans:
        raise CassetteFormatError(path, "holds no spans: not a cassette")
    try:
        check_version(_format_version(data), path)
        root = root_span(spans)
        found = root.attributes
        root_attributes = {key: _value(found[key]) for key in _SUMMARY_KEYS if key in found}
        # A start time no calendar holds is a bad file, as it is for a full load.
        dt.datetime.fromtimestamp(root.start_time_unix_nano / 1e9, tz=dt.timezone.utc)
        return CassetteSummary(
            path=path,
            trace_id=root.trace_id.hex(),
            root_name=root.name,
            start_ns=root.start_time_unix_nano,
            end_ns=root.end_time_unix_nano,
            root_status_error=root.status.code == Status.STATUS_CODE_ERROR,
            exchange=_exchange(root_attributes),
            # The model's test (_is_mongo), one hash lookup per span here.
            mongo_calls=sum(1 for span in spans if attr.MONGO_COMMAND_NAME in span.attributes),
        )
    except (TypeError, ValueError, OverflowError, OSError, DecodeError) as exc:
        raise CassetteFormatError(path, f"not a timetracer recording ({exc})") from exc


def _exchange(root_attributes: dict[str, Any]) -> HttpExchange | None:
    """The model's exchange reduced to what a summary shows: no query, headers or bodies."""
    line = request_line(root_attributes)
    if line is None:
        return None
    method, route, path, status = line
    return HttpExchange(method, route, path, "", (), None, 0, status, (), None, 0)


def _format_version(data: Any) -> int:
    """``encoding.format_version()`` for the summary schema's map of attributes."""
    for resource_spans in data.resource_spans:
        raw = resource_spans.resource.attributes.get(attr.FORMAT_VERSION)
        if raw is not None:
            return _int_value(raw)
    return 1


@functools.lru_cache(maxsize=64)
def _int_value(raw: bytes) -> int:
    """``AnyValue.int_value`` of a serialized value (every cassette of a release has the same
    version stamp: parsed once)."""
    return int(AnyValue.FromString(raw).int_value)


# Serialized AnyValue -> its value, for the values of a directory's cassettes that repeat
# (methods, routes, statuses): a dict lookup instead of a message parse. Bounded; immutable
# values only, since every summary that shows one shares it.
_seen_values: dict[bytes, Any] = {}
_SEEN_VALUES_MAX = 4096
_IMMUTABLE = (str, int, float, bool, bytes, type(None))


def _value(raw: bytes) -> Any:
    """The Python value of a serialized ``AnyValue``."""
    try:
        return _seen_values[raw]
    except KeyError:
        pass
    value = any_value(AnyValue.FromString(raw))
    if isinstance(value, _IMMUTABLE):
        if len(_seen_values) >= _SEEN_VALUES_MAX:
            _seen_values.clear()
        _seen_values[raw] = value
    return value
