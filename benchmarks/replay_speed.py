"""2. Replay speed: the recorded requests replayed in-process with no database, against the
same requests sent live to nx-27017; and how the per-call cost scales with cassette size.

The replay side is what ``timetracer replay`` runs (``replay_cassettes``): each cassette is
loaded, its request sent through the app, its MongoDB calls answered by the in-process
responder, and the response compared with the recorded one. The live side is the
uninstrumented scenario with a fresh database per round.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from benchmarks import lookup
from benchmarks.common import Settings, interleaved, run_worker, summarize, worker_main
from benchmarks.overhead import run_scenario
from benchmarks.variants import BASELINE, RECORD_DEFAULT

BAR_RATIO = 3.0
REPLAY = "replay"
"""Replay as ``timetracer replay`` runs it: on one CPU."""
REPLAY_ALL_CPUS = "replay-all-cpus"
"""Replay with the threads free to use every CPU (``timetracer replay --all-cpus``)."""
NOWHERE = "mongodb://db.invalid:27017/"
"""Where the replayed app thinks its database is; nothing may ever connect there."""


def work(args: dict[str, Any]) -> dict[str, Any]:
    """Worker: replay every cassette in a directory through a fresh app, timed."""
    from timetracer_replay.affinity import one_cpu

    # `timetracer replay` keeps the app's thread and the responder on one CPU; the
    # "all CPUs" variant shows what that is worth.
    with one_cpu(args["one_cpu"]) as cpu:
        return {**_replay(args), "pinned_cpu": cpu}


def _replay(args: dict[str, Any]) -> dict[str, Any]:
    from benchmarks.scenario import build_app
    from timetracer.cassette import iter_cassette_paths
    from timetracer_replay.runner import replay_cassettes
    from timetracer_replay.session import ReplaySession

    paths = list(iter_cassette_paths(args["cassette_dir"]))
    session = ReplaySession().start()
    try:
        app = build_app(NOWHERE, args["database"])
        # Warm-up: imports, the responder's first connection, the app's first requests.
        asyncio.run(replay_cassettes(app, paths[: args["warmup"]], session=session))
        began = time.perf_counter_ns()
        results = asyncio.run(replay_cassettes(app, paths, session=session))
        wall_ns = time.perf_counter_ns() - began
    finally:
        session.stop()
    return {
        "replayed": len(results),
        "passed": sum(1 for result in results if result.passed),
        "throughput_rps": len(results) / (wall_ns / 1e9),
    }


def _round(settings: Settings, variant: str, index: int, database: str) -> dict[str, Any]:
    if variant in (REPLAY, REPLAY_ALL_CPUS):
        return run_worker(
            "replay_speed",
            {
                "cassette_dir": str(settings.workdir / "replay" / "recorded"),
                "database": database,
                "warmup": settings.warmup,
                "one_cpu": variant == REPLAY,
            },
        )
    return run_scenario(
        settings,
        BASELINE,
        f"bench_live_r{index}",
        settings.workdir / "replay" / f"live{index}",
        requests=settings.requests,
        warmup=settings.warmup,
    )


def run(settings: Settings) -> dict[str, Any]:
    """Record once, then interleave live and replayed rounds; then the lookup scaling."""
    database = "bench_replay"
    run_scenario(
        settings,
        RECORD_DEFAULT,
        database,
        settings.workdir / "replay" / "recorded",
        requests=settings.requests,
        warmup=0,
    )
    rounds = interleaved(
        ("live", REPLAY, REPLAY_ALL_CPUS),
        settings.rounds,
        lambda variant, index: _round(settings, variant, index, database),
    )
    def ratio_to_live(variant: str) -> dict[str, Any]:
        pairs = zip(rounds[variant], rounds["live"], strict=True)
        return summarize([r["throughput_rps"] / live["throughput_rps"] for r, live in pairs], 2)

    ratio = ratio_to_live(REPLAY)
    return {
        "requests": settings.requests,
        "rounds": settings.rounds,
        "live_rps": summarize([live["throughput_rps"] for live in rounds["live"]], 1),
        "replay_rps": summarize([r["throughput_rps"] for r in rounds[REPLAY]], 1),
        "throughput_ratio": ratio,
        "all_cpus_rps": summarize([r["throughput_rps"] for r in rounds[REPLAY_ALL_CPUS]], 1),
        "all_cpus_throughput_ratio": ratio_to_live(REPLAY_ALL_CPUS),
        "pinned_cpus": [r["pinned_cpu"] for r in rounds[REPLAY]],
        "replayed_passed": [
            f"{r['passed']}/{r['replayed']}" for r in rounds[REPLAY] + rounds[REPLAY_ALL_CPUS]
        ],
        "bar": {
            "rule": f"replay throughput (on one CPU, as `timetracer replay` runs it) >= "
            f"{BAR_RATIO}x the live throughput",
            "met": ratio["median"] >= BAR_RATIO,
        },
        "lookup": lookup.run(settings),
    }


if __name__ == "__main__":
    worker_main(work)
