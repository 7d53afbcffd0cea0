"""``timetracer.cassette.reader.read_traces_data``: the file's bytes, whatever its size."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import record_request, write_cassette
from timetracer.cassette import reader
from timetracer.cassette.reader import load_cassette
from timetracer.errors import CassetteFormatError


def test_a_cassette_larger_than_one_read_loads_whole(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    body = random.Random(3).randbytes(3 * reader._READ_CHUNK + 17)
    record_request(tracer, method="POST", path="/upload", response_body=body)
    path = write_cassette(tmp_path, memory.get_finished_spans(), "none")
    assert path.stat().st_size > 3 * reader._READ_CHUNK

    cassette = load_cassette(path)

    assert cassette.exchange is not None
    assert cassette.exchange.response_body == body


def test_an_empty_file_is_not_a_cassette(tmp_path: Path) -> None:
    empty = tmp_path / "empty.cassette"
    empty.write_bytes(b"")

    with pytest.raises(CassetteFormatError, match=r"empty\.cassette"):
        load_cassette(empty)
