"""``timetracer collect``: receive OTLP traces over HTTP and write them as cassettes.

Apps (``OTEL_TRACES_EXPORTER=otlp`` with ``http/protobuf``) or an OpenTelemetry Collector
(an ``otlp_http`` exporter) send to it; it prints one line when it listens, one per cassette
written, and a summary when SIGTERM or Ctrl-C stops it after writing what it holds.
"""

from __future__ import annotations

import argparse
import ipaddress
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

from timetracer.config import COMPRESSIONS, DEFAULT_COMPRESSION

if TYPE_CHECKING:
    from timetracer.receiver import FinishedTrace

# The receiver's own defaults (timetracer.receiver.service), repeated here because importing
# the receiver (protobuf, http.server) costs more than every other command's start-up; a unit
# test keeps the two in step.
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 4318
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
_PREFIX = "timetracer collect:"


def add_parser(commands: Any) -> None:
    """Register ``collect``."""
    parser = commands.add_parser(
        "collect",
        help="receive OTLP/HTTP traces and write them as cassettes",
        description="Serve POST /v1/traces (OTLP/HTTP, protobuf or JSON, gzip or deflate) and "
        "write one cassette per request, like the in-process exporter does. Stop it with "
        "SIGTERM or Ctrl-C: it writes what it holds first.",
    )
    parser.add_argument("--dir", type=Path, required=True, help="where cassettes are written")
    parser.add_argument(
        "--listen",
        type=parse_listen,
        default=(DEFAULT_HOST, DEFAULT_PORT),
        metavar="HOST:PORT",
        help=f"address to serve on (default {DEFAULT_HOST}:{DEFAULT_PORT}: this machine only); "
        "port 0 picks a free port",
    )
    parser.add_argument(
        "--token", help="require 'Authorization: Bearer TOKEN' on every request (401 otherwise)"
    )
    parser.add_argument(
        "--compression",
        choices=COMPRESSIONS,
        default=DEFAULT_COMPRESSION,
        help=f"compression of written cassettes (default {DEFAULT_COMPRESSION})",
    )
    parser.add_argument(
        "--max-body-bytes",
        type=_positive_int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help="largest request body, before and after decompression (413 above it); "
        f"default {DEFAULT_MAX_BODY_BYTES}",
    )
    parser.add_argument(
        "--settle",
        type=_seconds,
        default=1.0,
        metavar="SECONDS",
        help="how long a request's root span waits for spans sent in other requests (default 1)",
    )
    parser.add_argument(
        "--max-wait",
        type=_seconds,
        default=300.0,
        metavar="SECONDS",
        help="drop spans whose root has not arrived after this long without news (default 300)",
    )
    parser.add_argument("--quiet", action="store_true", help="no line per cassette written")
    parser.set_defaults(handler=run)


def parse_listen(text: str) -> tuple[str, int]:
    """``HOST:PORT`` (``[::1]:PORT`` for IPv6) as a tuple; an empty host means loopback."""
    host, sep, port = text.strip().rpartition(":")
    if not sep or not port.isdigit() or int(port) > 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not HOST:PORT, e.g. 127.0.0.1:4318")
    return host.strip("[]") or DEFAULT_HOST, int(port)


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _positive_int(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        value = 0
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of bytes > 0")
    return value


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = -1.0
    if not 0 <= value < float("inf"):
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0")
    return value


def _report(path: Path, finished: FinishedTrace) -> None:
    print(f"{_PREFIX} wrote {path} ({finished.span_count} spans)", flush=True)


def summary(stats: dict[str, int], directory: Path) -> str:
    """The closing line: what was written, then every non-zero loss or refusal."""
    line = f"{_PREFIX} wrote {stats['written']} cassette(s) to {directory}"
    details = [
        f"{stats[key]} {label}"
        for key, label in (
            ("requests", "request(s) accepted"),
            ("rejected_requests", "request(s) refused"),
            ("rejected_spans", "span(s) with invalid ids"),
            ("skipped", "trace(s) without payloads skipped"),
            ("late_spans", "late span(s)"),
            ("duplicate_spans", "duplicate span(s)"),
            ("expired", "trace(s) expired without a root"),
            ("evicted", "trace(s) evicted over the memory bounds"),
            ("dropped_at_shutdown", "unfinished trace(s) dropped at shutdown"),
            ("failed", "write(s) failed"),
        )
        if stats[key]
    ]
    return f"{line} ({', '.join(details)})" if details else line


def run(args: argparse.Namespace) -> int:
    """Serve until SIGTERM or SIGINT, then write what is held and print the summary."""
    from timetracer.receiver import CollectReceiver

    host, port = args.listen
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        stop.set()

    # Installed before listening: a stop request that comes right away must still flush.
    previous = {sig: signal.signal(sig, request_stop) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        receiver = CollectReceiver(
            args.dir,
            host=host,
            port=port,
            token=args.token,
            compression=args.compression,
            max_body_bytes=args.max_body_bytes,
            settle_seconds=args.settle,
            max_wait_seconds=args.max_wait,
            on_write=None if args.quiet else _report,
        ).start()
        try:
            if not is_loopback(host) and not args.token:
                print(
                    f"{_PREFIX} warning: listening on {host} without --token: anyone who can "
                    "reach this port can write cassettes",
                    file=sys.stderr,
                )
            print(f"{_PREFIX} listening on {receiver.url}, writing to {args.dir}", flush=True)
            while not stop.wait(0.5):
                pass
        finally:
            receiver.close()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    print(summary(receiver.stats.snapshot(), args.dir), flush=True)
    return 0
