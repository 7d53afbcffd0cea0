"""``timetracer show``: everything one cassette recorded."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any


def add_parser(commands: Any) -> None:
    """Register ``show``."""
    parser = commands.add_parser(
        "show",
        help="show one cassette",
        description="Show the request, the response and every dependency call of a cassette.",
    )
    parser.add_argument("cassette", type=Path)
    parser.add_argument("--json", action="store_true", help="print JSON")
    parser.set_defaults(handler=run)


def _text(view: dict[str, Any]) -> str:
    lines = [f"cassette  {view['path']}", f"trace     {view['trace_id']}"]
    request, response = view["request"], view["response"]
    if request is not None:
        query = f"?{request['query']}" if request["query"] else ""
        lines.append(f"request   {request['method']} {request['url_path']}{query}")
        lines.append(f"route     {request['route']}")
        if request["body"] is not None:
            lines.append(f"  body    {json.dumps(request['body'])[:2000]}")
    if response is not None:
        lines.append(f"response  {response['status']}  ({view['duration_ms']} ms)")
        if response["body"] is not None:
            lines.append(f"  body    {json.dumps(response['body'])[:2000]}")
    if view["error"]:
        lines.append(f"error     {view['error']}")
    lines.append(f"calls     {len(view['calls'])}")
    for index, call in enumerate(view["calls"], 1):
        outcome = "FAILED " + json.dumps(call["failure"]) if "failure" in call else "ok"
        target = f"{call['database']}.{call['collection'] or ''}".rstrip(".")
        lines.append(
            f"  {index:>3}. {call['operation']:<14} {target:<30} {call['duration_ms']:>8.2f} ms  "
            f"{outcome}"
        )
        lines.append(f"       command {json.dumps(call['command'])[:500]}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Print one cassette."""
    from timetracer.cassette import load_cassette
    from timetracer.cassette.views import detail

    view = detail(load_cassette(args.cassette))
    print(json.dumps(view, indent=2) if args.json else _text(view))
    return 0
