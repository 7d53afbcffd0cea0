"""Running scenarios that change process-wide state, each in a fresh Python process.

``auto_setup`` and ``enable_*`` change what can be set only once per process: the global tracer
provider, contrib's pymongo ``CommandTracer``, the wrap of the MongoDB client classes. So every
scenario runs in its own interpreter, ``python -m <module> NAME ARGS_JSON``, and prints one JSON
line the tests assert on. Independent scenarios run at the same time, to keep the suite quick.
When the tests run under coverage, so do the scenarios (their data files are combined with the
test run's).

A scenario module calls :func:`main` with its table of scenario functions.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
RESULT_PREFIX = "SCENARIO-RESULT "
_TIMEOUT = 120.0

Result = dict[str, Any]


@dataclass(frozen=True)
class Scenario:
    """One scenario run: ``module``'s function ``name`` called with ``args``."""

    module: str
    name: str
    args: Mapping[str, Any] = field(default_factory=dict)
    env: Mapping[str, str] = field(default_factory=dict)
    launcher: bool = False
    """Run under ``opentelemetry-instrument`` with timetracer's distro and configurator."""


class ScenarioFailed(AssertionError):
    """A scenario process exited badly or printed no result; the message holds its output."""


def _coverage_active() -> bool:
    coverage = sys.modules.get("coverage")
    return coverage is not None and coverage.Coverage.current() is not None


def command(scenario: Scenario) -> list[str]:
    """The command line of ``scenario``."""
    python = [sys.executable]
    if _coverage_active():
        rcfile = str(REPO / "pyproject.toml")
        python += ["-m", "coverage", "run", "--parallel-mode", f"--rcfile={rcfile}"]
    line = [*python, "-m", scenario.module, scenario.name, json.dumps(dict(scenario.args))]
    if scenario.launcher:
        line = [str(BIN / "opentelemetry-instrument"), *line]
    return line


def _environment(scenario: Scenario) -> dict[str, str]:
    # The scenarios decide timetracer's settings themselves; the outer run's must not leak in.
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIMETRACER_", "OTEL_"))}
    env["PYTHONPATH"] = str(REPO)
    if scenario.launcher:
        env["OTEL_PYTHON_DISTRO"] = "timetracer"
        env["OTEL_PYTHON_CONFIGURATOR"] = "timetracer"
    env.update(scenario.env)
    return env


def run_all(scenarios: Mapping[str, Scenario], workdir: Path) -> dict[str, Result]:
    """Run every scenario at once; return each one's result by key, or raise ScenarioFailed."""
    workdir.mkdir(parents=True, exist_ok=True)
    running: dict[str, tuple[subprocess.Popen[bytes], Path]] = {}
    for key, scenario in scenarios.items():
        output = workdir / f"{key}.out"
        with output.open("wb") as sink:
            running[key] = (
                subprocess.Popen(
                    command(scenario),
                    env=_environment(scenario),
                    cwd=REPO,
                    stdout=sink,
                    stderr=subprocess.STDOUT,
                ),
                output,
            )
    deadline = time.monotonic() + _TIMEOUT
    results: dict[str, Result] = {}
    for key, (process, output) in running.items():
        try:
            process.wait(timeout=max(1.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        results[key] = _result(key, process.returncode, output.read_text(errors="replace"))
    return results


def run(scenario: Scenario, workdir: Path) -> Result:
    """Run one scenario and return its result."""
    return run_all({scenario.name: scenario}, workdir)[scenario.name]


def _result(key: str, returncode: int, text: str) -> Result:
    for line in reversed(text.splitlines()):
        if line.startswith(RESULT_PREFIX) and returncode == 0:
            result: Result = json.loads(line[len(RESULT_PREFIX) :])
            return result
    raise ScenarioFailed(f"scenario {key} exited with {returncode}:\n{text[-6000:]}")


def main(table: Mapping[str, Callable[..., Result]], argv: list[str] | None = None) -> int:
    """Entry point of a scenario module: run ``argv[0]`` with the JSON arguments ``argv[1]``."""
    args = sys.argv[1:] if argv is None else argv
    name = args[0]
    kwargs = json.loads(args[1]) if len(args) > 1 else {}
    try:
        result = table[name](**kwargs)
    except Exception:
        traceback.print_exc()
        return 1
    sys.stdout.flush()
    print(RESULT_PREFIX + json.dumps(result, default=str), flush=True)
    return 0
