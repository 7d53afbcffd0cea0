"""``timetracer list --since``: ISO times and times ago, files ruled out by name unopened."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import START_NS, record_request, spans_of, write_cassette
from timetracer.cli.main import main
from timetracer.cli.since import parse_since

SECOND = 1_000_000_000
UTC = dt.timezone.utc


def write(tracer: Tracer, memory: InMemorySpanExporter, directory: Path, start_ns: int,
          **request: object) -> Path:  # fmt: skip
    trace_id = record_request(tracer, start_ns=start_ns, **request)  # type: ignore[arg-type]
    return write_cassette(directory, spans_of(memory.get_finished_spans(), trace_id))


@pytest.fixture
def fixed_dir(tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path) -> Path:
    """Requests at 2023-11-14T22:13:20.123Z, 21.123Z and 22.123Z (routes /r0, /r1, /r2)."""
    for index in range(3):
        write(tracer, memory, tmp_path, START_NS + index * SECOND, route=f"/r{index}")
    return tmp_path


@pytest.fixture
def local_utc_plus_two(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("TZ", "Etc/GMT-2")  # POSIX sign: two hours east of UTC
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


def routes(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str]]:
    code = main(["list", *argv, "--json"])
    return code, [row["route"] for row in json.loads(capsys.readouterr().out)]


@pytest.mark.parametrize(
    ("since", "expected"),
    [
        ("2023-11-14T22:13:21Z", ["/r1", "/r2"]),
        ("2023-11-14T22:13:21.123Z", ["/r1", "/r2"]),
        ("2023-11-14T22:13:21.124Z", ["/r2"]),
        ("2023-11-14T23:13:21+01:00", ["/r1", "/r2"]),
        ("2023-11-14", ["/r0", "/r1", "/r2"]),
        ("2023-11-15T00:00:00Z", []),
    ],
)
def test_iso_times_keep_requests_recorded_at_or_after_them(
    fixed_dir: Path, capsys: pytest.CaptureFixture[str], since: str, expected: list[str]
) -> None:
    assert routes(capsys, str(fixed_dir), "--since", since) == (0, expected)


def test_a_time_without_an_offset_is_local_time(
    fixed_dir: Path, capsys: pytest.CaptureFixture[str], local_utc_plus_two: None
) -> None:
    # 00:13:21 at UTC+2 on the 15th is 22:13:21Z on the 14th.
    assert routes(capsys, str(fixed_dir), "--since", "2023-11-15T00:13:21") == (0, ["/r1", "/r2"])


def test_times_ago_count_back_from_now(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    now = time.time_ns()
    for route, ago in (("/3h", 3 * 3600), ("/90m", 90 * 60), ("/10m", 600)):
        write(tracer, memory, tmp_path, now - ago * SECOND, route=route)

    assert routes(capsys, str(tmp_path), "--since", "1h") == (0, ["/10m"])
    assert routes(capsys, str(tmp_path), "--since", "2h") == (0, ["/90m", "/10m"])
    assert routes(capsys, str(tmp_path), "--since", "1h45m") == (0, ["/90m", "/10m"])
    assert routes(capsys, str(tmp_path), "--since", "1d") == (0, ["/3h", "/90m", "/10m"])
    assert routes(capsys, str(tmp_path), "--since", "5m") == (0, [])


def test_since_combines_with_the_other_filters(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    write(tracer, memory, tmp_path, START_NS, method="POST", route="/a")
    write(tracer, memory, tmp_path, START_NS + SECOND, method="GET", route="/b")
    write(tracer, memory, tmp_path, START_NS + 2 * SECOND, method="POST", route="/c")

    code, found = routes(
        capsys, str(tmp_path), "--since", "2023-11-14T22:13:21Z", "--method", "post"
    )

    assert (code, found) == (0, ["/c"])


def test_files_ruled_out_by_their_name_are_never_opened(
    fixed_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # Unreadable files whose names say "too old" or "another method": opening one would fail.
    (fixed_dir / f"20200101T000000000Z_GET_old_{'0' * 32}.cassette").write_bytes(b"\x1f\x8bjunk")
    (fixed_dir / f"20991231T000000000Z_POST_new_{'1' * 32}.cassette").write_bytes(b"\x1f\x8bjunk")

    assert routes(capsys, str(fixed_dir), "--since", "2023-01-01", "--method", "GET") == (
        0,
        ["/r0", "/r1", "/r2"],
    )
    code, _ = routes(capsys, str(fixed_dir))
    assert code == 2  # without the filters both are opened, and both are reported


def test_a_renamed_cassette_is_filtered_on_its_contents(
    fixed_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    first = sorted(fixed_dir.iterdir())[0]
    first.rename(fixed_dir / "renamed.cassette")

    assert routes(capsys, str(fixed_dir), "--since", "2023-11-14T22:13:20Z")[1] == [
        "/r1",
        "/r2",
        "/r0",
    ]
    assert routes(capsys, str(fixed_dir), "--since", "2023-11-14T22:13:21Z")[1] == ["/r1", "/r2"]


@pytest.mark.parametrize("since", ["yesterday", "5x", "", "2023-13-01", "1.5h", "-2h"])
def test_a_bad_since_exits_2_saying_what_is_accepted(
    since: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["list", ".", f"--since={since}"])

    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "is not a time" in err
    assert "30m, 2h, 1d" in err


def test_parse_since_reads_times_ago_and_iso_times() -> None:
    now = dt.datetime(2026, 11, 26, 12, 0, tzinfo=UTC)

    assert parse_since("30m", now) == dt.datetime(2026, 11, 26, 11, 30, tzinfo=UTC)
    assert parse_since("1w", now) == dt.datetime(2026, 11, 19, 12, 0, tzinfo=UTC)
    assert parse_since("1H30M", now) == dt.datetime(2026, 11, 26, 10, 30, tzinfo=UTC)
    assert parse_since(" 2026-11-26T14:37:04Z ") == dt.datetime(2026, 11, 26, 14, 37, 4, tzinfo=UTC)
    assert parse_since("2026-11-26T14:37:04+02:00").utcoffset() == dt.timedelta(0)
    with pytest.raises(argparse.ArgumentTypeError):
        parse_since("soon")
