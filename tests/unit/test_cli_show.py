"""``timetracer show``: everything one cassette recorded."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import mongo_attributes, record_request, write_cassette
from timetracer.cli.main import main


@pytest.fixture
def cassette(tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path) -> Path:
    record_request(
        tracer,
        method="POST",
        path="/orders",
        route="/orders",
        status=201,
        query="dry_run=0",
        request_headers=(("content-type", "application/json"),),
        request_body=b'{"sku": "A-1"}',
        response_body=b'{"id": 9}',
        calls=[
            mongo_attributes({"find": "items", "filter": {"sku": "A-1"}}, reply={"ok": 1.0}),
            mongo_attributes({"insert": "orders"}, failure={"ok": 0.0, "code": 11000}),
        ],
    )
    return write_cassette(tmp_path, memory.get_finished_spans())


def test_show_json_prints_request_response_and_calls(
    cassette: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["show", str(cassette), "--json"])
    view = json.loads(capsys.readouterr().out)

    assert code == 0
    assert set(view) == {
        "path", "trace_id", "recorded_at", "duration_ms", "error", "request", "response", "calls",
    }  # fmt: skip
    assert view["path"] == str(cassette)
    assert view["request"]["method"] == "POST"
    assert view["request"]["body"] == {"sku": "A-1"}
    assert view["response"]["status"] == 201
    assert view["response"]["body"] == {"id": 9}
    assert [call["operation"] for call in view["calls"]] == ["find", "insert"]
    assert view["calls"][0]["reply"] == {"ok": 1.0}
    assert view["calls"][1]["failure"] == {"ok": 0.0, "code": 11000}


def test_show_text_prints_a_readable_summary(
    cassette: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["show", str(cassette)])
    out = capsys.readouterr().out

    assert code == 0
    assert "request   POST /orders?dry_run=0" in out
    assert "response  201" in out
    assert "calls     2" in out
    assert "FAILED" in out
    assert '"sku": "A-1"' in out


def test_a_missing_cassette_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "gone.cassette"

    assert main(["show", str(missing)]) == 2
    assert str(missing) in capsys.readouterr().err


def test_a_corrupt_cassette_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = tmp_path / "broken.cassette"
    broken.write_bytes(b"")

    assert main(["show", str(broken), "--json"]) == 2
    assert f"{broken}: empty file" in capsys.readouterr().err
