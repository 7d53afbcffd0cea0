"""Cassette file names: sortable by time, readable, and never a path outside the directory."""

from __future__ import annotations

import calendar
import re
import time
from collections.abc import Mapping

from timetracer import attributes as attr

SUFFIX = ".cassette"
_UNSAFE = re.compile(r"[^A-Za-z0-9_.-]+")
_MAX_ROUTE = 80


def cassette_name(method: str, route: str, trace_id: int, start_time_ns: int) -> str:
    """``<UTC time>_<METHOD>_<route>_<trace id>.cassette``, built only from safe characters.

    The time prefix makes a directory listing come out in recorded order; the trace id makes
    every name unique. Neither the method nor the route can add a separator or a ``..``.
    """
    seconds, nanos = divmod(start_time_ns, 1_000_000_000)
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(seconds)) + f"{nanos // 1_000_000:03d}Z"
    safe_method = re.sub(r"[^A-Z]", "", method.upper())[:16] or "REQUEST"
    slug = _UNSAFE.sub("-", route).strip("-.")[:_MAX_ROUTE].strip("-.") or "root"
    return f"{stamp}_{safe_method}_{slug}_{trace_id:032x}{SUFFIX}"


def root_cassette_name(
    attributes: Mapping[str, object], span_name: str, trace_id: int, start_time_ns: int
) -> str:
    """The cassette name for a trace, chosen from its local root span.

    The method and route come from timetracer's payload attributes on the root; a root without
    them (work outside a request) is named after the span. The in-process exporter and
    ``timetracer collect`` both name files here, so the same trace gets the same name.
    """
    method = str(attributes.get(attr.HTTP_METHOD, "SPAN"))
    route = str(attributes.get(attr.HTTP_ROUTE) or attributes.get(attr.HTTP_PATH) or span_name)
    return cassette_name(method, route, trace_id, start_time_ns)


def is_cassette_name(name: str) -> bool:
    """Whether a directory entry is a finished cassette (temporary files start with a dot)."""
    return name.endswith(SUFFIX) and not name.startswith(".")


_NAME = re.compile(
    r"^(?P<stamp>\d{8}T\d{6})(?P<millis>\d{3})Z_(?P<method>[A-Z]+)_(?P<slug>.*)_"
    r"(?P<trace>[0-9a-f]{32})" + re.escape(SUFFIX) + "$"
)


def parse_cassette_name(name: str) -> tuple[int, str] | None:
    """``(start time in ns, rounded down to the millisecond, METHOD)`` read from a name that
    :func:`cassette_name` made, or None for any other name.

    Listing uses it to skip files by time or method without opening them.
    """
    match = _NAME.match(name)
    if match is None:
        return None
    try:
        parsed = time.strptime(match["stamp"], "%Y%m%dT%H%M%S")
    except ValueError:
        return None
    seconds = calendar.timegm(parsed)
    return (seconds * 1000 + int(match["millis"])) * 1_000_000, match["method"]
