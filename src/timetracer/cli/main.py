"""``timetracer``: one argument parser, one sub-command module per command.

Exit codes: 0 ok, 1 differences found, 2 bad input or usage.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from timetracer.cli import (
    collect_cmd,
    dashboard_cmd,
    diff_cmd,
    doctor_cmd,
    export_cmd,
    list_cmd,
    replay_cmd,
    run_cmd,
    serve_cmd,
    show_cmd,
)
from timetracer.errors import TimetracerError
from timetracer.version import __version__

EXIT_OK = 0
EXIT_DIFFERENCES = 1
EXIT_BAD_INPUT = 2
EXIT_INTERRUPTED = 130  # 128 + SIGINT, as shells report a command stopped by Ctrl-C


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # argparse exits 2 on usage errors too
        self.print_usage(sys.stderr)
        self.exit(EXIT_BAD_INPUT, f"timetracer: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of every ``timetracer`` command."""
    parser = _Parser(
        prog="timetracer",
        description="Record web requests and their database calls as OTLP cassettes; "
        "replay them with no database.",
    )
    parser.add_argument("--version", action="version", version=f"timetracer {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.required = True
    for module in (
        run_cmd,
        list_cmd,
        show_cmd,
        diff_cmd,
        export_cmd,
        replay_cmd,
        collect_cmd,
        dashboard_cmd,
        serve_cmd,
        doctor_cmd,
    ):
        module.add_parser(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command; return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.handler(args))
    except TimetracerError as error:
        print(f"timetracer: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    except BrokenPipeError:  # output piped into head and closed
        return EXIT_OK
    except KeyboardInterrupt:  # Ctrl-C: what ran has been cleaned up on the way out
        print("timetracer: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())
