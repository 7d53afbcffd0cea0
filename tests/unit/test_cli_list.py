"""``timetracer list``: one line or JSON object per cassette, with filters."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import START_NS, mongo_attributes, record_request, spans_of, write_cassette
from timetracer.cli.main import main

SUMMARY_KEYS = {
    "path", "trace_id", "method", "route", "url_path", "status", "duration_ms", "recorded_at",
    "calls",
}  # fmt: skip
SECOND = 1_000_000_000


@pytest.fixture
def cassette_dir(tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path) -> Path:
    """Three cassettes: GET /items/{item_id} 200, POST /orders 201, GET /reports 500."""
    requests = [
        dict(method="GET", route="/items/{item_id}", path="/items/7", status=200,
             calls=[mongo_attributes({"find": "items"}, reply={"ok": 1.0})]),
        dict(method="POST", route="/orders", path="/orders", status=201,
             calls=[mongo_attributes({"insert": "orders"}, reply={"ok": 1.0})] * 2),
        dict(method="GET", route="/reports", path="/reports", status=500),
    ]  # fmt: skip
    directory = tmp_path / "cassettes"
    for index, request in enumerate(requests):
        trace_id = record_request(tracer, start_ns=START_NS + index * SECOND, **request)
        write_cassette(directory, spans_of(memory.get_finished_spans(), trace_id))
    return directory


def listed(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[dict], str]:
    code = main(["list", *argv, "--json"])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def test_list_json_prints_one_summary_per_cassette_in_recorded_order(
    cassette_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, rows, _ = listed(capsys, str(cassette_dir))

    assert code == 0
    assert all(set(row) == SUMMARY_KEYS for row in rows)
    assert [(r["method"], r["route"], r["status"], r["calls"]) for r in rows] == [
        ("GET", "/items/{item_id}", 200, {"mongodb": 1}),
        ("POST", "/orders", 201, {"mongodb": 2}),
        ("GET", "/reports", 500, {}),
    ]
    assert rows[0]["url_path"] == "/items/7"
    assert Path(rows[0]["path"]).parent == cassette_dir


@pytest.mark.parametrize(
    ("flags", "routes"),
    [
        (["--method", "post"], ["/orders"]),
        (["--status", "500"], ["/reports"]),
        (["--route", "item"], ["/items/{item_id}"]),
        (["--errors"], ["/reports"]),
        (["--method", "GET", "--status", "200"], ["/items/{item_id}"]),
        (["--status", "404"], []),
    ],
)
def test_filters_keep_only_matching_cassettes(
    cassette_dir: Path, capsys: pytest.CaptureFixture[str], flags: list[str], routes: list[str]
) -> None:
    code, rows, _ = listed(capsys, str(cassette_dir), *flags)

    assert code == 0
    assert [row["route"] for row in rows] == routes


def test_the_text_listing_shows_each_request_and_counts_them(
    cassette_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["list", str(cassette_dir)])
    out, err = capsys.readouterr()

    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert "POST" in lines[1]
    assert "/orders" in lines[1]
    assert "(2 mongodb)" in lines[1]
    assert "(no calls)" in lines[2]
    assert "3 cassette(s)" in err


def test_a_missing_directory_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"

    code = main(["list", str(missing)])

    assert code == 2
    assert str(missing) in capsys.readouterr().err


def test_a_corrupt_file_is_reported_as_skipped_and_the_good_ones_still_listed(
    cassette_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = cassette_dir / "20231114T221321000Z_GET_broken_0.cassette"
    broken.write_bytes(b"\x1f\x8b not really gzip")

    code, rows, err = listed(capsys, str(cassette_dir))

    assert code == 2
    assert len(rows) == 3
    assert "skipped" in err
    assert str(broken) in err


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="workers are forked on Linux")
@pytest.mark.parametrize("as_json", [False, True], ids=["text", "json"])
def test_worker_processes_list_exactly_what_one_process_lists(
    cassette_dir: Path, capsys: pytest.CaptureFixture[str], as_json: bool
) -> None:
    # Copies under later names, a broken file in the middle: order, filters and skips must
    # come out the same whichever process read each file.
    originals = sorted(cassette_dir.iterdir())
    for index in range(30):
        source = originals[index % len(originals)]
        (cassette_dir / f"2031{index:04d}T000000000Z_GET_copy_{index}.cassette").write_bytes(
            source.read_bytes()
        )
    (cassette_dir / "20310015T000000500Z_GET_broken_0.cassette").write_bytes(b"\x1f\x8b junk")
    extra = ["--json"] if as_json else []

    outputs = []
    for jobs in ("1", "3"):
        code = main(["list", str(cassette_dir), "--jobs", jobs, "--route", "/", *extra])
        outputs.append((code, *capsys.readouterr()))

    assert outputs[0] == outputs[1]
    code, out, err = outputs[0]
    assert code == 2
    assert err.count("skipped") == 1
    assert len(json.loads(out) if as_json else out.splitlines()) == 33


@pytest.mark.parametrize("jobs", ["0", "-2", "two"])
def test_a_bad_number_of_jobs_exits_2_naming_the_value(
    jobs: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["list", ".", "--jobs", jobs])

    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert f"'{jobs}'" in err
    assert "1 or more" in err


@pytest.mark.parametrize(
    "argv",
    [["list"], ["list", ".", "--status", "ok"], ["list", ".", "--bogus"]],
    ids=["no-dir", "bad-status", "unknown-flag"],
)
def test_bad_flags_exit_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)

    assert caught.value.code == 2
    assert "timetracer:" in capsys.readouterr().err
