"""6. ``timetracer list`` over a directory of 10,000 cassettes, as a user runs it.

A few hundred scenario requests are recorded (default compression), and their files are copied
under fresh names (new trace ids, later timestamps) until the directory holds the wanted count.
Each round runs the real console script with its output discarded; the baseline is the same script's
start-up alone (``timetracer --version``), so the difference is the listing itself. A third
variant lists with ``--jobs 1``: every file read in one process, as before worker processes.
"""

from __future__ import annotations

import random
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from benchmarks.common import Settings, interleaved, summarize
from benchmarks.overhead import run_scenario
from benchmarks.variants import RECORD_DEFAULT
from timetracer.cli.workers import auto_jobs

BAR_SECONDS = 1.0
RECORDED = 300


def populate(source: Path, target: Path, count: int) -> int:
    """Fill ``target`` with ``count`` cassettes copied from those in ``source``."""
    from timetracer.cassette.naming import cassette_name

    originals = [path.read_bytes() for path in sorted(source.glob("*.cassette"))]
    target.mkdir(parents=True, exist_ok=True)
    generator = random.Random(7)
    start_ns = time.time_ns()
    for index in range(count):
        name = cassette_name(
            "POST", "/items/{sku}/orders", generator.getrandbits(128), start_ns + index * 10**6
        )
        (target / name).write_bytes(originals[index % len(originals)])
    return len(originals)


def _timed(command: list[str]) -> float:
    began = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - began


def run(settings: Settings) -> dict[str, Any]:
    """Build the directory, then time listing it against the script's bare start-up."""
    count = 500 if settings.quick else 10_000
    recorded = settings.workdir / "list" / "recorded"
    run_scenario(
        settings,
        RECORD_DEFAULT,
        "bench_list",
        recorded,
        requests=min(RECORDED, settings.requests),
        warmup=0,
    )
    directory = settings.workdir / "list" / "cassettes"
    distinct = populate(recorded, directory, count)
    script = str(Path(sys.executable).with_name("timetracer"))
    commands = {
        "startup": [script, "--version"],
        "list": [script, "list", str(directory)],
        # What the reading costs without worker processes: the per-cassette work alone.
        "one-process": [script, "list", "--jobs", "1", str(directory)],
    }
    _timed(commands["list"])  # the first read fills the page cache; every round then reads warm
    rounds = interleaved(tuple(commands), settings.rounds, lambda name, _: _timed(commands[name]))
    seconds = summarize(rounds["list"])

    def per_cassette(variant: str) -> dict[str, float]:
        spent = [full - bare for full, bare in zip(rounds[variant], rounds["startup"], strict=True)]
        return summarize([s / count * 1e6 for s in spent], 1)

    return {
        "cassettes": count,
        "distinct_recordings": distinct,
        "jobs": auto_jobs(count),
        "list_seconds": seconds,
        "one_process_seconds": summarize(rounds["one-process"]),
        "startup_seconds": summarize(rounds["startup"]),
        "us_per_cassette": per_cassette("list"),
        "one_process_us_per_cassette": per_cassette("one-process"),
        "bar": {
            "rule": f"timetracer list over {count} cassettes <= {BAR_SECONDS} s",
            "met": seconds["median"] <= BAR_SECONDS,
        },
    }
