"""``timetracer list``: one line (or JSON object) per cassette."""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timetracer.cli.since import parse_since
from timetracer.errors import CassetteError

if TYPE_CHECKING:
    from timetracer.cassette.model import Cassette
    from timetracer.cassette.summary import CassetteSummary

_MS = 1_000_000


def add_parser(commands: Any) -> None:
    """Register ``list``."""
    parser = commands.add_parser(
        "list", help="list recorded cassettes", description="List the cassettes under DIR."
    )
    parser.add_argument("dir", type=Path, help="a cassette directory (or one cassette)")
    parser.add_argument("--json", action="store_true", help="print a JSON array")
    parser.add_argument("--method", help="only this HTTP method")
    parser.add_argument("--status", type=int, help="only this response status")
    parser.add_argument("--route", help="only routes containing this text")
    parser.add_argument("--errors", action="store_true", help="only 5xx or failed requests")
    parser.add_argument(
        "--since",
        type=parse_since,
        metavar="WHEN",
        help="only requests recorded since WHEN: an ISO date or time (2026-11-26, "
        "2026-11-26T14:00Z; local time without an offset) or a time ago (30m, 2h, 1d, 1w)",
    )
    parser.add_argument(
        "-j",
        "--jobs",
        type=_jobs,
        default=None,
        metavar="N",
        help="processes reading cassettes (default: one per 2,000 cassettes, at most one per "
        "CPU; 1 reads them all in this process)",
    )
    parser.set_defaults(handler=run)


def _jobs(text: str) -> int:
    try:
        jobs = int(text)
    except ValueError:
        jobs = 0
    if jobs < 1:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number of processes: expected 1 or more"
        )
    return jobs


def _keep(cassette: Cassette | CassetteSummary, args: argparse.Namespace) -> bool:
    exchange = cassette.exchange
    if args.method and (exchange is None or exchange.method.upper() != args.method.upper()):
        return False
    if args.status is not None and (exchange is None or exchange.status != args.status):
        return False
    if args.route and (exchange is None or args.route not in exchange.route):
        return False
    if args.since is not None and cassette.recorded_at < args.since:
        return False
    return not (args.errors and not cassette.is_error)


def _name_filter(args: argparse.Namespace) -> Callable[[str], bool] | None:
    """What rules a cassette out by its file name alone, so it is never opened (a name that
    does not parse, say a renamed file, is opened and filtered on its contents); None when
    no filter looks at names: parsing a name costs as much as reading a summary."""
    if not args.method and args.since is None:
        return None
    from timetracer.cassette.naming import parse_cassette_name

    # Names keep only the letters of a method (cassette_name): compare it the same way.
    method = re.sub(r"[^A-Z]", "", args.method.upper())[:16] if args.method else None
    # The name holds the start time cut to the millisecond: it started before that + 1 ms.
    since_ns = None if args.since is None else int(args.since.timestamp() * 1e9)

    def skip(path: str) -> bool:
        parsed = parse_cassette_name(os.path.basename(path))
        if parsed is None:
            return False
        start_ms_floor, name_method = parsed
        if method is not None and name_method != method:
            return True
        return since_ns is not None and start_ms_floor + _MS <= since_ns

    return skip


def _examine(args: argparse.Namespace, path: str) -> tuple[dict[str, Any] | str | None, str | None]:
    """The JSON row or text line of one cassette (None if the filters leave it out), or why
    it was skipped.

    Runs in the worker processes when there are many: what it returns is cheap to send back.
    """
    from timetracer.cassette.summary import load_summary
    from timetracer.cassette.views import summary

    try:
        cassette = load_summary(path)
    except CassetteError as error:
        return None, str(error)
    if not _keep(cassette, args):
        return None, None
    row = summary(cassette)
    return (row if args.json else _line(row)), None


def _line(row: dict[str, Any]) -> str:
    calls = ", ".join(f"{n} {system}" for system, n in row["calls"].items()) or "no calls"
    return (
        f"{row['recorded_at'][:23]}  {row['method'] or '-':6} {row['status'] or '-':>3}  "
        f"{row['duration_ms']:>9.1f} ms  {row['route']}  ({calls})  {row['path']}"
    )


def run(args: argparse.Namespace) -> int:
    """Print the cassettes; exit 2 if any file could not be read (the rest are still listed).

    Text lines are printed as they are read; ``--json`` prints one array at the end.
    """
    # Imported here, not at the top: they bring in protobuf, which no other command's
    # start-up should pay for.
    from timetracer.cassette.reader import cassette_files
    from timetracer.cli.workers import auto_jobs, ordered_map

    paths = cassette_files(args.dir)
    skip_by_name = _name_filter(args)
    if skip_by_name is not None:
        paths = [path for path in paths if not skip_by_name(path)]
    jobs = args.jobs if args.jobs is not None else auto_jobs(len(paths))
    rows: list[dict[str, Any] | str] = []
    listed = bad = 0
    for row, skipped in ordered_map(partial(_examine, args), paths, jobs):
        if skipped is not None:
            bad += 1
            print(f"timetracer: skipped {skipped}", file=sys.stderr)
        elif row is None:
            continue
        elif args.json:
            rows.append(row)
        else:
            listed += 1
            print(row)
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{listed} cassette(s)", file=sys.stderr)
    return 2 if bad else 0
