"""3. Cassette size: bytes per recorded request, uncompressed, gzip and zstd.

The scenario is recorded once without compression; each file is then compressed with the
product's own ``compress()``, which is exactly what the exporter does to the same bytes, so the
three sizes describe the same requests. Every payload is held in full (no caps are hit).
zstd is timetracer's default: zstd with the dictionary shipped in the package, which was
trained on other apps' recordings (``scripts/build_zstd_dictionary.py``), never on this one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import Settings
from benchmarks.overhead import run_scenario
from benchmarks.variants import DEFAULT_CODEC

BAR_BYTES = 1200
CODECS = ("none", "gzip", "zstd")


def payload_share(path: Path) -> dict[str, int]:
    """Bytes of one uncompressed cassette held by payload attributes, and by everything else."""
    from timetracer.attributes import PREFIX
    from timetracer.cassette import read_traces_data

    data = read_traces_data(path)
    payload = 0
    for resource_spans in data.resource_spans:
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                payload += sum(kv.ByteSize() for kv in span.attributes if kv.key.startswith(PREFIX))
    total = path.stat().st_size
    return {"payload_bytes": payload, "other_bytes": total - payload}


def measure(cassette_dir: Path) -> dict[str, Any]:
    """Sizes per codec of every cassette in ``cassette_dir`` (written uncompressed)."""
    from timetracer.cassette.compression import compress

    files = sorted(cassette_dir.glob("*.cassette"))
    totals = dict.fromkeys(CODECS, 0)
    for path in files:
        raw = path.read_bytes()
        for codec in CODECS:
            totals[codec] += len(compress(raw, codec))
    count = len(files)
    per_request = {codec: round(totals[codec] / count, 1) for codec in CODECS}
    return {
        "cassettes": count,
        "bytes_per_request": per_request,
        "ratio_to_uncompressed": {
            codec: round(per_request[codec] / per_request["none"], 3) for codec in CODECS
        },
        "one_cassette_uncompressed": payload_share(files[len(files) // 2]),
        "bar": {
            "rule": f"<= {BAR_BYTES} bytes per request with the default compression "
            f"({DEFAULT_CODEC}), every payload held in full",
            "codec": DEFAULT_CODEC,
            "met": per_request[DEFAULT_CODEC] <= BAR_BYTES,
        },
    }


def run(settings: Settings) -> dict[str, Any]:
    """Record the scenario uncompressed, then size it under every codec."""
    cassette_dir = settings.workdir / "size"
    run_scenario(
        settings,
        "record-none",
        "bench_size",
        cassette_dir,
        requests=settings.requests,
        warmup=0,
    )
    return measure(cassette_dir)
