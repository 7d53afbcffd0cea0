"""``timetracer replay``: send recorded requests through the app with MongoDB answered from the
cassettes, and compare the responses with the recorded ones."""

from __future__ import annotations

import argparse
import importlib
import json
import os
import sys
from pathlib import Path
from typing import Any

from timetracer import envvars
from timetracer.errors import TimetracerError


def add_parser(commands: Any) -> None:
    """Register ``replay``."""
    parser = commands.add_parser(
        "replay",
        help="replay recorded requests through the app, with no database",
        description="Replay each cassette's request through the ASGI app in-process (lifespan "
        "included), answering its MongoDB calls from the cassette, and compare the response. "
        "Exit 0 if all pass, 1 if any differ, 2 for bad input.",
    )
    parser.add_argument("path", type=Path, help="a cassette or a directory of cassettes")
    parser.add_argument("--app", required=True, help="the ASGI app as module:attribute")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="leave a response path out of the comparison, e.g. body.created or "
        "body.items.*.id (repeatable; also TIMETRACER_IGNORE, comma-separated)",
    )
    parser.add_argument("--json", action="store_true", help="print a JSON report")
    parser.add_argument(
        "--all-cpus",
        action="store_true",
        help="let the replay's threads use every CPU (by default the app and the MongoDB "
        "responder share one CPU, which makes each hand-off between them cheaper)",
    )
    parser.set_defaults(handler=run)


def load_app(spec: str) -> Any:
    """Import ``module:attribute`` (from the current directory too), as uvicorn does."""
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise TimetracerError(f"--app {spec!r} is not valid: expected module:attribute")
    if os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())
    try:
        module = importlib.import_module(module_name)
    except ImportError as error:
        raise TimetracerError(f"--app {spec!r}: cannot import {module_name}: {error}") from error
    app: Any = module
    for part in attribute.split("."):
        try:
            app = getattr(app, part)
        except AttributeError:
            raise TimetracerError(f"--app {spec!r}: {module_name} has no {attribute}") from None
    return app


class _Progress:
    """A one-line progress bar on stderr, only when stderr is a terminal."""

    def __init__(self, total: int) -> None:
        self.total, self.done = total, 0
        self.enabled = sys.stderr.isatty() and total > 1

    def step(self) -> None:
        self.done += 1
        if self.enabled:
            filled = int(30 * self.done / self.total)
            bar = "#" * filled + "-" * (30 - filled)
            sys.stderr.write(f"\r[{bar}] {self.done}/{self.total}")
            if self.done == self.total:
                sys.stderr.write("\r" + " " * 50 + "\r")
            sys.stderr.flush()


def _line(result: Any) -> str:
    what = f"{result.method} {result.target}".strip() or result.path
    if result.error:
        # One line per cassette that cannot be replayed: the file, then why. A load error's
        # text already starts with the file.
        if result.error.startswith(f"{result.path}: "):
            return f"ERROR {result.error}"
        head = result.path if what == result.path else f"{what}  {result.path}"
        return f"ERROR {head}: {result.error}"
    verdict = "PASS " if result.passed else "FAIL "
    lines = [
        f"{verdict}{what}  ({result.recorded_status} -> {result.replayed_status})  {result.path}"
    ]
    for miss in result.misses:
        lines.extend("      " + row for row in miss.splitlines())
    lines.extend(f"      {unused}" for unused in result.unused_calls)
    lines.extend(f"      {d.describe()}" for d in result.differences if not d.noise)
    return "\n".join(lines)


def _replay(args: argparse.Namespace, paths: list[Path], ignore: list[str]) -> list[Any]:
    """Start the responder, load the app, replay every cassette, printing as results come."""
    import asyncio

    from timetracer_replay.runner import replay_cassettes
    from timetracer_replay.session import global_session

    # Redirect MongoDB clients before the app module is imported: clients created at import
    # time must reach the responder, not the recorded host.
    session = global_session()
    try:
        app = load_app(args.app)
        progress = _Progress(len(paths))

        def report(result: Any) -> None:
            progress.step()
            if not args.json:
                if progress.enabled:
                    sys.stderr.write("\r")
                print(_line(result), flush=True)

        results: list[Any] = asyncio.run(
            replay_cassettes(app, paths, ignore=ignore, session=session, on_result=report)
        )
    finally:
        session.stop()
    return results


def run(args: argparse.Namespace) -> int:
    """Replay and report; 0 all passed, 1 some differ, 2 bad input."""
    from timetracer.cassette import iter_cassette_paths
    from timetracer_replay.affinity import one_cpu

    paths = list(iter_cassette_paths(args.path))
    if not paths:
        raise TimetracerError(f"{args.path}: no cassettes found")
    ignore = list(args.ignore)
    ignore += [
        p.strip() for p in os.environ.get(envvars.TIMETRACER_IGNORE, "").split(",") if p.strip()
    ]
    # One CPU from here on, for this thread and the threads it starts (the responder among
    # them): replay is a ping-pong between the two, serialized by the GIL anyway.
    with one_cpu(not args.all_cpus):
        results = _replay(args, paths, ignore)
    passed = sum(r.passed for r in results)
    errors = sum(r.error is not None for r in results)
    failed = len(results) - passed - errors
    if args.json:
        summary = {"passed": passed, "failed": failed, "errors": errors}
        print(json.dumps({"summary": summary, "results": [r.to_dict() for r in results]}, indent=2))
    else:
        print(f"{passed} passed, {failed} failed" + (f", {errors} errors" if errors else ""))
    if errors:
        return 2
    return 0 if failed == 0 else 1
