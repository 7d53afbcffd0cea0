"""A cassette's one-line summary, read without decoding its dependency calls.

``timetracer list`` reads every file of a directory that may hold tens of thousands; a full
:class:`~timetracer.cassette.model.Cassette` decodes every attribute of every span, which costs
three times what reading, decompressing and parsing the file does. A summary decodes only the
root span (the request) and counts the call spans by the same test the model uses, so it shows
exactly what ``views.summary(load_cassette(path))`` shows, several times faster.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from timetracer import attributes as attr
from timetracer.cassette.model import (
    HttpExchange,
    RootFacts,
    _decoded,
    _exchange,
    _is_mongo,
    root_span,
)
from timetracer.cassette.reader import read_traces_data
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
        attr.MONGO_COMMAND_NAME,  # only whether the root is itself a call span
        "http.route",
        "http.response.status_code",
        "http.status_code",
    }
)


@dataclass(frozen=True)
class CassetteSummary(RootFacts):
    """The request of a cassette and how many calls it made, as ``Cassette`` presents them.

    ``exchange`` holds the method, route, path and status; its headers and bodies are empty.
    """

    path: Path | None
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
    path = path if isinstance(path, Path) else Path(path)  # Path(path) re-parses it
    data = read_traces_data(path)
    spans = [
        span
        for resource_spans in data.resource_spans
        for scope_spans in resource_spans.scope_spans
        for span in scope_spans.spans
    ]
    if not spans:
        raise CassetteFormatError(path, "holds no spans: not a cassette")
    try:
        root = root_span(spans)
        root_attributes = _decoded(root.attributes, _SUMMARY_KEYS)
        # A start time no calendar holds is a bad file, as it is for a full load.
        dt.datetime.fromtimestamp(root.start_time_unix_nano / 1e9, tz=dt.timezone.utc)
        return CassetteSummary(
            path=path,
            trace_id=root.trace_id.hex(),
            root_name=root.name,
            start_ns=root.start_time_unix_nano,
            end_ns=root.end_time_unix_nano,
            root_status_error=root.status.code == root.status.STATUS_CODE_ERROR,
            exchange=_exchange(root_attributes),
            # The root's keys were just read; of the other spans, only the call spans are
            # scanned to the end (a call span stops at its command-name key).
            mongo_calls=sum(1 for span in spans if span is not root and _is_mongo(span))
            + (attr.MONGO_COMMAND_NAME in root_attributes),
        )
    except (TypeError, ValueError, OverflowError, OSError) as exc:
        raise CassetteFormatError(path, f"not a timetracer recording ({exc})") from exc
