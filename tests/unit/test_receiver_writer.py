"""``CassetteWriter``: finished traces become the same files the in-process exporter writes."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import local_provider, mongo_attributes, record_request
from timetracer.cassette.encoding import CURRENT_FORMAT_VERSION, format_version
from timetracer.cassette.reader import iter_cassette_paths, load_cassette, read_traces_data
from timetracer.config import TraceConfig
from timetracer.receiver.assembler import FinishedTrace, TraceAssembler
from timetracer.receiver.writer import CassetteWriter
from timetracer_exporter import CassetteSpanExporter

CALLS = [
    mongo_attributes({"find": "items", "filter": {"sku": "a"}}, reply={"cursor": {"id": 0}}),
    mongo_attributes({"insert": "items"}, failure={"code": 11000, "errmsg": "dup"}),
]


def finished_traces(memory: InMemorySpanExporter) -> list[FinishedTrace]:
    """The spans ``memory`` holds, sent one per request as a SimpleSpanProcessor would."""
    assembler = TraceAssembler(settle_seconds=0)
    for span in memory.get_finished_spans():
        assembler.add(encode_spans([span]))
    return assembler.due()


@pytest.mark.parametrize("compression", ["gzip", "none"])
def test_the_receiver_writes_the_same_file_names_and_bytes_as_the_exporter(
    tmp_path: Path, compression: str
) -> None:
    memory = InMemorySpanExporter()
    exporter = CassetteSpanExporter(
        config=TraceConfig(mode="record", cassette_dir=tmp_path / "exporter"),
        compression=compression,
    )
    provider = local_provider(exporter, memory)
    tracer = provider.get_tracer("tests.unit")
    record_request(tracer, calls=CALLS)
    record_request(tracer, calls=CALLS[:1], method="POST", path="/items", route="/items")
    provider.shutdown()

    writer = CassetteWriter(tmp_path / "receiver", compression)
    written = [writer.write(finished) for finished in finished_traces(memory)]

    from_exporter = {p.name: p.read_bytes() for p in iter_cassette_paths(tmp_path / "exporter")}
    from_receiver = {p.name: p.read_bytes() for p in iter_cassette_paths(tmp_path / "receiver")}
    assert len(from_exporter) == 2
    assert from_receiver == from_exporter
    assert sorted(p.name for p in written if p is not None) == sorted(from_exporter)
    assert writer.stats.snapshot()["written"] == 2


def test_written_cassettes_carry_the_format_version_and_decode(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    record_request(tracer, calls=CALLS)
    [finished] = finished_traces(memory)
    path = CassetteWriter(tmp_path, "gzip").write(finished)
    assert path is not None
    assert format_version(read_traces_data(path)) == CURRENT_FORMAT_VERSION
    cassette = load_cassette(path)
    assert [call.command_name for call in cassette.calls] == ["find", "insert"]
    assert cassette.calls[1].failure == {"code": 11000, "errmsg": "dup"}


def test_a_trace_without_payload_attributes_is_skipped(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    tracer.start_span("startup").end()
    [finished] = finished_traces(memory)
    writer = CassetteWriter(tmp_path, "gzip")
    assert writer.write(finished) is None
    assert list(tmp_path.iterdir()) == []
    assert writer.stats.snapshot()["skipped"] == 1


def test_an_existing_cassette_is_never_replaced(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    record_request(tracer, calls=CALLS)
    [finished] = finished_traces(memory)
    writer = CassetteWriter(tmp_path, "gzip")
    first = writer.write(finished)
    assert first is not None
    before = first.read_bytes()
    second = writer.write(finished)
    assert second is not None and second != first
    assert second.name.endswith(f"-{finished.root.span_id.hex()}.cassette")
    assert first.read_bytes() == before
    assert len(list(iter_cassette_paths(tmp_path))) == 2


def test_an_unwritable_directory_counts_failures_logs_once_and_never_raises(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("in the way")
    for _ in range(3):
        record_request(tracer, calls=CALLS)
    writer = CassetteWriter(blocker / "cassettes", "gzip")
    with caplog.at_level(logging.WARNING):
        results = [writer.write(finished) for finished in finished_traces(memory)]
    assert results == [None, None, None]
    assert writer.stats.snapshot()["failed"] == 3
    assert len([r for r in caplog.records if "could not write" in r.getMessage()]) == 1


def test_a_failing_report_callback_does_not_undo_the_write(
    tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    def broken(path: Path, finished: FinishedTrace) -> None:
        raise BrokenPipeError("stdout closed")

    record_request(tracer, calls=CALLS)
    [finished] = finished_traces(memory)
    writer = CassetteWriter(tmp_path, "gzip", on_write=broken)
    path = writer.write(finished)
    assert path is not None and path.exists()
    assert writer.stats.snapshot()["written"] == 1


def test_an_unknown_compression_is_refused_when_the_writer_is_built(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="brotli"):
        CassetteWriter(tmp_path, "brotli")
