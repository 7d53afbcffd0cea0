"""5. Memory: RSS while recording a long run of requests, against the same run uninstrumented.

RSS is sampled before the first timed request (after a warm-up, so imports and pools are in),
every ``every`` requests, and after the exporter was flushed. Flat means the second half of the
run adds no more memory than it does without recording; the recorder's share of any growth is
the difference from the uninstrumented run.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from benchmarks.common import Settings, interleaved, rss_bytes, run_worker, worker_main
from benchmarks.variants import BASELINE, RECORD_DEFAULT

MIB = 1024 * 1024
# Growth over the second half allowed beyond the baseline's before "flat" is called missed:
# allocator noise, not a per-request leak (20,000 requests x 64 bytes would already be 1.2 MiB).
FLAT_SLACK_BYTES = 2 * MIB


def work(args: dict[str, Any]) -> dict[str, Any]:
    """Worker: the scenario under one variant, sampling RSS as it goes."""
    from benchmarks.scenario import build_app, drive, seed
    from benchmarks.variants import install

    seed(args["uri"], args["database"])
    finish = install(args["variant"], Path(args["cassette_dir"]))
    app = build_app(args["uri"], args["database"])
    _, samples = asyncio.run(
        drive(app, args["requests"], args["warmup"], every=args["every"], sample=rss_bytes)
    )
    finish()
    return {"samples": samples, "after_flush": rss_bytes()}


def _describe(result: dict[str, Any]) -> dict[str, Any]:
    samples = result["samples"]
    middle = samples[len(samples) // 2]
    return {
        "start_mib": round(samples[0] / MIB, 1),
        "peak_mib": round(max(samples) / MIB, 1),
        "end_mib": round(samples[-1] / MIB, 1),
        "after_flush_mib": round(result["after_flush"] / MIB, 1),
        "second_half_growth_mib": round((samples[-1] - middle) / MIB, 2),
        "samples_mib": [round(s / MIB, 1) for s in samples],
    }


def run(settings: Settings) -> dict[str, Any]:
    """One long run uninstrumented and one recording (default compression), interleaved once."""
    requests = 500 if settings.quick else 20_000

    def one(variant: str, index: int) -> dict[str, Any]:
        return run_worker(
            "memory",
            {
                "variant": variant,
                "uri": settings.uri,
                "database": f"bench_memory_{index}_{variant.replace('-', '_')}",
                "cassette_dir": str(settings.workdir / "memory" / variant),
                "requests": requests,
                "warmup": settings.warmup,
                "every": requests // 20,
            },
        )

    rounds = interleaved((BASELINE, RECORD_DEFAULT), 1, one)
    base = _describe(rounds[BASELINE][0])
    record = _describe(rounds[RECORD_DEFAULT][0])
    extra = (record["second_half_growth_mib"] - base["second_half_growth_mib"]) * MIB
    return {
        "requests": requests,
        BASELINE: base,
        RECORD_DEFAULT: record,
        "record_extra_second_half_growth_mib": round(extra / MIB, 2),
        "bar": {
            "rule": "RSS stays flat while recording: the second half of the run grows no more "
            f"than uninstrumented (+{FLAT_SLACK_BYTES // MIB} MiB slack)",
            "met": extra <= FLAT_SLACK_BYTES,
        },
    }


if __name__ == "__main__":
    worker_main(work)
