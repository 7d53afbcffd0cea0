"""Paths: whatever method and path a request has, its cassette lands inside the cassette
directory under a short, safe name, with owner-only permissions; the receiver likewise."""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from tests.unit.hardening_support import recording
from timetracer import attributes as attr
from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.config import TraceConfig
from timetracer.receiver import CollectReceiver

SAFE_NAME = re.compile(r"^[A-Za-z0-9_.-]+\.cassette$")
NAME_MAX = 255
HOSTILE_PATHS = [
    "/../../../../etc/passwd",
    "/..%2f..%2f..%2fetc%2fpasswd",  # as sent encoded (raw) ...
    "/%2e%2e/%2e%2e/etc/passwd",
    "//etc/passwd",
    "/etc/passwd",
    "/..\\..\\windows\\system32",
    "/items/../../../../tmp/evil",
    "/\x00/nul/byte",
    "/~root/.ssh/authorized_keys",
    "/ünïcødé/../../x",
    "/" + "a/" * 5000,
    "/" + "../" * 3400,
    "/" + "x" * 10_000,
    "",
    "/.",
    "/..",
]
HOSTILE_METHODS = ["GET", "../../ETC", "/TMP/EVIL", "A" * 5000, "G\x00T", "", "PüT"]


def assert_all_inside(root: Path, cassette_dir: Path) -> list[Path]:
    """Every file under ``root`` is a safely named cassette directly in ``cassette_dir``."""
    files = [p for p in root.rglob("*") if p.is_file()]
    for path in files:
        assert path.parent == cassette_dir, path
        assert SAFE_NAME.match(path.name), path.name
        assert len(path.name.encode()) <= NAME_MAX
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert stat.S_IMODE(cassette_dir.stat().st_mode) == 0o700
    return files


@pytest.mark.anyio
async def test_hostile_paths_and_methods_make_safe_names_inside_the_directory(
    tmp_path: Path,
) -> None:
    root = tmp_path / "root"
    cassette_dir = root / "deep" / "cassettes"
    config = TraceConfig(mode="record", cassette_dir=cassette_dir)
    sent = 0

    with recording(config) as recorded:
        for path in HOSTILE_PATHS:
            answer = await recorded.call("GET", path)
            assert answer.status == 404
            sent += 1
        for method in HOSTILE_METHODS:
            answer = await recorded.call(method, "/items/a")
            assert answer.status in (200, 405)
            sent += 1
        exporter = recorded.exporter

    assert exporter.stats.written == sent and exporter.stats.failed == 0
    files = assert_all_inside(root, cassette_dir)
    assert len(files) == sent
    # The request is still recorded as it was, only the file name is tamed.
    paths = {load_cassette(p).exchange.path for p in iter_cassette_paths(cassette_dir)}
    assert "/../../../../etc/passwd" in paths and "/" + "x" * 10_000 in paths


@pytest.mark.anyio
async def test_the_umask_cannot_widen_the_permissions(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        config = TraceConfig(mode="record", cassette_dir=tmp_path / "cassettes")
        with recording(config) as recorded:
            await recorded.call("GET", "/items/a")
    finally:
        os.umask(previous)

    assert_all_inside(tmp_path, tmp_path / "cassettes")


def span_with_route(route: str, method: str, trace: int) -> Span:
    attributes = {attr.HTTP_METHOD: method, attr.HTTP_ROUTE: route, attr.HTTP_PATH: route}
    return Span(
        trace_id=trace.to_bytes(16, "big"),
        span_id=(trace + 1).to_bytes(8, "big"),
        name="request",
        kind=Span.SpanKind.SPAN_KIND_SERVER,
        start_time_unix_nano=1_700_000_000_000_000_000,
        end_time_unix_nano=1_700_000_000_100_000_000,
        attributes=[KeyValue(key=k, value=AnyValue(string_value=v)) for k, v in attributes.items()],
    )


def test_the_receiver_names_hostile_routes_safely_inside_its_directory(tmp_path: Path) -> None:
    cassette_dir = tmp_path / "collected"
    receiver = CollectReceiver(cassette_dir, port=0, settle_seconds=0)
    spans = [
        span_with_route(route, method, trace)
        for trace, (route, method) in enumerate(
            zip(HOSTILE_PATHS, HOSTILE_METHODS * 3, strict=False), start=1
        )
    ]
    request = ExportTraceServiceRequest(
        resource_spans=[ResourceSpans(scope_spans=[ScopeSpans(spans=spans)])]
    )

    assert receiver.accept(request) == 0
    receiver.close()

    files = assert_all_inside(tmp_path, cassette_dir)
    assert len(files) == len(spans)
