"""``timetracer diff A B``: what changed between two cassettes.

Exit 0 when they are the same (noise and timings aside), 1 when they differ, 2 for bad input.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timetracer.cli.style import Style

if TYPE_CHECKING:
    from timetracer.cassette.diff import CallDiff, CassetteDiff
    from timetracer.cassette.jsondiff import Change

_MARKS = {"same": " ", "changed": "~", "added": "+", "removed": "-"}
_COLOURS = {"changed": "yellow", "added": "green", "removed": "red"}


def add_parser(commands: Any) -> None:
    """Register ``diff``."""
    parser = commands.add_parser(
        "diff",
        help="show what differs between two cassettes",
        description="Compare two cassettes: the request (method, route, path, query, headers, "
        "body), the response (status, headers, body) and the dependency calls, aligned in "
        "order (added, removed and changed calls, with field differences and timing deltas). "
        "Generated ids and timestamps are shown as noise. Exit 0 when the same (noise and "
        "timings aside), 1 when different, 2 for bad input.",
    )
    parser.add_argument("before", type=Path, metavar="A", help="the first cassette")
    parser.add_argument("after", type=Path, metavar="B", help="the second cassette")
    parser.add_argument(
        "--ignore",
        action="append",
        default=[],
        metavar="PATH",
        help="leave a path out, e.g. response.body.created, request.headers.user-agent or "
        "calls.find.reply.cursor.firstBatch.*.seen (fnmatch pattern; repeatable)",
    )
    parser.add_argument("--json", action="store_true", help="print the differences as JSON")
    parser.set_defaults(handler=run)


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f} ms"


def _delta(before: float | None, after: float | None) -> str:
    if before is None or after is None:
        return ""
    return f"  ({after - before:+.2f} ms)"


def _heading(mark: str, side: dict[str, Any]) -> str:
    what = f"{side['method'] or ''} {side['route'] or ''}".strip()
    status = side["status"] if side["status"] is not None else "-"
    return (
        f"{mark} {side['path']}  {what}  {status}  {side['duration_ms']:.1f} ms  "
        f"({side['calls']} calls)"
    )


def _change_line(change: Change, style: Style, indent: str) -> str:
    line = f"{indent}{'~' if change.kind == 'changed' else _MARKS[change.kind]} "
    line += change.describe()
    return style.paint(line, "dim" if change.noise else _COLOURS[change.kind])


def _call_lines(call: CallDiff, style: Style) -> list[str]:
    before = f"#{call.before}" if call.before else ""
    after = f"#{call.after}" if call.after else ""
    timing = (
        f"{_ms(call.before_ms)} -> {_ms(call.after_ms)}{_delta(call.before_ms, call.after_ms)}"
        if call.status in ("same", "changed")
        else _ms(call.before_ms if call.status == "removed" else call.after_ms)
    )
    head = (
        f"  {_MARKS[call.status]} {before:>4} {after:>4}  {call.operation:<16} "
        f"{call.target:<28} {timing}"
    )
    lines = [style.paint(head, _COLOURS.get(call.status, "dim"))]
    lines.extend(_change_line(change, style, "          ") for change in call.changes)
    return lines


def render(diff: CassetteDiff, style: Style) -> str:
    """The text report."""
    lines = [
        style.paint(_heading("---", diff.before), "bold"),
        style.paint(_heading("+++", diff.after), "bold"),
    ]
    for title, found in (("request", diff.request), ("response", diff.response)):
        lines.append(f"{title}" + ("" if found else "  same"))
        lines.extend(_change_line(change, style, "  ") for change in found)
    lines.append(f"calls  {diff.before['calls']} -> {diff.after['calls']}")
    for call in diff.calls:
        lines.extend(_call_lines(call, style))
    before_ms, after_ms = diff.before["duration_ms"], diff.after["duration_ms"]
    lines.append(f"duration  {_ms(before_ms)} -> {_ms(after_ms)}{_delta(before_ms, after_ms)}")
    if diff.identical:
        lines.append(style.paint("no differences (noise and timings aside)", "green"))
    else:
        lines.append(style.paint(f"{diff.differences} difference(s)", "red"))
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compare the two cassettes; 0 the same, 1 different (2 comes from bad input)."""
    from timetracer.cassette import load_cassette
    from timetracer.cassette.diff import diff_cassettes

    diff = diff_cassettes(load_cassette(args.before), load_cassette(args.after), ignore=args.ignore)
    if args.json:
        print(json.dumps(diff.to_dict(), indent=2, default=repr))
    else:
        print(render(diff, Style.for_stream(sys.stdout)))
    return 0 if diff.identical else 1
