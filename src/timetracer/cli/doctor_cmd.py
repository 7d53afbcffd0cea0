"""``timetracer doctor``: what a user needs to know when nothing gets recorded.

Exit 0 when nothing fails (warnings allowed), 1 when a check fails, 2 for bad usage.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from timetracer.cli.style import Style
from timetracer.config import Mode

if TYPE_CHECKING:
    from timetracer.doctor import Finding


def add_parser(commands: Any) -> None:
    """Register ``doctor``."""
    parser = commands.add_parser(
        "doctor",
        help="check why nothing gets recorded",
        description="Check the installation and the environment: the distro and configurator "
        "opentelemetry-instrument will pick, the mode, the cassette directory, the exporters, "
        "the instrumentors found and their versions, and known conflicts. With --mode, check "
        "what `timetracer run --mode MODE` would run with. Exit 0 when nothing fails, 1 when "
        "something does, 2 for bad usage.",
    )
    parser.add_argument(
        "--mode",
        choices=[m.value for m in Mode],
        help="check as `timetracer run --mode MODE` would start the app (it sets the distro, "
        "the configurator and TIMETRACER_MODE)",
    )
    parser.add_argument("--dir", type=Path, help="with --mode: the cassette directory")
    parser.add_argument("--json", action="store_true", help="print the findings as JSON")
    parser.set_defaults(handler=run)


def environment(args: argparse.Namespace) -> dict[str, str]:
    """The environment checked: this one, or what ``timetracer run`` would make of it."""
    env = dict(os.environ)
    if args.mode is None:
        return env
    # The same variables run_cmd.environment_for sets, without its validation: a bad value
    # is for the checks to report, not a reason to stop before reporting anything.
    env.update(OTEL_PYTHON_DISTRO="timetracer", OTEL_PYTHON_CONFIGURATOR="timetracer")
    env["TIMETRACER_MODE"] = args.mode
    if args.dir is not None:
        env["TIMETRACER_DIR"] = str(args.dir)
    return env


def render(findings: list[Finding], style: Style) -> str:
    """The text report: one mark and line per finding, hints below, a closing count."""
    from timetracer.doctor import FAIL, OK, WARN

    colours = {OK: "green", WARN: "yellow", FAIL: "red"}
    lines = []
    for finding in findings:
        mark = style.paint(f"{finding.status:<4}", colours[finding.status])
        lines.append(f"{mark}  {finding.check}: {finding.message}")
        if finding.hint:
            lines.append(f"      -> {finding.hint}")
    counts = Counter(f.status for f in findings)
    lines.append(
        f"{counts[OK]} ok, {counts[WARN]} warning(s), {counts[FAIL]} problem(s)"
        + ("" if counts[FAIL] else ": nothing stops recording")
    )
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Run every check and print the findings; 1 if any fails."""
    if args.dir is not None and args.mode is None:
        message = "--dir needs --mode (set TIMETRACER_DIR to check the environment as it is)"
        print(f"timetracer: {message}", file=sys.stderr)
        return 2
    from timetracer.doctor import FAIL, OK, WARN, run_checks

    findings = run_checks(environment(args))
    if args.json:
        counts = Counter(f.status for f in findings)
        summary = {status: counts[status] for status in (OK, WARN, FAIL)}
        report = {"summary": summary, "findings": [f.to_dict() for f in findings]}
        print(json.dumps(report, indent=2))
    else:
        print(render(findings, Style.for_stream(sys.stdout)))
    return 1 if any(f.status == FAIL for f in findings) else 0
