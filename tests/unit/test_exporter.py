"""``timetracer_exporter.exporter``: finished spans in, one cassette per local trace out.

Spans come from a local provider whose ``SimpleSpanProcessor`` hands each one to the exporter
as it ends; tests that check ``export()``'s result call it directly.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export import SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import (
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    TraceFlags,
    Tracer,
    set_span_in_context,
    use_span,
)

from tests.unit.spans import http_attributes, local_provider, mongo_attributes, record_request
from timetracer import envvars
from timetracer.cassette.compression import sniff
from timetracer.cassette.model import Cassette
from timetracer.cassette.reader import iter_cassette_paths, load_cassette
from timetracer.config import TraceConfig
from timetracer.errors import ConfigError
from timetracer_exporter import CassetteSpanExporter

LOGGER = "timetracer_exporter.exporter"
Make = Callable[..., tuple[CassetteSpanExporter, Tracer]]


@pytest.fixture
def cassette_dir(tmp_path: Path) -> Path:
    return tmp_path / "cassettes"


@pytest.fixture
def make(cassette_dir: Path) -> Iterator[Make]:
    """Builds an exporter (record mode, ``cassette_dir``) and a tracer feeding it."""
    providers = []

    def make(max_pending_traces: int = 2048, **config: Any) -> tuple[CassetteSpanExporter, Tracer]:
        config.setdefault("cassette_dir", cassette_dir)
        exporter = CassetteSpanExporter(
            config=TraceConfig(mode="record", **config), max_pending_traces=max_pending_traces
        )
        provider = local_provider(exporter)
        providers.append(provider)
        return exporter, provider.get_tracer("tests.unit")

    yield make
    for provider in providers:
        provider.shutdown()


def cassettes(directory: Path) -> list[Cassette]:
    if not directory.exists():
        return []
    return [load_cassette(path) for path in iter_cassette_paths(directory)]


def find_call(collection: str) -> dict[str, Any]:
    return mongo_attributes({"find": collection}, reply={"ok": 1.0})


def call_in(tracer: Tracer, root: Any, collection: str) -> None:
    """One finished Mongo call span inside ``root``."""
    with use_span(root, end_on_exit=False):
        tracer.start_span("mongo", kind=SpanKind.CLIENT, attributes=find_call(collection)).end()


def open_request(tracer: Tracer, route: str) -> Any:
    return tracer.start_span(
        route, kind=SpanKind.SERVER, attributes=http_attributes(path=route, route=route)
    )


def test_one_cassette_is_written_per_local_root(make: Make, cassette_dir: Path) -> None:
    exporter, tracer = make()

    first = record_request(tracer, route="/items/{item_id}", calls=[find_call("items")])
    second = record_request(tracer, route="/orders", calls=[find_call("o"), find_call("p")])

    written = {c.trace_id: [call.collection for call in c.calls] for c in cassettes(cassette_dir)}
    assert written == {f"{first:032x}": ["items"], f"{second:032x}": ["o", "p"]}
    assert exporter.stats.written == 2


def test_the_file_name_holds_method_route_and_trace_id(make: Make, cassette_dir: Path) -> None:
    _, tracer = make()

    trace_id = record_request(tracer, method="POST", route="/orders/{order_id}")

    (path,) = iter_cassette_paths(cassette_dir)
    assert path.name.startswith("20231114T221320123Z_POST_orders-order_id_")
    assert path.name.endswith(f"_{trace_id:032x}.cassette")


def test_spans_of_two_interleaved_traces_never_mix(make: Make, cassette_dir: Path) -> None:
    _, tracer = make()
    a = open_request(tracer, "/a")
    b = open_request(tracer, "/b")

    call_in(tracer, a, "a1")
    call_in(tracer, b, "b1")
    call_in(tracer, a, "a2")
    b.end()
    call_in(tracer, a, "a3")
    a.end()

    by_route = {c.exchange.route: c for c in cassettes(cassette_dir) if c.exchange}
    assert [call.collection for call in by_route["/a"].calls] == ["a1", "a2", "a3"]
    assert [call.collection for call in by_route["/b"].calls] == ["b1"]
    for cassette in by_route.values():
        span_trace_ids = {
            span.trace_id.hex()
            for rs in cassette.data.resource_spans
            for ss in rs.scope_spans
            for span in ss.spans
        }
        assert span_trace_ids == {cassette.trace_id}


def test_a_span_with_a_remote_parent_is_a_local_root(make: Make, cassette_dir: Path) -> None:
    _, tracer = make()
    remote = SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(TraceFlags.SAMPLED))
    context = set_span_in_context(NonRecordingSpan(remote))

    tracer.start_span(
        "GET /items", context=context, kind=SpanKind.SERVER, attributes=http_attributes()
    ).end()

    assert [c.trace_id for c in cassettes(cassette_dir)] == [f"{0xABC:032x}"]


def test_traces_without_timetracer_payload_are_skipped(make: Make, cassette_dir: Path) -> None:
    exporter, tracer = make()

    with tracer.start_as_current_span("healthcheck", kind=SpanKind.SERVER):
        tracer.start_span("db").end()

    assert cassettes(cassette_dir) == []
    assert exporter.stats.skipped == 1
    assert exporter.stats.written == 0


def test_a_trace_with_any_payload_attribute_is_written(make: Make, cassette_dir: Path) -> None:
    # Not only the usual request and call payloads: any attribute under the prefix counts.
    exporter, tracer = make()

    with tracer.start_as_current_span("job", kind=SpanKind.SERVER):
        tracer.start_span("step", attributes={"timetracer.payload.custom": "x"}).end()

    assert exporter.stats.written == 1
    assert len(cassettes(cassette_dir)) == 1


def test_errors_only_keeps_only_5xx_or_failed_requests(make: Make, cassette_dir: Path) -> None:
    exporter, tracer = make(errors_only=True)

    record_request(tracer, route="/ok", status=200)
    record_request(tracer, route="/unavailable", status=503)
    record_request(tracer, route="/crashed", status=200, error="handler crashed")
    record_request(tracer, route="/missing", status=404)

    assert sorted(c.exchange.route for c in cassettes(cassette_dir) if c.exchange) == [
        "/crashed",
        "/unavailable",
    ]
    assert exporter.stats.skipped == 2


def test_sample_rate_zero_writes_nothing(make: Make, cassette_dir: Path) -> None:
    exporter, tracer = make(sample_rate=0)

    record_request(tracer, calls=[find_call("items")])
    record_request(tracer)

    assert not cassette_dir.exists()
    assert exporter.stats.skipped == 2
    assert exporter.stats.written == 0


def test_spans_ending_after_their_root_are_counted_as_late(make: Make, cassette_dir: Path) -> None:
    exporter, tracer = make()
    root = open_request(tracer, "/fire-and-forget")
    with use_span(root, end_on_exit=False):
        background = tracer.start_span("background", attributes=find_call("jobs"))
    root.end()

    background.end()

    (cassette,) = cassettes(cassette_dir)
    assert cassette.calls == ()
    assert exporter.stats.late_spans == 1


def test_a_full_pending_buffer_evicts_whole_oldest_traces_and_warns_once(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    exporter, tracer = make(max_pending_traces=2)
    roots = [open_request(tracer, f"/r{i}") for i in range(6)]

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        for index, root in enumerate(roots):
            call_in(tracer, root, f"c{index}")

    assert exporter.stats.evicted == 4
    warnings = [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]
    assert len(warnings) == 1
    assert "pending buffer is full" in warnings[0].getMessage()


def test_an_evicted_trace_is_not_written_later_without_its_calls(
    make: Make, cassette_dir: Path
) -> None:
    exporter, tracer = make(max_pending_traces=2)
    first, second, third = (open_request(tracer, f"/r{i}") for i in range(3))
    for index, root in enumerate((first, second, third)):
        call_in(tracer, root, f"c{index}")
    assert exporter.stats.evicted == 1  # the first trace's call was dropped

    first.end()

    # A cassette of the first request would be missing its call: replaying it would lie.
    assert [c for c in cassettes(cassette_dir) if c.exchange and c.exchange.route == "/r0"] == []


def test_writing_under_a_file_returns_failure_logs_once_and_never_raises(
    tracer: Tracer,
    memory: InMemorySpanExporter,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_bytes(b"")
    exporter = CassetteSpanExporter(
        config=TraceConfig(mode="record", cassette_dir=blocker / "cassettes")
    )

    with caplog.at_level(logging.WARNING, logger=LOGGER):
        results = []
        for _ in range(3):
            record_request(tracer)
            results.append(exporter.export(memory.get_finished_spans()))
            memory.clear()

    assert results == [SpanExportResult.FAILURE] * 3
    assert exporter.stats.failed == 3
    assert exporter.failures.counts == {"write:NotADirectoryError:20": 3}
    logged = [r for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]
    assert len(logged) == 1


def test_writing_into_a_read_only_directory_returns_failure_and_never_raises(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    read_only = tmp_path / "read-only"
    read_only.mkdir()
    read_only.chmod(0o500)
    try:
        if os.access(read_only, os.W_OK):
            pytest.skip("running as root: chmod cannot make a directory read-only")
        exporter = CassetteSpanExporter(config=TraceConfig(mode="record", cassette_dir=read_only))
        record_request(tracer)

        result = exporter.export(memory.get_finished_spans())

        assert result is SpanExportResult.FAILURE
        assert exporter.failures.counts == {"write:PermissionError:13": 1}
    finally:
        read_only.chmod(0o700)


def test_a_successful_export_returns_success(
    tracer: Tracer, memory: InMemorySpanExporter, cassette_dir: Path
) -> None:
    exporter = CassetteSpanExporter(config=TraceConfig(mode="record", cassette_dir=cassette_dir))
    record_request(tracer)

    assert exporter.export(memory.get_finished_spans()) is SpanExportResult.SUCCESS


def test_whole_traces_in_one_batch_never_fill_the_pending_buffer(
    tracer: Tracer, memory: InMemorySpanExporter, cassette_dir: Path
) -> None:
    # Three requests whose calls interleave, exported in one batch, with room for one
    # unfinished trace: a batch holding whole traces must not evict any of them.
    roots = [open_request(tracer, f"/r{i}") for i in range(3)]
    for index, root in enumerate(roots):
        call_in(tracer, root, f"c{index}")
    for root in roots:
        root.end()
    exporter = CassetteSpanExporter(
        config=TraceConfig(mode="record", cassette_dir=cassette_dir), max_pending_traces=1
    )

    assert exporter.export(memory.get_finished_spans()) is SpanExportResult.SUCCESS

    assert exporter.stats.evicted == 0
    written = {
        c.exchange.route: [call.collection for call in c.calls] for c in cassettes(cassette_dir)
    }
    assert written == {"/r0": ["c0"], "/r1": ["c1"], "/r2": ["c2"]}


def test_a_trace_split_across_batches_is_written_whole(
    tracer: Tracer, memory: InMemorySpanExporter, cassette_dir: Path
) -> None:
    exporter = CassetteSpanExporter(config=TraceConfig(mode="record", cassette_dir=cassette_dir))
    root = open_request(tracer, "/split")
    call_in(tracer, root, "first")
    exporter.export(memory.get_finished_spans())
    memory.clear()
    call_in(tracer, root, "second")
    root.end()

    exporter.export(memory.get_finished_spans())

    (cassette,) = cassettes(cassette_dir)
    assert [call.collection for call in cassette.calls] == ["first", "second"]


def test_a_span_after_its_root_in_the_same_batch_is_late(
    tracer: Tracer, memory: InMemorySpanExporter, cassette_dir: Path
) -> None:
    root = open_request(tracer, "/fire-and-forget")
    with use_span(root, end_on_exit=False):
        background = tracer.start_span("background", attributes=find_call("jobs"))
    root.end()
    background.end()
    exporter = CassetteSpanExporter(config=TraceConfig(mode="record", cassette_dir=cassette_dir))

    exporter.export(memory.get_finished_spans())

    (cassette,) = cassettes(cassette_dir)
    assert cassette.calls == ()
    assert exporter.stats.late_spans == 1


def test_an_unexpected_error_returns_failure_and_is_counted(cassette_dir: Path) -> None:
    exporter = CassetteSpanExporter(config=TraceConfig(mode="record", cassette_dir=cassette_dir))

    result = exporter.export([object()])  # type: ignore[list-item]

    assert result is SpanExportResult.FAILURE
    assert exporter.failures.counts == {"export:AttributeError": 1}


def test_export_after_shutdown_returns_failure(
    tracer: Tracer, memory: InMemorySpanExporter, cassette_dir: Path
) -> None:
    exporter = CassetteSpanExporter(config=TraceConfig(mode="record", cassette_dir=cassette_dir))
    record_request(tracer)
    exporter.shutdown()

    assert exporter.export(memory.get_finished_spans()) is SpanExportResult.FAILURE
    assert not cassette_dir.exists()


def test_shutdown_twice_is_fine_and_drops_unfinished_traces(
    make: Make, caplog: pytest.LogCaptureFixture
) -> None:
    exporter, tracer = make()
    call_in(tracer, open_request(tracer, "/never-ends"), "items")

    with caplog.at_level(logging.INFO, logger=LOGGER):
        exporter.shutdown()
        exporter.shutdown()

    messages = [r.getMessage() for r in caplog.records if r.name == LOGGER]
    assert messages.count("timetracer: 1 unfinished trace(s) dropped at shutdown") == 1
    assert exporter.export([]) is SpanExportResult.FAILURE


def test_force_flush_returns_true(cassette_dir: Path) -> None:
    exporter = CassetteSpanExporter(config=TraceConfig(mode="record", cassette_dir=cassette_dir))

    assert exporter.force_flush() is True


def test_with_no_arguments_the_exporter_reads_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv(envvars.TIMETRACER_DIR, str(tmp_path / "from-env"))
    monkeypatch.setenv(envvars.TIMETRACER_COMPRESSION, "zstd")

    exporter = CassetteSpanExporter()

    assert exporter.cassette_dir == tmp_path / "from-env"
    assert exporter.compression == "zstd"


def test_arguments_override_the_configuration(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    exporter = CassetteSpanExporter(
        tmp_path / "override", "none", config=TraceConfig(cassette_dir=tmp_path / "config")
    )
    record_request(tracer)

    exporter.export(memory.get_finished_spans())

    (path,) = iter_cassette_paths(tmp_path / "override")
    assert sniff(path.read_bytes()) == "none"
    assert not (tmp_path / "config").exists()


def test_a_bad_compression_argument_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="brotli"):
        CassetteSpanExporter(compression="brotli")
