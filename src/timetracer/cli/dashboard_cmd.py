"""``timetracer dashboard``: write the cassettes of a directory as one self-contained HTML page."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from timetracer.errors import DashboardError

DEFAULT_OUT = Path("timetracer-dashboard.html")
_MIB = 1024 * 1024
# timetracer.dashboard.snapshot's default, repeated so that registering the command does not
# import the dashboard; a unit test keeps the two in step.
DEFAULT_DETAIL_BUDGET = 64 * _MIB


def add_parser(commands: Any) -> None:
    """Register ``dashboard``."""
    parser = commands.add_parser(
        "dashboard",
        help="write the cassettes of DIR as one HTML page",
        description="Write one self-contained HTML file (no network needed to view it) with a "
        "sortable, filterable table of the cassettes under DIR and each one's request, "
        "response, dependency calls and span waterfall.",
    )
    parser.add_argument(
        "dir", type=Path, metavar="DIR", help="a cassette directory (or one cassette)"
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="FILE",
        help=f"the file to write (default {DEFAULT_OUT})",
    )
    parser.add_argument("--open", action="store_true", help="open it in the default browser")
    parser.add_argument(
        "--app", metavar="MODULE:APP", help="the app to name in the page's replay commands"
    )
    parser.add_argument(
        "--max-detail-mb",
        type=_megabytes,
        default=DEFAULT_DETAIL_BUDGET,
        metavar="MB",
        help="embed cassette details up to this many MiB; the rest are listed without them "
        f"(default {DEFAULT_DETAIL_BUDGET // _MIB})",
    )
    parser.set_defaults(handler=run)


def _megabytes(text: str) -> int:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < 1024 * 1024:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of MiB >= 0")
    return int(value * _MIB)


def run(args: argparse.Namespace) -> int:
    """Write the page; report what was skipped or left out."""
    from timetracer.cassette.store import write_atomic
    from timetracer.dashboard.snapshot import take_snapshot

    snapshot = take_snapshot(args.dir, app=args.app, detail_budget=args.max_detail_mb)
    for item in snapshot.skipped:
        print(f"timetracer: skipped {item['reason']}", file=sys.stderr)
    out: Path = args.out
    try:
        # Owner-only and atomic, like cassettes: the page holds everything they recorded.
        written = write_atomic(out.parent, out.name, snapshot.render().encode("utf-8"))
    except OSError as error:
        raise DashboardError(f"cannot write {out}: {error.strerror or error}") from error
    notes = [f"{len(snapshot.rows)} cassette(s)"]
    if snapshot.skipped:
        notes.append(f"{len(snapshot.skipped)} skipped as unreadable")
    if snapshot.omitted:
        notes.append(f"{snapshot.omitted} without details (over --max-detail-mb)")
    print(f"timetracer dashboard: wrote {written} ({', '.join(notes)})")
    if args.open:
        import webbrowser

        webbrowser.open(written.resolve().as_uri())
    return 0
