"""``timetracer.dashboard.data``: rows are ``list --json`` summaries, details ``show --json``."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import mongo_attributes, record_request, write_cassette
from timetracer.cassette.model import Cassette
from timetracer.cassette.reader import load_cassette
from timetracer.cassette.views import detail, summary
from timetracer.dashboard.data import APP_PLACEHOLDER, commands_for, detail_of, row_of


@pytest.fixture
def cassette(tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path) -> Cassette:
    record_request(
        tracer,
        status=503,
        calls=[mongo_attributes({"find": "items"}, reply={"ok": 1.0})],
    )
    return load_cassette(write_cassette(tmp_path, memory.get_finished_spans()))


def test_a_row_is_the_list_summary_plus_name_error_flag_and_display_time(
    cassette: Cassette,
) -> None:
    row = row_of(cassette, "sub/a.cassette")

    assert {key: row[key] for key in summary(cassette)} == summary(cassette)
    assert row["name"] == "sub/a.cassette"
    assert row["is_error"] is True
    assert row["time"] == "2023-11-14 22:13:20.123"


def test_the_display_time_keeps_its_width_on_a_whole_second(
    tracer: Tracer, memory: InMemorySpanExporter, tmp_path: Path
) -> None:
    record_request(tracer, start_ns=1_700_000_000_000_000_000)
    cassette = load_cassette(write_cassette(tmp_path, memory.get_finished_spans()))

    assert row_of(cassette, "a")["time"] == "2023-11-14 22:13:20.000"


def test_a_detail_is_show_json_plus_waterfall_and_commands(cassette: Cassette) -> None:
    view = detail_of(cassette, "a.cassette", app="shop.main:app")

    assert {key: view[key] for key in detail(cassette)} == detail(cassette)
    assert view["name"] == "a.cassette"
    assert [span["name"] for span in view["waterfall"]["spans"]] == ["request", "find shop.items"]
    assert "--app shop.main:app" in view["commands"][0]["command"]


def test_commands_quote_paths_so_they_paste_as_one_argument(tmp_path: Path) -> None:
    path = tmp_path / "it's a dir" / "x $(rm -rf ~).cassette"
    previous = tmp_path / "older one.cassette"

    commands = {c["label"]: c["command"] for c in commands_for(path, "app:app", previous)}

    assert shlex.split(commands["replay"]) == [
        "timetracer", "replay", str(path.absolute()), "--app", "app:app",
    ]  # fmt: skip
    assert shlex.split(commands["show"]) == ["timetracer", "show", str(path.absolute())]
    assert shlex.split(commands["diff with previous"]) == [
        "timetracer", "diff", str(previous.absolute()), str(path.absolute()),
    ]  # fmt: skip
    assert shlex.split(commands["replay, differences as JSON"])[-1] == "--json"


def test_without_an_app_or_a_previous_recording_the_commands_name_placeholders() -> None:
    commands = {c["label"]: c["command"] for c in commands_for(Path("a.cassette"), None)}

    assert commands["replay"].endswith(f"--app {APP_PLACEHOLDER}")
    assert commands["diff"].endswith(" OTHER.cassette")
    assert commands_for(None, None) == []
