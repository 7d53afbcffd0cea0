"""Comparing a replayed response with the recorded one: status, chosen headers, body.

Bodies are compared as JSON when both are JSON, field by field, so a difference is reported at
its path (``body.items.3.price``). Values that differ only as request-generated identifiers or
timestamps — ObjectId hex strings, UUIDs, ISO-8601 times — are reported as noise and do not
fail the comparison. ``ignore`` patterns (``body.created``, ``body.items.*.id``,
``headers.etag``) leave whole paths out.
"""

from __future__ import annotations

import fnmatch
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from timetracer.cassette.model import HttpExchange

COMPARED_HEADERS = ("content-type", "location")
_GENERATED = (
    re.compile(r"^[0-9a-f]{24}$"),  # ObjectId
    re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I),  # UUID
    re.compile(r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$"),
)
_MISSING = object()


@dataclass(frozen=True)
class Difference:
    """One place where the replayed response differs from the recording."""

    where: str
    recorded: Any
    live: Any
    noise: bool = False

    def describe(self) -> str:
        """``where: recorded X, replayed Y`` (marked when it is noise)."""
        recorded = "(absent)" if self.recorded is _MISSING else repr(self.recorded)
        live = "(absent)" if self.live is _MISSING else repr(self.live)
        tag = " [noise]" if self.noise else ""
        return f"{self.where}: recorded {_short(recorded)}, replayed {_short(live)}{tag}"


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


def _generated(value: Any) -> bool:
    return isinstance(value, str) and any(p.match(value) for p in _GENERATED)


def _ignored(where: str, ignore: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(where, pattern) for pattern in ignore)


# Leaves compared as they are, checked by exact type before the (slower) ABC checks.
_SCALARS = frozenset({str, int, float, bool, type(None)})


def json_differences(
    recorded: Any, live: Any, where: str, ignore: Sequence[str]
) -> list[Difference]:
    """Differences between two JSON values, path by path."""
    if ignore and _ignored(where, ignore):
        return []
    if type(recorded) in _SCALARS and type(live) in _SCALARS:
        return _leaf_difference(recorded, live, where)
    if isinstance(recorded, Mapping) and isinstance(live, Mapping):
        found: list[Difference] = []
        for key in dict.fromkeys([*recorded.keys(), *live.keys()]):
            found.extend(
                json_differences(
                    recorded.get(key, _MISSING), live.get(key, _MISSING), f"{where}.{key}", ignore
                )
            )
        return found
    if isinstance(recorded, list) and isinstance(live, list):
        found = []
        for index in range(max(len(recorded), len(live))):
            found.extend(
                json_differences(
                    recorded[index] if index < len(recorded) else _MISSING,
                    live[index] if index < len(live) else _MISSING,
                    f"{where}.{index}",
                    ignore,
                )
            )
        return found
    return _leaf_difference(recorded, live, where)


def _leaf_difference(recorded: Any, live: Any, where: str) -> list[Difference]:
    if recorded == live and type(recorded) is type(live):
        return []
    noise = _generated(recorded) and _generated(live)
    return [Difference(where, recorded, live, noise)]


def _content_type(headers: Iterable[tuple[str, str]]) -> str:
    for name, value in headers:
        if name.lower() == "content-type":
            return value.split(";", 1)[0].strip().lower()
    return ""


def _as_json(body: bytes, headers: Iterable[tuple[str, str]]) -> Any:
    kind = _content_type(headers)
    if kind == "application/json" or kind.endswith("+json"):
        try:
            return json.loads(body)
        except ValueError:
            return _MISSING
    return _MISSING


def compare_response(
    recorded: HttpExchange,
    status: int,
    headers: Sequence[tuple[str, str]],
    body: bytes,
    ignore: Sequence[str] = (),
    *,
    recorded_error: bool = False,
) -> list[Difference]:
    """Every difference between the recorded response and a replayed one.

    A recording without a response (the app raised and the error page was written outside the
    instrumented middleware, as Starlette does) only asks that the replay failed the same way.
    """
    if recorded.status is None:
        if recorded_error and status < 500 and not _ignored("status", ignore):
            return [Difference("status", "5xx (the app raised)", status)]
        return []
    found: list[Difference] = []
    if recorded.status != status and not _ignored("status", ignore):
        found.append(Difference("status", recorded.status, status))
    live_headers = {name.lower(): value for name, value in headers}
    recorded_headers = {name.lower(): value for name, value in recorded.response_headers}
    for name in COMPARED_HEADERS:
        where = f"headers.{name}"
        before, after = recorded_headers.get(name, _MISSING), live_headers.get(name, _MISSING)
        if before != after and not _ignored(where, ignore):
            found.append(Difference(where, before, after, _generated_tail(before, after)))
    found.extend(_body_differences(recorded, headers, body, ignore))
    return found


def _generated_tail(before: Any, after: Any) -> bool:
    # A Location header that differs only in a generated id (…/items/<ObjectId>) is noise.
    if not isinstance(before, str) or not isinstance(after, str):
        return False
    head_a, _, tail_a = before.rpartition("/")
    head_b, _, tail_b = after.rpartition("/")
    return head_a == head_b and _generated(tail_a) and _generated(tail_b)


def _body_differences(
    recorded: HttpExchange, headers: Sequence[tuple[str, str]], body: bytes, ignore: Sequence[str]
) -> list[Difference]:
    if _ignored("body", ignore) or recorded.response_body is None:
        return []
    stored = recorded.response_body
    if recorded.response_truncated:
        # Only the first bytes were kept: compare those, and the total size.
        found = []
        if body[: len(stored)] != stored:
            found.append(Difference("body (first bytes)", stored[:80], body[:80]))
        if len(body) != recorded.response_body_size:
            found.append(Difference("body size", recorded.response_body_size, len(body)))
        return found
    before = _as_json(stored, recorded.response_headers)
    after = _as_json(body, headers)
    if before is not _MISSING and after is not _MISSING:
        return json_differences(before, after, "body", ignore)
    if stored != body:
        return [
            Difference("body", stored.decode("utf-8", "replace"), body.decode("utf-8", "replace"))
        ]
    return []
