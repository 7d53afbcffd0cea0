"""Part of 2. Replay speed: does the per-call replay cost stay flat as a cassette grows?

Two cassettes are recorded from a script (a root span around N ``find_one`` calls, each with a
different filter): a small one and a large one. Each is then replayed in a fresh worker: the
cassette is loaded and indexed, and the same N calls are made against the responder. Reported
per call: the whole cost (load + index + calls) and the calls alone (the lookups); the bar is
judged on the calls alone, which is where a non-O(1) lookup would show.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Settings,
    interleaved,
    median,
    run_worker,
    summarize,
    worker_main,
)

BAR_RATIO = 2.0
SMALL = 100
NOWHERE = "mongodb://db.invalid:27017/"


def _filter(index: int) -> dict[str, Any]:
    from benchmarks.scenario import sku

    # A different command every time, matching a real document, so every lookup is a new key.
    return {"sku": sku(index), "stock": {"$gte": -index}}


def record(args: dict[str, Any]) -> dict[str, Any]:
    """Worker: record one cassette per requested size, through the distro's pymongo hooks."""
    from opentelemetry.instrumentation.pymongo import PymongoInstrumentor
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from pymongo import MongoClient

    from benchmarks.scenario import seed
    from timetracer.config import TraceConfig
    from timetracer.distro import TimetracerDistro
    from timetracer_exporter import CassetteSpanExporter

    seed(args["uri"], "bench_lookup")
    root = Path(args["cassette_dir"])
    config = TraceConfig(mode="record", cassette_dir=root)
    exporter = CassetteSpanExporter(config=config)
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    PymongoInstrumentor().instrument(
        tracer_provider=provider, **TimetracerDistro()._record_options("pymongo", config)
    )
    client: MongoClient[dict[str, Any]] = MongoClient(args["uri"])
    items = client.bench_lookup.items
    for size in args["sizes"]:
        exporter.cassette_dir = root / f"calls-{size}"
        with provider.get_tracer("bench").start_as_current_span(f"lookup-{size}"):
            for index in range(size):
                items.find_one(_filter(index))
    client.close()
    provider.shutdown()
    return {"written": exporter.stats.written}


def replay(args: dict[str, Any]) -> dict[str, Any]:
    """Worker: replay one cassette ``repeats`` times; per-call costs of the median repeat."""
    from pymongo import MongoClient

    from timetracer.cassette import iter_cassette_paths, load_cassette
    from timetracer_replay.session import ReplaySession, scope_for

    [path] = iter_cassette_paths(args["cassette_dir"])
    size = args["size"]
    session = ReplaySession().start()
    whole: list[float] = []
    calls: list[float] = []
    try:
        client: MongoClient[dict[str, Any]] = MongoClient(NOWHERE)
        client.admin.command("ping")  # connect before timing: only replay work is measured
        items = client.bench_lookup.items
        for _ in range(args["repeats"]):
            began = time.perf_counter_ns()
            scope = scope_for(load_cassette(path))
            with session.scope(scope):
                loaded = time.perf_counter_ns()
                for index in range(size):
                    items.find_one(_filter(index))
            ended = time.perf_counter_ns()
            if scope.misses:
                raise RuntimeError(f"lookup replay missed: {scope.misses[0]}")
            whole.append((ended - began) / size / 1e3)
            calls.append((ended - loaded) / size / 1e3)
        client.close()
    finally:
        session.stop()
    return {"whole_us_per_call": median(whole), "lookup_us_per_call": median(calls)}


def work(args: dict[str, Any]) -> dict[str, Any]:
    """Worker entry: ``record`` or ``replay``."""
    return record(args) if args["action"] == "record" else replay(args)


def run(settings: Settings) -> dict[str, Any]:
    """Record a small and a large cassette, then replay them in interleaved rounds."""
    large = 500 if settings.quick else 10_000
    root = settings.workdir / "lookup"
    run_worker(
        "lookup",
        {
            "action": "record",
            "uri": settings.uri,
            "cassette_dir": str(root),
            "sizes": [SMALL, large],
        },
    )

    def one(variant: str, index: int) -> dict[str, Any]:
        size = SMALL if variant == "small" else large
        # The small cassette replays in a few milliseconds: repeat it to get a stable median.
        repeats = 20 if variant == "small" else 1
        return run_worker(
            "lookup",
            {
                "action": "replay",
                "cassette_dir": str(root / f"calls-{size}"),
                "size": size,
                "repeats": repeats,
            },
        )

    rounds = interleaved(("small", "large"), settings.rounds, one)
    pairs = list(zip(rounds["large"], rounds["small"], strict=True))
    lookup_ratio = summarize([b["lookup_us_per_call"] / s["lookup_us_per_call"] for b, s in pairs])
    whole_ratio = summarize([b["whole_us_per_call"] / s["whole_us_per_call"] for b, s in pairs])
    return {
        "small_calls": SMALL,
        "large_calls": large,
        "small_lookup_us_per_call": summarize(
            [s["lookup_us_per_call"] for s in rounds["small"]], 1
        ),
        "large_lookup_us_per_call": summarize(
            [b["lookup_us_per_call"] for b in rounds["large"]], 1
        ),
        "small_whole_us_per_call": summarize([s["whole_us_per_call"] for s in rounds["small"]], 1),
        "large_whole_us_per_call": summarize([b["whole_us_per_call"] for b in rounds["large"]], 1),
        "lookup_ratio": lookup_ratio,
        "whole_ratio": whole_ratio,
        "bar": {
            "rule": f"per-call replay cost with {large} calls <= {BAR_RATIO}x that with {SMALL}",
            "met": lookup_ratio["median"] <= BAR_RATIO and whole_ratio["median"] <= BAR_RATIO,
        },
    }


if __name__ == "__main__":
    worker_main(work)
