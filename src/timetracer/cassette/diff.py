"""What differs between two cassettes: the request, the response and the dependency calls.

Calls are compared as an ordered sequence. They are aligned on what they ask (command name,
database and the normalized command, with generated ids masked), the way ``diff`` aligns
lines: a call only one side made is *added* or *removed*; two aligned calls, or two calls of
the same command on the same collection in a stretch that did not align, are compared field by
field (command, reply or failure) and are *changed* when a field differs for real. Timings are
reported as deltas and never count as a difference.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from timetracer.cassette.jsondiff import ABSENT, Change, changes, generated, ignored
from timetracer.cassette.model import Cassette, Headers, HttpExchange, MongoCall
from timetracer.cassette.views import body_view, call_view, relaxed_ejson

NOISE_HEADERS = frozenset(
    {"date", "content-length", "etag", "traceparent", "tracestate", "x-request-id"}
)
"""Headers that differ between any two recordings (or follow the body, which is compared)."""
_REPLY_CLOCK_FIELDS = ("$clusterTime", "operationTime", "electionId", "opTime")
# Cursor ids are chosen by the server: a getMore names a different id in every recording.
_CALL_NOISE = ("command.getMore", "reply.cursor.id")


@dataclass(frozen=True)
class CallDiff:
    """One call of the aligned sequences: same, changed, added or removed."""

    status: str
    """``same``, ``changed``, ``added`` (only in the second cassette) or ``removed``."""
    before: int | None
    """1-based position in the first cassette's calls, if it is there."""
    after: int | None
    operation: str
    target: str
    """``database.collection`` (or just the database)."""
    changes: tuple[Change, ...] = ()
    before_ms: float | None = None
    after_ms: float | None = None

    @property
    def delta_ms(self) -> float | None:
        """How much slower (positive) or faster the second recording's call was."""
        if self.before_ms is None or self.after_ms is None:
            return None
        return self.after_ms - self.before_ms

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready entry."""
        delta = self.delta_ms
        return {
            "status": self.status,
            "before": self.before,
            "after": self.after,
            "operation": self.operation,
            "target": self.target,
            "changes": [change.to_dict() for change in self.changes],
            "before_ms": self.before_ms,
            "after_ms": self.after_ms,
            "delta_ms": None if delta is None else round(delta, 3),
        }


@dataclass(frozen=True)
class CassetteDiff:
    """Everything that differs between two cassettes."""

    before: dict[str, Any]
    after: dict[str, Any]
    request: tuple[Change, ...] = ()
    response: tuple[Change, ...] = ()
    calls: tuple[CallDiff, ...] = field(default_factory=tuple)

    @property
    def differences(self) -> int:
        """How many real differences there are (noise and timings aside)."""
        fields = sum(not c.noise for c in (*self.request, *self.response))
        return fields + sum(call.status != "same" for call in self.calls)

    @property
    def identical(self) -> bool:
        """No real difference (noise and timings aside)."""
        return self.differences == 0

    def to_dict(self) -> dict[str, Any]:
        """The ``timetracer diff --json`` document."""
        return {
            "identical": self.identical,
            "differences": self.differences,
            "before": self.before,
            "after": self.after,
            "request": [change.to_dict() for change in self.request],
            "response": [change.to_dict() for change in self.response],
            "calls": [call.to_dict() for call in self.calls],
        }


def diff_cassettes(
    before: Cassette, after: Cassette, *, ignore: Sequence[str] = ()
) -> CassetteDiff:
    """Compare two cassettes; ``ignore`` holds ``fnmatch`` patterns of paths to leave out
    (``response.body.created``, ``request.headers.user-agent``, ``calls.*.reply.*.updated``)."""
    request, response = _exchange_changes(before.exchange, after.exchange, ignore)
    return CassetteDiff(
        before=_identity(before),
        after=_identity(after),
        request=tuple(request),
        response=tuple(response),
        calls=tuple(diff_calls(before.calls, after.calls, ignore=ignore)),
    )


def _identity(cassette: Cassette) -> dict[str, Any]:
    exchange = cassette.exchange
    return {
        "path": str(cassette.path) if cassette.path else None,
        "trace_id": cassette.trace_id,
        "method": exchange.method if exchange else None,
        "route": exchange.route if exchange else cassette.root_name,
        "status": exchange.status if exchange else None,
        "duration_ms": round(cassette.duration_ms, 3),
        "calls": len(cassette.calls),
    }


def _headers(headers: Headers) -> dict[str, str]:
    merged: dict[str, str] = {}
    for name, value in headers:
        key = name.lower()
        merged[key] = f"{merged[key]}, {value}" if key in merged else value
    return merged


def _query(query: str) -> dict[str, Any]:
    pairs: dict[str, Any] = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        pairs.setdefault(name, []).append(value)
    return {name: values[0] if len(values) == 1 else values for name, values in pairs.items()}


def _request_view(exchange: HttpExchange) -> dict[str, Any]:
    return {
        "method": exchange.method,
        "route": exchange.route,
        "path": exchange.path,
        "query": _query(exchange.query),
        "headers": _headers(exchange.request_headers),
        "body": body_view(
            exchange.request_body, exchange.request_headers, exchange.request_body_size
        ),
    }


def _response_view(exchange: HttpExchange) -> dict[str, Any]:
    return {
        "status": exchange.status,
        "headers": _headers(exchange.response_headers),
        "body": body_view(
            exchange.response_body, exchange.response_headers, exchange.response_body_size
        ),
    }


def _exchange_changes(
    before: HttpExchange | None, after: HttpExchange | None, ignore: Sequence[str]
) -> tuple[list[Change], list[Change]]:
    if before is None and after is None:
        return [], []
    if before is None or after is None:
        # One cassette is a request, the other is not (a test's or a script's own recording).
        request = Change(
            "request",
            ABSENT if before is None else _request_view(before),
            ABSENT if after is None else _request_view(after),
        )
        response = Change(
            "response",
            ABSENT if before is None else _response_view(before),
            ABSENT if after is None else _response_view(after),
        )
        return [request], [response]
    header_noise = [
        f"{side}.headers.{name}" for side in ("request", "response") for name in NOISE_HEADERS
    ]
    request = changes(
        _request_view(before), _request_view(after), "request", ignore=ignore, noise=header_noise
    )
    response = changes(
        _response_view(before),
        _response_view(after),
        "response",
        ignore=ignore,
        noise=header_noise,
    )
    return request, response


def _call_document(call: MongoCall) -> dict[str, Any]:
    """A call as compared: the normalized command and the reply without cluster clocks."""
    from timetracer_replay.normalize import normalized  # replay builds on core, not the reverse

    view = call_view(call)
    document: dict[str, Any] = {
        "command": relaxed_ejson(normalized(call.command)) if call.command_bson else None
    }
    if "failure" in view:
        document["failure"] = view["failure"]
    else:
        reply = view["reply"]
        if isinstance(reply, dict):
            reply = {k: v for k, v in reply.items() if k not in _REPLY_CLOCK_FIELDS}
        document["reply"] = reply
    return document


def _masked(value: Any) -> Any:
    if generated(value):
        return "\x00generated"
    if isinstance(value, dict):
        return {key: _masked(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_masked(item) for item in value]
    return value


def _alignment_key(call: MongoCall, document: dict[str, Any]) -> str:
    command = dict(document["command"] or {})
    if "getMore" in command:
        command["getMore"] = 0
    return f"{call.command_name}\x00{call.database}\x00{json.dumps(_masked(command))}"


def _target(call: MongoCall) -> str:
    return f"{call.database}.{call.collection}" if call.collection else call.database


def diff_calls(
    before: Sequence[MongoCall], after: Sequence[MongoCall], *, ignore: Sequence[str] = ()
) -> list[CallDiff]:
    """The two call sequences aligned, each call marked same, changed, added or removed."""
    docs_a = [_call_document(call) for call in before]
    docs_b = [_call_document(call) for call in after]
    keys_a = [_alignment_key(call, doc) for call, doc in zip(before, docs_a, strict=True)]
    keys_b = [_alignment_key(call, doc) for call, doc in zip(after, docs_b, strict=True)]

    def pair(i: int, j: int) -> CallDiff:
        a, b = before[i], after[j]
        found = _call_changes(a, docs_a[i], docs_b[j], ignore)
        status = "changed" if any(not c.noise for c in found) else "same"
        return CallDiff(
            status, i + 1, j + 1, a.command_name, _target(a), tuple(found),
            a.duration_ms, b.duration_ms,
        )  # fmt: skip

    def alone(status: str, call: MongoCall, index: int) -> CallDiff:
        position = (index + 1, None) if status == "removed" else (None, index + 1)
        duration = (call.duration_ms, None) if status == "removed" else (None, call.duration_ms)
        return CallDiff(status, *position, call.command_name, _target(call), (), *duration)

    result: list[CallDiff] = []
    matcher = difflib.SequenceMatcher(None, keys_a, keys_b, autojunk=False)
    for tag, a_start, a_end, b_start, b_end in matcher.get_opcodes():
        if tag == "equal":
            result.extend(pair(a_start + k, b_start + k) for k in range(a_end - a_start))
            continue
        # A stretch that did not align: the same command on the same collection is a changed
        # call (a different filter, say); anything else was added or removed. Entries are put
        # in the second recording's order, a removed call right after the call before it.
        unpaired = list(range(b_start, b_end))
        block: list[tuple[float, CallDiff]] = []
        previous = b_start - 1
        for i in range(a_start, a_end):
            j = next(
                (j for j in unpaired
                 if (after[j].command_name, after[j].collection)
                 == (before[i].command_name, before[i].collection)),
                None,
            )  # fmt: skip
            if j is None:
                block.append((previous + 0.5, alone("removed", before[i], i)))
            else:
                unpaired.remove(j)
                previous = j
                block.append((j, pair(i, j)))
        block.extend((j, alone("added", after[j], j)) for j in unpaired)
        result.extend(entry for _, entry in sorted(block, key=lambda item: item[0]))
    return result


def _call_changes(
    call: MongoCall, before: dict[str, Any], after: dict[str, Any], ignore: Sequence[str]
) -> list[Change]:
    # Paths inside a call read "command.filter.sku"; --ignore patterns name them with their
    # call first, "calls.find.command.filter.sku", so one pattern can aim at one command.
    prefix = f"calls.{call.command_name}."
    found = changes(before, after, "", noise=_CALL_NOISE)
    return [c for c in found if not ignored(prefix + c.where, ignore)]
