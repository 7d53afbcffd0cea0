"""Bounded memory: the exporter's pending buffer holds at most its count and byte limits, and
the payload caps hold for bodies of many megabytes in both directions."""

from __future__ import annotations

import hashlib
import logging
import random
from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind, use_span

from tests.unit.hardening_support import recording
from tests.unit.spans import http_attributes, local_provider, mongo_attributes
from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.config import TraceConfig
from timetracer_exporter import CassetteSpanExporter

LOGGER = "timetracer_exporter.exporter"
MIB = 1024 * 1024
LIMIT = 3 * MIB + MIB // 2


def test_over_the_byte_limit_the_oldest_trace_is_dropped_with_one_warning_and_a_count(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    exporter = CassetteSpanExporter(
        config=TraceConfig(mode="record", cassette_dir=tmp_path),
        max_pending_traces=1000,
        max_pending_bytes=LIMIT,
    )
    provider = local_provider(exporter)
    tracer = provider.get_tracer("memory")
    big_reply = {"cursor": {"firstBatch": [{"blob": "x" * MIB}]}, "ok": 1.0}
    roots = [tracer.start_span(f"r{i}", kind=SpanKind.SERVER) for i in range(6)]

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for index, root in enumerate(roots):
            root.set_attributes(http_attributes(path=f"/r{index}", route=f"/r{index}"))
            with use_span(root, end_on_exit=False):
                call = mongo_attributes({"find": f"c{index}"}, reply=big_reply)
                tracer.start_span("find", kind=SpanKind.CLIENT, attributes=call).end()
            assert exporter._pending.bytes <= LIMIT
        for root in roots:
            root.end()
    provider.shutdown()

    # Each trace holds a little over 1 MiB: three fit, so the three oldest were dropped, whole.
    assert exporter.stats.evicted == 3
    assert exporter.failures.counts["pending-overflow"] == 3
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "pending buffer is full" in warnings[0].getMessage()
    written = sorted(load_cassette(p).exchange.path for p in iter_cassette_paths(tmp_path))
    assert written == ["/r3", "/r4", "/r5"]


def test_over_the_count_limit_the_buffer_never_holds_more_traces_than_allowed(
    tmp_path: Path,
) -> None:
    exporter = CassetteSpanExporter(
        config=TraceConfig(mode="record", cassette_dir=tmp_path), max_pending_traces=50
    )
    provider = local_provider(exporter)
    tracer = provider.get_tracer("memory")
    # Roots that never end (lost, or still running): only their children ever arrive.
    for index in range(500):
        root = tracer.start_span(f"r{index}", kind=SpanKind.SERVER)
        with use_span(root, end_on_exit=False):
            call = mongo_attributes({"find": "c"}, reply={"ok": 1.0})
            tracer.start_span("find", kind=SpanKind.CLIENT, attributes=call).end()
        assert len(exporter._pending) <= 50
    provider.shutdown()

    assert exporter.stats.evicted == 450
    assert exporter.failures.counts == {"pending-overflow": 450}


@pytest.mark.anyio
@pytest.mark.parametrize("chunk", [64 * 1024, 8 * MIB], ids=["streamed", "one-message"])
async def test_an_8_mib_body_each_way_is_stored_cut_at_the_cap_and_passes_through_whole(
    tmp_path: Path, chunk: int
) -> None:
    body = random.Random(3).randbytes(8 * MIB)  # incompressible: the file size tells the truth
    config = TraceConfig(mode="record", cassette_dir=tmp_path, max_body_bytes=65536)

    with recording(config) as recorded:
        answer = await recorded.call(
            "POST", "/echo", body, headers=[(b"content-type", b"application/octet-stream")],
            chunk=chunk,
        )  # fmt: skip

    # The app read every byte, and the client got every byte back.
    assert answer.headers["x-size"] == str(8 * MIB)
    assert answer.headers["x-sha256"] == hashlib.sha256(body).hexdigest()
    assert answer.body == body
    (path,) = iter_cassette_paths(tmp_path)
    exchange = load_cassette(path).exchange
    assert exchange.request_body == body[:65536]
    assert exchange.request_body_size == 8 * MIB and exchange.request_truncated
    assert exchange.response_body == body[:65536]
    assert exchange.response_body_size == 8 * MIB and exchange.response_truncated
    assert path.stat().st_size < 3 * 65536
