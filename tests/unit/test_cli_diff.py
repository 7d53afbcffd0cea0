"""``timetracer diff A B``: the report, its exit codes and bad input."""

from __future__ import annotations

import io
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import START_NS, mongo_attributes, record_request, spans_of, write_cassette
from timetracer.cli import diff_cmd
from timetracer.cli.main import main
from timetracer.cli.style import Style, colour_enabled

Write = Callable[..., Path]
PING = mongo_attributes({"ping": 1, "$db": "shop"}, reply={"ok": 1.0})
FIND = mongo_attributes(
    {"find": "items", "filter": {"sku": "a"}, "$db": "shop"}, reply={"cursor": {}, "ok": 1.0}
)


@pytest.fixture
def write(tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path) -> Write:
    """Record one request and write it as a cassette; returns the file."""
    count = iter(range(1000))

    def record(**request: Any) -> Path:
        request.setdefault("calls", [PING, FIND])
        start = START_NS + next(count) * 1_000_000_000
        trace_id = record_request(tracer, start_ns=start, **request)
        return write_cassette(tmp_path, spans_of(memory.get_finished_spans(), trace_id))

    return record


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(["diff", *argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_identical_recordings_exit_0_and_say_so(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(capsys, str(write(duration_ms=20)), str(write(duration_ms=30)))

    assert code == 0
    assert "no differences (noise and timings aside)" in out
    assert "duration  20.00 ms -> 30.00 ms  (+10.00 ms)" in out
    assert "\x1b[" not in out  # captured output is not a terminal: no colour


def test_differences_exit_1_with_marks_for_changed_added_and_removed(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    insert = mongo_attributes({"insert": "log", "documents": [{"n": 1}], "$db": "shop"})
    before = write(status=200, calls=[PING, FIND])
    after = write(status=500, calls=[insert, FIND])

    code, out, _ = run(capsys, str(before), str(after))

    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith(f"--- {before}  GET /items/{{item_id}}  200")
    assert lines[1].startswith(f"+++ {after}  GET /items/{{item_id}}  500")
    assert "  ~ response.status: 200 -> 500" in lines
    assert any(line.startswith("  -   #1") and "ping" in line for line in lines)
    assert any(line.startswith("  +        #1") and "insert" in line for line in lines)
    assert lines[-1] == "3 difference(s)"


def test_json_prints_the_diff_document(write: Write, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(write(status=200)), str(write(status=201)), "--json")

    document = json.loads(out)
    assert code == 1
    assert document["identical"] is False
    assert document["response"][0]["where"] == "response.status"
    assert [c["status"] for c in document["calls"]] == ["same", "same"]


def test_ignore_makes_a_difference_not_count(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run(
        capsys, str(write(status=200)), str(write(status=201)), "--ignore", "response.status"
    )

    assert code == 0
    assert "response  same" in out


def test_a_missing_cassette_exits_2_naming_it(
    write: Write, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.cassette"

    code, out, err = run(capsys, str(write()), str(missing))

    assert code == 2
    assert out == ""
    assert f"timetracer: {missing}: no such cassette" in err


def test_a_corrupt_cassette_exits_2_naming_it(
    write: Write, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = tmp_path / "corrupt.cassette"
    corrupt.write_bytes(os.urandom(256))

    code, _, err = run(capsys, str(corrupt), str(write()))

    assert code == 2
    assert err.startswith(f"timetracer: {corrupt}: ")


def test_a_directory_instead_of_a_cassette_exits_2(
    write: Write, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run(capsys, str(tmp_path), str(write()))

    assert code == 2
    assert "is a directory" in err


@pytest.mark.parametrize(
    "argv",
    [
        ["diff"],
        ["diff", "a.cassette"],
        ["diff", "a", "b", "--bogus"],
        ["diff", "a", "b", "--ignore"],
    ],
    ids=["no-cassettes", "one-cassette", "unknown-flag", "ignore-without-path"],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)

    assert caught.value.code == 2
    assert "timetracer:" in capsys.readouterr().err


def test_help_describes_the_exit_codes(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["diff", "--help"])

    assert caught.value.code == 0
    assert "1 when different" in capsys.readouterr().out


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_without_no_color(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colour_enabled(_Terminal())
    assert not colour_enabled(io.StringIO())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colour_enabled(_Terminal())


def test_the_report_is_coloured_when_colour_is_on(
    write: Write, capsys: pytest.CaptureFixture[str]
) -> None:
    from timetracer.cassette import load_cassette
    from timetracer.cassette.diff import diff_cassettes

    diff = diff_cassettes(load_cassette(write(status=200)), load_cassette(write(status=500)))

    coloured = diff_cmd.render(diff, Style(enabled=True))

    assert "\x1b[33m  ~ response.status: 200 -> 500\x1b[0m" in coloured
    assert "\x1b[31m1 difference(s)\x1b[0m" in coloured
