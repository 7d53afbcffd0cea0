"""``timetracer export``: OTLP/JSON lines as the Collector's otlpjsonfile receiver reads them."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import START_NS, mongo_attributes, record_request, spans_of, write_cassette
from timetracer import attributes as attr
from timetracer.cassette import load_cassette, read_traces_data
from timetracer.cassette.otlp_json import traces_data_from_json
from timetracer.cli.main import main

Write = Callable[..., Path]


@pytest.fixture
def write(tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path) -> Write:
    """Record one request with one MongoDB call and write it into ``tmp_path/cassettes``."""
    count = iter(range(1000))

    def record(**request: Any) -> Path:
        request.setdefault("calls", [mongo_attributes({"find": "items"}, reply={"ok": 1.0})])
        start = START_NS + next(count) * 1_000_000_000
        trace_id = record_request(tracer, start_ns=start, **request)
        spans = spans_of(memory.get_finished_spans(), trace_id)
        return write_cassette(tmp_path / "cassettes", spans)

    return record


def exported_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n")
    return text.splitlines()


def test_a_cassette_becomes_one_otlp_json_line_beside_it(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    cassette = write()
    expected = cassette.with_name(cassette.name.removesuffix(".cassette") + ".otlp.json")

    code = main(["export", str(cassette)])

    assert code == 0
    assert f"wrote {expected} (1 cassette(s), 2 spans)" in capsys.readouterr().err
    [line] = exported_lines(expected)
    document = json.loads(line)
    assert list(document) == ["resourceSpans"]
    spans = [s for rs in document["resourceSpans"] for ss in rs["scopeSpans"] for s in ss["spans"]]
    trace_id = load_cassette(cassette).trace_id
    assert {span["traceId"] for span in spans} == {trace_id}  # hex, as OTLP/JSON requires
    assert all(len(span["spanId"]) == 16 for span in spans)
    keys = {a["key"]: a["value"] for span in spans for a in span["attributes"]}
    assert "bytesValue" in keys[attr.MONGO_COMMAND]
    assert traces_data_from_json(line) == read_traces_data(cassette)
    assert oct(expected.stat().st_mode & 0o777) == "0o600"


def test_the_export_reads_back_as_the_same_cassette(write: Write) -> None:
    cassette = write(status=201)
    out = cassette.parent / "exported.json"

    assert main(["export", str(cassette), "--out", str(out)]) == 0

    original, again = load_cassette(cassette), load_cassette(out)
    assert again.exchange == original.exchange
    assert again.calls == original.calls


def test_out_dash_writes_to_standard_output(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["export", str(write()), "--out", "-", "--format", "otlp-json"])

    out = capsys.readouterr().out
    assert code == 0
    assert len(out.splitlines()) == 1
    assert json.loads(out)["resourceSpans"]


def test_a_directory_exports_one_line_per_cassette_in_recorded_order(
    write: Write, tmp_path: Path
) -> None:
    first, second = write(status=200), write(status=404)
    out = tmp_path / "export" / "all.jsonl"

    code = main(["export", str(first.parent), "--out", str(out)])

    assert code == 0
    lines = exported_lines(out)
    assert [traces_data_from_json(line) for line in lines] == [
        read_traces_data(first),
        read_traces_data(second),
    ]
    assert sorted(p.name for p in out.parent.iterdir()) == ["all.jsonl"]  # no temporary file


def test_a_directory_needs_out(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["export", str(write().parent)])

    assert code == 2
    assert "--out" in capsys.readouterr().err


def test_a_missing_cassette_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "gone.cassette"

    code = main(["export", str(missing)])

    assert code == 2
    assert f"{missing}: no such cassette" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_a_corrupt_cassette_exits_2_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = tmp_path / "corrupt.cassette"
    corrupt.write_bytes(os.urandom(300))

    code = main(["export", str(corrupt)])

    assert code == 2
    assert capsys.readouterr().err.startswith(f"timetracer: {corrupt}: ")
    assert [p.name for p in tmp_path.iterdir()] == ["corrupt.cassette"]


def test_an_existing_directory_as_out_exits_2(
    write: Write, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["export", str(write()), "--out", str(tmp_path)])

    assert code == 2
    assert "is a directory" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [["export"], ["export", "x.cassette", "--format", "yaml"], ["export", "x", "--bogus"]],
    ids=["no-cassette", "unknown-format", "unknown-flag"],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)

    assert caught.value.code == 2
    assert "timetracer:" in capsys.readouterr().err
