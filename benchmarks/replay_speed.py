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
NOWHERE = "mongodb://db.invalid:27017/"
"""Where the replayed app thinks its database is; nothing may ever connect there."""


def work(args: dict[str, Any]) -> dict[str, Any]:
    """Worker: replay every cassette in a directory through a fresh app, timed."""
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
    if variant == "replay":
        return run_worker(
            "replay_speed",
            {
                "cassette_dir": str(settings.workdir / "replay" / "recorded"),
                "database": database,
                "warmup": settings.warmup,
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
        ("live", "replay"),
        settings.rounds,
        lambda variant, index: _round(settings, variant, index, database),
    )
    pairs = list(zip(rounds["replay"], rounds["live"], strict=True))
    ratio = summarize([r["throughput_rps"] / live["throughput_rps"] for r, live in pairs], 2)
    return {
        "requests": settings.requests,
        "rounds": settings.rounds,
        "live_rps": summarize([live["throughput_rps"] for live in rounds["live"]], 1),
        "replay_rps": summarize([r["throughput_rps"] for r in rounds["replay"]], 1),
        "throughput_ratio": ratio,
        "replayed_passed": [f"{r['passed']}/{r['replayed']}" for r in rounds["replay"]],
        "bar": {
            "rule": f"replay throughput >= {BAR_RATIO}x the live throughput",
            "met": ratio["median"] >= BAR_RATIO,
        },
        "lookup": lookup.run(settings),
    }


if __name__ == "__main__":
    worker_main(work)
