"""Run timetracer's benchmarks, print a table and write the results as JSON.

    python benchmarks/run.py                 # everything (about 15 minutes on 2 cores)
    python benchmarks/run.py --quick         # small rounds: a smoke run in well under a minute
    python benchmarks/run.py --only size list
    make bench                               # bootstrap the venv, then the full run

One nx-27017 server is started for the run (on a free loopback port) and stopped at the end;
every measured variant runs in its own worker process. Results go to
``benchmarks/results/latest.json`` (git-ignored).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make the repository importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    exporter_throughput,
    list_speed,
    memory,
    overhead,
    replay_speed,
    size,
)
from benchmarks.common import REPO, Settings
from benchmarks.machine import describe_machine
from benchmarks.table import render

BENCHMARKS: dict[str, Callable[[Settings], dict[str, Any]]] = {
    "size": size.run,
    "overhead": overhead.run,
    "replay": replay_speed.run,
    "exporter": exporter_throughput.run,
    "memory": memory.run,
    "list": list_speed.run,
}
DEFAULT_OUTPUT = REPO / "benchmarks" / "results" / "latest.json"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="benchmarks/run.py", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="small rounds (a smoke run)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=list(BENCHMARKS),
        metavar="NAME",
        help=f"run only these: {', '.join(BENCHMARKS)}",
    )
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="the JSON file")
    parser.add_argument("--markdown", action="store_true", help="print the table as Markdown")
    parser.add_argument("--keep", action="store_true", help="keep the scratch directory")
    parser.add_argument(
        "--scratch",
        type=Path,
        default=None,
        help="where cassettes and nx-27017's files go (default: the system temp directory)",
    )
    return parser


def run_all(names: Sequence[str], settings: Settings) -> dict[str, Any]:
    """Run the named benchmarks in order, each timed; a failing one is reported, not fatal."""
    results: dict[str, Any] = {}
    for name in names:
        print(f"benchmarks: {name} ...", file=sys.stderr, flush=True)
        began = time.monotonic()
        try:
            results[name] = BENCHMARKS[name](settings)
        except Exception as exc:  # one broken benchmark must not lose the others' results
            results[name] = {"error": f"{type(exc).__name__}: {exc}"}
        results[name]["elapsed_s"] = round(time.monotonic() - began, 1)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run, print the table, write the JSON; exit 1 if a benchmark could not run."""
    from tests.support.nx_server import NxServer

    args = _parser().parse_args(argv)
    names = args.only or list(BENCHMARKS)
    workdir = Path(tempfile.mkdtemp(prefix="timetracer-bench-", dir=args.scratch))
    settings = Settings(quick=args.quick, workdir=workdir)
    started = time.strftime("%Y-%m-%dT%H:%M:%S%z")
    load_before = os.getloadavg()
    began = time.monotonic()
    try:
        with NxServer(workdir / "nx-27017") as server:
            results = run_all(names, replace(settings, uri=server.uri))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    document = {
        "started": started,
        "elapsed_s": round(time.monotonic() - began, 1),
        "command": "python benchmarks/run.py" + (" --quick" if args.quick else ""),
        "quick": args.quick,
        "scratch": str(workdir.parent),
        "settings": {"rounds": settings.rounds, "requests_per_round": settings.requests},
        "machine": describe_machine(load_before),
        "benchmarks": results,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(document, indent=2) + "\n", encoding="utf-8")
    print(render(document, markdown=args.markdown))
    print(f"\nwritten to {args.output}", file=sys.stderr)
    return 1 if any("error" in result for result in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
