"""``timetracer.cassette.reader``: finding cassette files and loading them."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, TracesData
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import mongo_attributes, record_request, write_cassette
from timetracer.cassette.reader import iter_cassette_paths, load_cassette
from timetracer.errors import CassetteFormatError, CassetteNotFoundError

FIND = {"find": "items", "filter": {"sku": "A-1"}}
REPLY = {"cursor": {"firstBatch": [{"sku": "A-1"}], "id": 0}, "ok": 1.0}


@pytest.mark.parametrize("compression", ["gzip", "zstd", "none"])
def test_a_written_cassette_loads_with_its_request_response_and_calls(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path, compression: str
) -> None:
    trace_id = record_request(
        tracer,
        method="POST",
        path="/items",
        route="/items",
        status=201,
        request_body=b'{"sku": "A-1"}',
        response_body=b'{"ok": true}',
        calls=[mongo_attributes(FIND, reply=REPLY)],
    )
    path = write_cassette(tmp_path, memory.get_finished_spans(), compression)

    cassette = load_cassette(path)

    assert cassette.path == path
    assert cassette.trace_id == f"{trace_id:032x}"
    assert cassette.exchange is not None
    assert cassette.exchange.method == "POST"
    assert cassette.exchange.status == 201
    assert cassette.exchange.request_body == b'{"sku": "A-1"}'
    assert cassette.exchange.response_body == b'{"ok": true}'
    assert [(call.command_name, call.command, call.reply) for call in cassette.calls] == [
        ("find", FIND, REPLY)
    ]


def test_a_missing_file_raises_cassette_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFoundError) as caught:
        load_cassette(tmp_path / "gone.cassette")

    assert isinstance(caught.value, FileNotFoundError)
    assert caught.value.path == tmp_path / "gone.cassette"


def test_a_directory_is_not_a_cassette(tmp_path: Path) -> None:
    with pytest.raises(CassetteFormatError, match="is a directory"):
        load_cassette(tmp_path)


@pytest.mark.parametrize(
    "content",
    [
        b"",
        random.Random(3).randbytes(2048),
        TracesData(resource_spans=[ResourceSpans()]).SerializeToString(),
    ],
    ids=["empty", "random", "no-spans"],
)
def test_a_file_that_is_not_a_cassette_raises_an_error_naming_it(
    tmp_path: Path, content: bytes
) -> None:
    path = tmp_path / "bad.cassette"
    path.write_bytes(content)

    with pytest.raises(CassetteFormatError) as caught:
        load_cassette(path)

    assert caught.value.path == path
    assert str(path) in str(caught.value)


def test_a_directory_lists_only_finished_cassettes_in_name_order_including_subdirectories(
    tmp_path: Path,
) -> None:
    for name in [
        "20240102T000000000Z_GET_b_2.cassette",
        "20240101T000000000Z_GET_a_1.cassette",
        ".20240103T000000000Z_GET_c_3.cassette",
        ".20240104T000000000Z_GET_d_4.cassette.99.abcd1234.partial",
        "notes.txt",
        "20240105T000000000Z_GET_e_5.cassette.bak",
    ]:
        (tmp_path / name).write_bytes(b"x")
    (tmp_path / "old").mkdir()
    (tmp_path / "old" / "20231231T000000000Z_GET_z_0.cassette").write_bytes(b"x")
    (tmp_path / "dir.cassette").mkdir()

    found = list(iter_cassette_paths(tmp_path))

    assert found == [
        tmp_path / "old" / "20231231T000000000Z_GET_z_0.cassette",
        tmp_path / "20240101T000000000Z_GET_a_1.cassette",
        tmp_path / "20240102T000000000Z_GET_b_2.cassette",
    ]


def test_a_file_location_lists_that_file_whatever_its_name(tmp_path: Path) -> None:
    path = tmp_path / "saved-for-later.bin"
    path.write_bytes(b"x")

    assert list(iter_cassette_paths(path)) == [path]


def test_a_missing_location_raises_cassette_not_found_error(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFoundError):
        list(iter_cassette_paths(tmp_path / "nowhere"))
