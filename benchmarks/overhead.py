"""1. Recording overhead: the scenario uninstrumented, with default tracing, and recorded.

Each (variant, round) is one worker process with its own database (so ``orders`` never grows
from round to round) and its own cassette directory. Latency ratios, added microseconds and
throughput ratios are computed within a round, against that round's uninstrumented run, and
the report gives their median over rounds with the spread.
"""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path
from typing import Any

from benchmarks.common import (
    Settings,
    interleaved,
    median,
    percentile,
    run_worker,
    summarize,
    thread_cpu_seconds,
    worker_main,
)
from benchmarks.variants import (
    BASELINE,
    DEFAULT_CODEC,
    DEFAULT_TRACING,
    RECORD_DEFAULT,
    RECORD_GZIP,
    RECORD_PATH,
    VARIANTS,
)


def work(args: dict[str, Any]) -> dict[str, Any]:
    """Worker: seed, install the variant, time one round, flush."""
    from benchmarks.scenario import build_app, drive, seed
    from benchmarks.variants import install

    seed(args["uri"], args["database"])
    cassette_dir = Path(args["cassette_dir"])
    finish = install(args["variant"], cassette_dir)
    app = build_app(args["uri"], args["database"])
    timing, cpu = asyncio.run(
        drive(
            app,
            args["requests"],
            args["warmup"],
            every=args["requests"],
            sample=thread_cpu_seconds,
        )
    )
    began = time.perf_counter_ns()
    finish()  # the exporter's backlog is part of the work, so it counts towards throughput
    flush_ns = time.perf_counter_ns() - began
    cassettes = sum(1 for _ in cassette_dir.glob("*.cassette")) if cassette_dir.is_dir() else 0
    latencies = timing.latencies_ns
    requests = len(latencies)
    main = threading.get_native_id()
    used = {tid: t - cpu[0].get(tid, 0.0) for tid, t in cpu[-1].items()}
    return {
        "median_us": median(latencies) / 1e3,
        "p90_us": percentile(latencies, 90) / 1e3,
        "throughput_rps": requests / ((timing.wall_ns + flush_ns) / 1e9),
        "flush_ms": flush_ns / 1e6,
        "cassettes": cassettes,
        # CPU time per request, split between the thread serving requests and the others
        # (the span processor's worker, which runs the exporter): less noisy than latency.
        "request_thread_cpu_us": used.get(main, 0.0) / requests * 1e6,
        "other_threads_cpu_us": sum(t for tid, t in used.items() if tid != main) / requests * 1e6,
    }


def run_scenario(
    settings: Settings,
    variant: str,
    database: str,
    cassette_dir: Path,
    *,
    requests: int,
    warmup: int,
) -> dict[str, Any]:
    """One worker process running the scenario under ``variant`` (other benchmarks record
    their cassettes this way too)."""
    return run_worker(
        "overhead",
        {
            "variant": variant,
            "uri": settings.uri,
            "database": database,
            "cassette_dir": str(cassette_dir),
            "requests": requests,
            "warmup": warmup,
        },
    )


def measure_round(settings: Settings, variant: str, index: int) -> dict[str, Any]:
    """One round of one variant, with its own database and cassette directory."""
    tag = f"r{index}v{VARIANTS.index(variant)}"
    return run_scenario(
        settings,
        variant,
        f"bench_overhead_{tag}",
        settings.workdir / "overhead" / tag,
        requests=settings.requests,
        warmup=settings.warmup,
    )


def report(rounds: dict[str, list[dict[str, Any]]], settings: Settings) -> dict[str, Any]:
    """Per-variant medians and per-round ratios against the uninstrumented rounds."""
    base = rounds[BASELINE]
    variants: dict[str, Any] = {}
    for variant, runs in rounds.items():
        pairs = list(zip(runs, base, strict=True))
        variants[variant] = {
            "median_us": summarize([r["median_us"] for r in runs], 1),
            "p90_us": summarize([r["p90_us"] for r in runs], 1),
            "added_us": summarize([r["median_us"] - b["median_us"] for r, b in pairs], 1),
            "latency_ratio": summarize([r["median_us"] / b["median_us"] for r, b in pairs]),
            "p90_ratio": summarize([r["p90_us"] / b["p90_us"] for r, b in pairs]),
            "throughput_rps": summarize([r["throughput_rps"] for r in runs], 1),
            "throughput_ratio": summarize(
                [r["throughput_rps"] / b["throughput_rps"] for r, b in pairs]
            ),
            "request_thread_cpu_us": summarize([r["request_thread_cpu_us"] for r in runs], 0),
            "added_request_thread_cpu_us": summarize(
                [r["request_thread_cpu_us"] - b["request_thread_cpu_us"] for r, b in pairs], 0
            ),
            "other_threads_cpu_us": summarize([r["other_threads_cpu_us"] for r in runs], 0),
            "cassettes_per_round": [r["cassettes"] for r in runs],
        }
    record_added = variants[RECORD_DEFAULT]["added_us"]["median"]
    default_added = variants[DEFAULT_TRACING]["added_us"]["median"]
    gzip_added = variants[RECORD_GZIP]["added_us"]["median"]
    path_added = variants[RECORD_PATH]["added_us"]["median"]
    return {
        "requests_per_round": settings.requests,
        "rounds": settings.rounds,
        "variants": variants,
        "bar": {
            "rule": f"timetracer record ({DEFAULT_CODEC}, the default) adds less latency per "
            "request than default tracing",
            "codec": DEFAULT_CODEC,
            "record_added_us": record_added,
            "default_tracing_added_us": default_added,
            "met": record_added < default_added,
            "gzip_record_added_us": gzip_added,
            "gzip_met": gzip_added < default_added,
            # Informative: the request path alone, the exporter's thread left out.
            "record_path_added_us": path_added,
        },
    }


def run(settings: Settings) -> dict[str, Any]:
    """Every variant, interleaved over the configured rounds."""
    rounds = interleaved(
        VARIANTS, settings.rounds, lambda variant, index: measure_round(settings, variant, index)
    )
    return report(rounds, settings)


if __name__ == "__main__":
    worker_main(work)
