"""``timetracer serve``: the live dashboard of a cassette directory, on loopback by default."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from timetracer import envvars
from timetracer.cli.collect_cmd import is_loopback, parse_listen
from timetracer.errors import TimetracerError

if TYPE_CHECKING:
    from timetracer.dashboard.replay import ReplayAction

DEFAULT_LISTEN = "127.0.0.1:8765"
_PREFIX = "timetracer serve:"


def add_parser(commands: Any) -> None:
    """Register ``serve``."""
    parser = commands.add_parser(
        "serve",
        help="serve a live dashboard of DIR",
        description="Serve the dashboard of the cassettes under DIR; new cassettes show up "
        "without a restart. Read-only, except that with --app a button replays a cassette "
        "through the app (MongoDB answered from the cassette) and shows the differences.",
    )
    parser.add_argument("dir", type=Path, metavar="DIR", help="the cassette directory")
    parser.add_argument(
        "--listen",
        type=parse_listen,
        default=parse_listen(DEFAULT_LISTEN),
        metavar="HOST:PORT",
        help=f"address to serve on (default {DEFAULT_LISTEN}: this machine only); "
        "port 0 picks a free port",
    )
    parser.add_argument("--open", action="store_true", help="open the page in the browser")
    parser.add_argument(
        "--app", metavar="MODULE:APP", help="the ASGI app the replay button replays through"
    )
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="leave a response path out of replay comparisons, as for timetracer replay "
        "(repeatable; also TIMETRACER_IGNORE)",
    )
    parser.set_defaults(handler=run)


def _replay_action(spec: str, ignore: list[str]) -> tuple[ReplayAction, Any]:
    """The replay button's action and the session it holds (stop it when done)."""
    from timetracer.cli.replay_cmd import load_app
    from timetracer.dashboard.replay import ReplayAction
    from timetracer_replay.session import global_session

    ignore = ignore + [
        p.strip() for p in os.environ.get(envvars.TIMETRACER_IGNORE, "").split(",") if p.strip()
    ]
    # Redirect MongoDB clients before the app module is imported, as timetracer replay does.
    session = global_session()
    try:
        app = load_app(spec)
    except BaseException:
        session.stop()
        raise
    return ReplayAction(app, spec, session, ignore), session


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT."""
    from timetracer.dashboard.catalog import CassetteCatalog
    from timetracer.dashboard.server import DashboardServer

    if not args.dir.is_dir():
        raise TimetracerError(f"{args.dir}: not a directory")
    catalog = CassetteCatalog(args.dir)
    listing = catalog.scan()
    host, port = args.listen
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    replay, session = _replay_action(args.app, args.ignore) if args.app else (None, None)
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        server = DashboardServer((host, port), catalog, replay=replay).start()
        try:
            if not is_loopback(host):
                print(
                    f"{_PREFIX} warning: listening on {host}: anyone who can reach this port "
                    "can read every recorded request",
                    file=sys.stderr,
                )
            skipped = f", {len(listing.skipped)} unreadable" if listing.skipped else ""
            print(
                f"{_PREFIX} {args.dir} ({len(listing.rows)} cassette(s){skipped}) "
                f"on {server.url}" + (f", replaying through {args.app}" if args.app else ""),
                flush=True,
            )
            if args.open:
                import webbrowser

                webbrowser.open(server.url)
            while not stop.wait(0.5):
                pass
        finally:
            server.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        if session is not None:
            session.stop()
    print(f"{_PREFIX} stopped", flush=True)
    return 0
