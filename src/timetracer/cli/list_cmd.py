"""``timetracer list``: one line (or JSON object) per cassette."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.cassette.model import Cassette
from timetracer.cassette.views import summary
from timetracer.errors import CassetteError


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
    parser.set_defaults(handler=run)


def _keep(cassette: Cassette, args: argparse.Namespace) -> bool:
    exchange = cassette.exchange
    if args.method and (exchange is None or exchange.method.upper() != args.method.upper()):
        return False
    if args.status is not None and (exchange is None or exchange.status != args.status):
        return False
    if args.route and (exchange is None or args.route not in exchange.route):
        return False
    return not (args.errors and not cassette.is_error)


def run(args: argparse.Namespace) -> int:
    """Print the cassettes; exit 2 if any file could not be read (the rest are still listed)."""
    rows: list[dict[str, Any]] = []
    bad = 0
    for path in iter_cassette_paths(args.dir):
        try:
            cassette = load_cassette(path)
        except CassetteError as error:
            bad += 1
            print(f"timetracer: skipped {error}", file=sys.stderr)
            continue
        if _keep(cassette, args):
            rows.append(summary(cassette))
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        for row in rows:
            calls = ", ".join(f"{n} {system}" for system, n in row["calls"].items()) or "no calls"
            print(
                f"{row['recorded_at'][:23]}  {row['method'] or '-':6} {row['status'] or '-':>3}  "
                f"{row['duration_ms']:>9.1f} ms  {row['route']}  ({calls})  {row['path']}"
            )
        print(f"{len(rows)} cassette(s)", file=sys.stderr)
    return 2 if bad else 0
