"""What the dashboard shows, as plain JSON: a row per cassette and, on demand, its detail.

Rows are ``timetracer list --json`` summaries plus the few fields the page needs to find,
sort and flag them; details are ``timetracer show --json`` plus the span waterfall and the
commands that replay or show the cassette. Both reuse :mod:`timetracer.cassette.views`, so the
page and the command line never disagree.
"""

from __future__ import annotations

import shlex
from pathlib import Path
from typing import Any

from timetracer.cassette.model import Cassette
from timetracer.cassette.views import detail, summary
from timetracer.dashboard.waterfall import waterfall

APP_PLACEHOLDER = "MODULE:APP"
"""Shown in the replay command when no ``--app`` was given."""


def display_time(cassette: Cassette) -> str:
    """``YYYY-MM-DD HH:MM:SS.mmm`` in UTC: fixed width, so it also sorts and filters as text."""
    return cassette.recorded_at.strftime("%Y-%m-%d %H:%M:%S.%f")[:23]


def row_of(cassette: Cassette, name: str) -> dict[str, Any]:
    """One table row: the ``list --json`` summary, the cassette's name under the served
    directory, whether it is an error (5xx or a failed root span) and its display time."""
    return {
        **summary(cassette),
        "name": name,
        "is_error": cassette.is_error,
        "time": display_time(cassette),
    }


def _quoted(path: Path) -> str:
    # Absolute, so a command copied from the page works from any directory.
    return shlex.quote(str(path.absolute()))


def commands_for(
    path: Path | None, app: str | None, previous: Path | None = None
) -> list[dict[str, str]]:
    """Shell commands that replay, show or diff the cassette, each argument shell-quoted.

    ``previous`` is the recording of the same method and route just before this one: the
    natural thing to diff against. Without it the diff command names a placeholder.
    """
    if path is None:
        return []
    where = _quoted(path)
    target = shlex.quote(app) if app else APP_PLACEHOLDER
    replay = f"timetracer replay {where} --app {target}"
    if previous is not None:
        diff = {
            "label": "diff with previous",
            "command": f"timetracer diff {_quoted(previous)} {where}",
        }
    else:
        diff = {"label": "diff", "command": f"timetracer diff {where} OTHER.cassette"}
    return [
        {"label": "replay", "command": replay},
        {"label": "replay, differences as JSON", "command": f"{replay} --json"},
        {"label": "show", "command": f"timetracer show {where}"},
        diff,
    ]


def same_request_key(row: dict[str, Any]) -> tuple[Any, Any]:
    """What makes two recordings "the same request" for the diff command: method and route."""
    return row["method"], row["route"]


def detail_of(
    cassette: Cassette, name: str, app: str | None = None, previous: Path | None = None
) -> dict[str, Any]:
    """The detail view: ``show --json`` plus name, error flag, waterfall and commands."""
    return {
        **detail(cassette),
        "name": name,
        "is_error": cassette.is_error,
        "time": display_time(cassette),
        "waterfall": waterfall(cassette),
        "commands": commands_for(cassette.path, app, previous),
    }
