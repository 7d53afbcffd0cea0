"""What every benchmark shares: settings, worker subprocesses, interleaved rounds, statistics.

Instrumentation is process-global (contrib's PymongoInstrumentor even keeps the hooks of its
first ``instrument()`` call for the life of the process), so every measured variant runs in a
fresh worker process: ``python -m benchmarks.<module> '<json arguments>'``. A worker prints one
JSON object as its last line of output.
"""

from __future__ import annotations

import json
import math
import os
import statistics
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
WORKER_TIMEOUT = 900.0


@dataclass(frozen=True)
class Settings:
    """The sizes one run of the benchmarks uses (``--quick`` shrinks them)."""

    quick: bool
    workdir: Path
    """Scratch space: cassettes, generated directories, nx-27017's files."""
    uri: str = ""
    """The nx-27017 server every live variant talks to."""

    @property
    def rounds(self) -> int:
        """Interleaved rounds per comparison (medians are taken over them)."""
        return 1 if self.quick else 5

    @property
    def requests(self) -> int:
        """Requests per round of the scenario."""
        return 100 if self.quick else 2000

    @property
    def warmup(self) -> int:
        """Requests sent before timing starts (imports, connection pools, JIT-free caches)."""
        return 10 if self.quick else 200


def run_worker(module: str, args: dict[str, Any], *, timeout: float = WORKER_TIMEOUT) -> Any:
    """Run ``benchmarks.<module>``'s worker in a fresh interpreter and return its JSON result."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(REPO), os.environ.get("PYTHONPATH", "")]),
    }
    # Recording settings come from the arguments, never from the caller's environment.
    for name in [n for n in env if n.startswith(("TIMETRACER_", "OTEL_"))]:
        del env[name]
    proc = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{module}", json.dumps(args)],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = proc.stdout.strip().splitlines()
    if proc.returncode != 0 or not lines:
        raise RuntimeError(
            f"benchmark worker {module} {args} failed (exit {proc.returncode}):\n"
            f"{proc.stderr[-4000:]}"
        )
    return json.loads(lines[-1])


def worker_main(work: Callable[[dict[str, Any]], Any]) -> None:
    """Entry point of a worker: read the JSON arguments, print the JSON result."""
    result = work(json.loads(sys.argv[1]))
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.flush()


def interleaved(
    variants: Sequence[str], rounds: int, run_one: Callable[[str, int], Any]
) -> dict[str, list[Any]]:
    """Round 1 of every variant, then round 2 of every variant, ...

    The starting variant rotates from round to round, so no variant always runs first (on a
    cold cache) or right after the heaviest one.
    """
    results: dict[str, list[Any]] = {variant: [] for variant in variants}
    for index in range(rounds):
        shift = index % len(variants)
        for variant in [*variants[shift:], *variants[:shift]]:
            results[variant].append(run_one(variant, index))
    return results


def median(values: Sequence[float]) -> float:
    """The median (NaN for no values)."""
    return float(statistics.median(values)) if values else math.nan


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100), nearest-rank."""
    if not values:
        return math.nan
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return float(ordered[rank - 1])


def spread(values: Sequence[float]) -> list[float]:
    """``[min, max]`` over rounds: how far the rounds disagree."""
    return [float(min(values)), float(max(values))] if values else [math.nan, math.nan]


def summarize(values: Sequence[float], digits: int = 3) -> dict[str, Any]:
    """Median and spread of a per-round figure, rounded for the report."""
    return {
        "median": round(median(values), digits),
        "spread": [round(v, digits) for v in spread(values)],
        "rounds": [round(v, digits) for v in values],
    }


def thread_cpu_seconds() -> dict[int, float]:
    """CPU seconds (user + system) used so far by each live thread of this process (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    found: dict[int, float] = {}
    for tid in os.listdir("/proc/self/task"):
        try:
            with open(f"/proc/self/task/{tid}/stat", encoding="ascii") as handle:
                fields = handle.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue  # the thread ended meanwhile
        found[int(tid)] = (int(fields[11]) + int(fields[12])) / tick
    return found


def rss_bytes() -> int:
    """This process's resident set size now (Linux ``/proc``)."""
    with open("/proc/self/statm", encoding="ascii") as handle:
        resident_pages = int(handle.read().split()[1])
    return resident_pages * os.sysconf("SC_PAGE_SIZE")
