"""Recording and replaying a 64 MiB upload and a 64 MiB streamed response cost memory bounded
by ``TIMETRACER_MAX_BODY_BYTES``, not by the body.

For each framework the same two exchanges run in-process three times: on the bare app, while
recording (contrib middleware + timetracer + the cassette exporter), and in server-mode replay
of what was recorded. The client feeds the upload from one reused 64 KiB block and only hashes
what it receives, so the bare run's peak is the app's own; ``tracemalloc`` measures the peak
of each run above what was allocated before it. Run with ``-s`` to see the numbers.
"""

from __future__ import annotations

import gc
import itertools
import tracemalloc
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

import pytest

from tests.apps.transparency import FRAMEWORKS, Observer, build_app
from tests.unit.transparency_support import (
    ASGIApp,
    ClientView,
    FakeServer,
    recording,
    replaying,
    serve,
)
from timetracer.config import TraceConfig

pytestmark = pytest.mark.anyio

MiB = 1024 * 1024
TOTAL = 64 * MiB
CHUNK = 64 * 1024
CAP = 65536  # the default TIMETRACER_MAX_BODY_BYTES
ALLOWED_EXTRA = 4 * MiB
"""How much more than the bare app's peak recording or replaying may take."""

T = TypeVar("T")


async def traced_peak(run: Callable[[], Awaitable[T]]) -> tuple[T, int]:
    """``run()``'s result and the peak bytes it allocated above what was allocated before."""
    gc.collect()
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        result = await run()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return result, peak - before


async def upload(app: ASGIApp) -> ClientView:
    """POST 64 MiB to ``/upload`` in 64 KiB chunks (one block object, sent 1024 times)."""
    block = bytes(range(256)) * (CHUNK // 256)
    headers = [(b"content-type", b"application/octet-stream"), (b"content-length", b"%d" % TOTAL)]
    chunks = itertools.repeat(block, TOTAL // CHUNK)
    return await serve(app, "POST", "/upload", headers=headers, chunks=chunks)


async def download(app: ASGIApp) -> ClientView:
    """GET a 64 MiB streamed response in 64 KiB chunks, hashing it without keeping it."""
    query = b"size=%d&chunk=%d" % (TOTAL, CHUNK)
    server = FakeServer([b""], keep_body=False)
    return await serve(app, "GET", "/stream", query=query, server=server)


async def measure(app: ASGIApp) -> dict[str, tuple[ClientView, int]]:
    """Peak memory of the upload and of the download through ``app``, after a warm-up."""
    # One small exchange of each kind first, so that one-time costs (lazy imports, compiled
    # patterns, first-use caches) are not counted against the body.
    await serve(app, "POST", "/upload", chunks=[b"warm", b"up"])
    await serve(app, "GET", "/stream", query=b"size=10&chunk=5")
    return {
        "upload": await traced_peak(lambda: upload(app)),
        "stream": await traced_peak(lambda: download(app)),
    }


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_64_mib_bodies_add_only_the_cap_to_peak_memory_in_record_and_replay(
    framework: str, tmp_path: Path
) -> None:
    cassettes = tmp_path / "cassettes"
    bare = await measure(build_app(framework, Observer()))
    with recording(cassettes, TraceConfig(mode="record", max_body_bytes=CAP)) as recorder:
        recorded = await measure(recorder.app(framework, Observer()))
        written = recorder.cassettes()
    replay_config = TraceConfig(
        mode="replay", cassette_dir=cassettes, max_body_bytes=CAP, live=frozenset({"mongodb"})
    )
    with replaying(replay_config, tmp_path / "replayed") as replay:
        replayed = await measure(replay.app(framework, Observer()))

    for case in ("upload", "stream"):
        (off, off_peak), (rec, rec_peak), (rep, rep_peak) = (
            bare[case],
            recorded[case],
            replayed[case],
        )
        print(
            f"\n{framework:9} {case:6} peak: off {off_peak / MiB:6.2f} MiB, "
            f"record {rec_peak / MiB:6.2f} MiB, replay {rep_peak / MiB:6.2f} MiB"
        )
        assert rec == off
        assert rep == off
        assert rec_peak <= off_peak + ALLOWED_EXTRA
        assert rep_peak <= off_peak + ALLOWED_EXTRA
    assert bare["upload"][0].body == f"{TOTAL} ".encode() + bare["upload"][0].body.split()[1]
    assert bare["stream"][0].size == TOTAL

    by_path = {c.exchange.path: c.exchange for c in written if c.exchange is not None}
    assert by_path["/upload"].request_body_size == TOTAL
    assert by_path["/upload"].request_truncated
    assert len(by_path["/upload"].request_body or b"") == CAP
    assert by_path["/stream"].response_body_size == TOTAL
    assert by_path["/stream"].response_truncated
    assert len(by_path["/stream"].response_body or b"") == CAP
