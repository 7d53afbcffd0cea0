"""``--since``: an ISO-8601 date or time, or a time ago such as ``30m``, ``2h``, ``1d``."""

from __future__ import annotations

import argparse
import datetime as dt
import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_RELATIVE = re.compile(r"^(?:\d+[smhdw])+$")
_PART = re.compile(r"(\d+)([smhdw])")


def parse_since(text: str, now: dt.datetime | None = None) -> dt.datetime:
    """The moment ``text`` names, as an aware UTC datetime.

    ``2h``, ``30m``, ``1d``, ``1w``, ``1h30m``: that long before ``now``. An ISO-8601 date or
    date-time (``2026-11-26``, ``2026-11-26T14:00``, ``…Z``, ``…+02:00``) is taken as written;
    without an offset it is local time, as ``git log --since`` reads it.
    Raises ``argparse.ArgumentTypeError`` for anything else.
    """
    cleaned = text.strip()
    if _RELATIVE.match(cleaned.lower()):
        seconds = sum(int(n) * _UNITS[unit] for n, unit in _PART.findall(cleaned.lower()))
        return (now or dt.datetime.now(dt.timezone.utc)) - dt.timedelta(seconds=seconds)
    iso = cleaned[:-1] + "+00:00" if cleaned[-1:] in ("z", "Z") else cleaned  # 3.10 needs this
    try:
        moment = dt.datetime.fromisoformat(iso)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a time: use an ISO date or time (2026-11-26, 2026-11-26T14:00Z) "
            "or a time ago (30m, 2h, 1d, 1w)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.astimezone()  # a naive time is local time
    return moment.astimezone(dt.timezone.utc)
