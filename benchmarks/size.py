"""3. Cassette size: bytes per recorded request, uncompressed, gzip and zstd.

The scenario is recorded once without compression; each file is then compressed with the
product's own ``compress()``, which is exactly what the exporter does to the same bytes, so the
three sizes describe the same requests. Every payload is held in full (no caps are hit).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from benchmarks.common import Settings
from benchmarks.overhead import run_scenario

BAR_BYTES = 1200
DICTIONARY_BYTES = 16 * 1024
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


def dictionary_estimate(files: list[Path]) -> dict[str, Any]:
    """What zstd with a trained dictionary would write: NOT a format timetracer reads.

    Each cassette is compressed alone, so every file pays again for the attribute keys, the
    resource and the scopes that all cassettes share; a dictionary holds those once. Trained
    on every other recording and measured on the rest (of the same app: an upper bound on the
    gain for a dictionary shipped with timetracer), to size the proposal in docs/benchmarks.md.
    """
    import zstandard

    raws = [path.read_bytes() for path in files]
    train, held_out = raws[0::2], raws[1::2]
    if len(train) < 8 or not held_out:
        return {"bytes_per_request": None, "note": "too few cassettes to train a dictionary"}
    dictionary = zstandard.train_dictionary(DICTIONARY_BYTES, train)
    compressor = zstandard.ZstdCompressor(level=3, dict_data=dictionary, write_checksum=True)
    size = sum(len(compressor.compress(raw)) for raw in held_out) / len(held_out)
    return {"bytes_per_request": round(size, 1), "dictionary_bytes": DICTIONARY_BYTES}


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
        "proposal_zstd_dictionary": dictionary_estimate(files),
        "bar": {
            "rule": f"<= {BAR_BYTES} bytes per request with the default compression (gzip)",
            "met": per_request["gzip"] <= BAR_BYTES,
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
