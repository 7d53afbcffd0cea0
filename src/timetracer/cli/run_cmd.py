"""``timetracer run``: start a program under ``opentelemetry-instrument`` with timetracer."""

from __future__ import annotations

import argparse
import os
import shutil
import sys
from pathlib import Path
from typing import Any

from timetracer import envvars
from timetracer.config import COMPRESSIONS, Mode, TraceConfig
from timetracer.errors import TimetracerError


def add_parser(commands: Any) -> None:
    """Register ``run``."""
    parser = commands.add_parser(
        "run",
        help="run a program under opentelemetry-instrument with timetracer",
        description="Sets OTEL_PYTHON_DISTRO and OTEL_PYTHON_CONFIGURATOR to timetracer plus the "
        "TIMETRACER_* variables given, then replaces itself with "
        "`opentelemetry-instrument PROGRAM ARGS...`.",
    )
    parser.add_argument("--mode", choices=[m.value for m in Mode], default=Mode.RECORD.value)
    parser.add_argument("--dir", type=Path, help="cassette directory (TIMETRACER_DIR)")
    parser.add_argument("--cassette", type=Path, help="replay: one cassette (TIMETRACER_CASSETTE)")
    parser.add_argument("--compression", choices=COMPRESSIONS)
    parser.add_argument("program", help="the program to run, e.g. uvicorn")
    parser.add_argument("args", nargs=argparse.REMAINDER, help="its arguments")
    parser.set_defaults(handler=run)


def environment_for(args: argparse.Namespace, base: dict[str, str]) -> dict[str, str]:
    """The environment the program runs with (the command's flags override ``base``)."""
    env = dict(base)
    # The program (python, uvicorn, ...) resolves in the environment timetracer runs from, so
    # the launcher's sitecustomize finds the same OpenTelemetry packages.
    here = str(Path(sys.executable).parent)
    if env.get("PATH", "").split(os.pathsep)[:1] != [here]:
        env["PATH"] = os.pathsep.join([here, env.get("PATH", "")]).rstrip(os.pathsep)
    env["OTEL_PYTHON_DISTRO"] = "timetracer"
    env["OTEL_PYTHON_CONFIGURATOR"] = "timetracer"
    env[envvars.TIMETRACER_MODE] = args.mode
    if args.dir is not None:
        env[envvars.TIMETRACER_DIR] = str(args.dir)
    if args.cassette is not None:
        env[envvars.TIMETRACER_CASSETTE] = str(args.cassette)
    if args.compression is not None:
        env[envvars.TIMETRACER_COMPRESSION] = args.compression
    TraceConfig.from_env(env)  # refuse bad values here, before starting anything
    return env


def find_launcher() -> str:
    """``opentelemetry-instrument`` next to this Python, else on PATH."""
    beside = Path(sys.executable).parent / "opentelemetry-instrument"
    if beside.exists():
        return str(beside)
    found = shutil.which("opentelemetry-instrument")
    if found is None:
        raise TimetracerError(
            "opentelemetry-instrument was not found: install opentelemetry-instrumentation"
        )
    return found


def run(args: argparse.Namespace) -> int:
    """Replace this process with the instrumented program."""
    env = environment_for(args, dict(os.environ))
    launcher = find_launcher()
    program_args = [a for a in args.args if a != "--"] if args.args[:1] == ["--"] else args.args
    os.execvpe(launcher, [launcher, args.program, *program_args], env)
    return 0  # not reached: execvpe replaces the process
