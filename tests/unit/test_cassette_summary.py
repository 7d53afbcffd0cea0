"""``timetracer.cassette.summary``: what ``list`` shows, read without decoding the calls."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import mongo_attributes, record_request, spans_of, write_cassette
from timetracer.cassette.naming import is_cassette_name
from timetracer.cassette.reader import iter_cassette_paths, load_cassette
from timetracer.cassette.summary import load_summary
from timetracer.cassette.views import summary
from timetracer.errors import CassetteFormatError

FIND = {"find": "items", "filter": {"sku": "A-1"}}
REPLY = {"cursor": {"firstBatch": [{"sku": "A-1"}], "id": 0}, "ok": 1.0}


def recorded(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path, **kwargs: object
) -> Path:
    trace_id = record_request(tracer, **kwargs)  # type: ignore[arg-type]
    return write_cassette(tmp_path, spans_of(memory.get_finished_spans(), trace_id))


@pytest.mark.parametrize(
    "kwargs",
    [
        {"calls": [mongo_attributes(FIND, reply=REPLY)] * 3, "status": 201, "method": "POST"},
        {"calls": [], "query": "a=1", "route": "/items/{id}"},
        {"calls": [mongo_attributes(FIND, reply=REPLY)], "status": 503},
        {"calls": [], "error": "boom"},
    ],
)
def test_a_summary_shows_what_a_full_load_shows(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path, kwargs: dict[str, object]
) -> None:
    path = recorded(tracer, memory, tmp_path, **kwargs)

    brief, full = load_summary(path), load_cassette(path)

    assert summary(brief) == summary(full)  # type: ignore[arg-type]
    assert brief.is_error == full.is_error
    assert brief.recorded_at == full.recorded_at


def test_a_span_without_a_request_is_summarized_by_its_name(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    with (
        tracer.start_as_current_span("nightly-report"),
        tracer.start_as_current_span("mongo") as call,
    ):
        call.set_attributes(mongo_attributes(FIND, reply=REPLY))
    path = write_cassette(tmp_path, memory.get_finished_spans())

    assert summary(load_summary(path)) == summary(load_cassette(path))  # type: ignore[arg-type]
    assert load_summary(path).call_counts() == {"mongodb": 1}


def test_a_file_that_is_not_a_cassette_raises_cassette_format_error(tmp_path: Path) -> None:
    bad = tmp_path / "20231114T221320123Z_GET_items_0.cassette"
    bad.write_bytes(b"not a cassette at all")

    with pytest.raises(CassetteFormatError):
        load_summary(bad)


def test_cassette_paths_are_found_as_rglob_finds_them(tmp_path: Path) -> None:
    tree = tmp_path / "cassettes"
    (tree / "a" / "b").mkdir(parents=True)
    (tree / ".hidden").mkdir()
    (tree / "dir.cassette").mkdir()
    outside = tmp_path / "outside"
    outside.mkdir()
    for name in ["x.cassette", "a/y.cassette", "a/b/z.cassette", ".hidden/h.cassette"]:
        (tree / name).write_bytes(b"")
    for name in [".x.cassette.1.ab.partial", ".dot.cassette", "a/notes.txt"]:
        (tree / name).write_bytes(b"")
    (outside / "o.cassette").write_bytes(b"")
    os.symlink(outside, tree / "linked-dir")  # not entered, as rglob does not
    os.symlink(tree / "x.cassette", tree / "a" / "link.cassette")  # a file: listed
    os.symlink(tmp_path / "missing", tree / "broken.cassette")  # not a file: left out

    expected = sorted(
        (p for p in tree.rglob("*") if is_cassette_name(p.name) and p.is_file()),
        key=lambda p: (p.name, str(p)),
    )
    found = list(iter_cassette_paths(tree))

    assert found == expected
    assert [p.name for p in found] == [
        "h.cassette",
        "link.cassette",
        "x.cassette",
        "y.cassette",
        "z.cassette",
    ]
