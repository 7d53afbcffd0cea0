"""``timetracer.cassette.summary``: what ``list`` shows, read without decoding the calls."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.proto.trace.v1.trace_pb2 import TracesData
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, Tracer

from tests.unit.spans import (
    http_attributes,
    mongo_attributes,
    record_request,
    spans_of,
    write_cassette,
)
from timetracer import attributes as attr
from timetracer.cassette import summary as summary_module
from timetracer.cassette.compression import compress
from timetracer.cassette.encoding import CURRENT_FORMAT_VERSION, looks_like_json
from timetracer.cassette.naming import is_cassette_name
from timetracer.cassette.otlp_json import traces_data_to_json
from timetracer.cassette.reader import (
    cassette_files,
    iter_cassette_paths,
    load_cassette,
    read_traces_data,
)
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


@pytest.mark.parametrize("form", ["none", "gzip", "zstd", "otlp-json", "otlp-json-gzip"])
def test_every_stored_form_summarizes_as_it_loads(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path, form: str
) -> None:
    calls = [mongo_attributes(FIND, reply=REPLY)] * 2
    path = recorded(tracer, memory, tmp_path, calls=calls, status=201, method="POST")
    if form.startswith("otlp-json"):
        text = traces_data_to_json(read_traces_data(path)).encode()
        path.write_bytes(compress(text, "gzip") if form.endswith("gzip") else text)
    else:
        path.write_bytes(compress(read_traces_data(path).SerializeToString(), form))

    brief, full = load_summary(path), load_cassette(path)

    assert summary(brief) == summary(full)  # type: ignore[arg-type]
    assert brief.call_counts() == {"mongodb": 2}


def test_a_request_with_a_remote_parent_is_still_the_root(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    # The server span of a request that came with a traceparent header: its parent is in
    # another service, so it is a root here, and the calls under it are counted.
    upstream = trace.set_span_in_context(
        NonRecordingSpan(SpanContext(0xABC, 0xDEF, is_remote=True, trace_flags=TraceFlags(1)))
    )
    with tracer.start_as_current_span("GET /items", context=upstream) as root:
        root.set_attributes(http_attributes(method="GET", status=404))
        with tracer.start_as_current_span("find") as call:
            call.set_attributes(mongo_attributes(FIND, reply=REPLY))
    path = write_cassette(tmp_path, memory.get_finished_spans())

    brief = load_summary(path)

    assert summary(brief) == summary(load_cassette(path))  # type: ignore[arg-type]
    assert (brief.exchange and brief.exchange.status, brief.mongo_calls) == (404, 1)


def test_a_newer_format_version_is_refused_naming_both_versions(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    path = recorded(tracer, memory, tmp_path, calls=[])
    data = read_traces_data(path)
    for kv in data.resource_spans[0].resource.attributes:
        if kv.key == attr.FORMAT_VERSION:
            kv.value.int_value = CURRENT_FORMAT_VERSION + 1
    path.write_bytes(compress(data.SerializeToString(), "gzip"))

    with pytest.raises(CassetteFormatError, match=f"version {CURRENT_FORMAT_VERSION + 1} is newer"):
        load_summary(path)


@pytest.mark.parametrize(
    "payload",
    [b"", b"{", b' \t\r\n\x0b\x0c{"a"', b"\n{x", b"\n\x05abcde", b"x{", b"\x00{", b"   "],
)
def test_looks_like_json_is_the_first_non_blank_byte_being_a_brace(payload: bytes) -> None:
    assert looks_like_json(payload) == (payload.lstrip()[:1] == b"{")


def test_cassette_files_are_the_paths_iter_cassette_paths_yields(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    for name in ["z.cassette", "b/a.cassette", "m.cassette", "notes.txt"]:
        (tmp_path / name).write_bytes(b"")

    assert cassette_files(tmp_path) == [str(p) for p in iter_cassette_paths(tmp_path)]
    assert cassette_files(tmp_path / "m.cassette") == [str(tmp_path / "m.cassette")]


def test_a_message_with_no_spans_is_not_a_cassette(tmp_path: Path) -> None:
    data = TracesData()
    data.resource_spans.add().scope_spans.add()  # a scope, but no span in it
    path = tmp_path / "20231114T221320123Z_GET_items_0.cassette"
    path.write_bytes(data.SerializeToString())

    with pytest.raises(CassetteFormatError, match="holds no spans"):
        load_summary(path)


def test_a_cassette_without_a_version_stamp_reads_as_version_1(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    path = recorded(tracer, memory, tmp_path, calls=[mongo_attributes(FIND, reply=REPLY)])
    data = read_traces_data(path)
    kept = [
        kv for kv in data.resource_spans[0].resource.attributes if kv.key != attr.FORMAT_VERSION
    ]
    del data.resource_spans[0].resource.attributes[:]
    data.resource_spans[0].resource.attributes.extend(kept)
    path.write_bytes(data.SerializeToString())

    assert summary(load_summary(path)) == summary(load_cassette(path))  # type: ignore[arg-type]


def test_decoded_values_are_remembered_within_a_bound(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(summary_module, "_seen_values", {})
    monkeypatch.setattr(summary_module, "_SEEN_VALUES_MAX", 3)
    paths = [recorded(tracer, memory, tmp_path, path=f"/items/{n}", calls=[]) for n in range(4)]

    summaries = [summary(load_summary(path)) for path in paths]

    assert [row["url_path"] for row in summaries] == [f"/items/{n}" for n in range(4)]
    assert 0 < len(summary_module._seen_values) <= 3
