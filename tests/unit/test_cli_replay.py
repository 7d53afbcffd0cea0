"""``timetracer replay``: exit codes, the report, and bad input, run in-process."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer
from pymongo import MongoClient

from tests.unit.replay_support import SHOP_URI, item_recording, write_recording
from tests.unit.spans import START_NS
from timetracer import envvars
from timetracer.cli.main import main
from timetracer_replay import session as session_module

ORIGINAL_SEEDS = {("db.invalid", 27017)}


@pytest.fixture(autouse=True)
def own_global_session(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Each test gets a fresh process-wide session, stopped afterwards whatever happened."""
    monkeypatch.setattr(session_module, "_session", None)
    yield
    if session_module._session is not None:
        session_module._session.stop()


@pytest.fixture
def app_spec(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """``module:app`` of a fresh importable module holding the shop Starlette app."""
    module = f"replayshop_{uuid.uuid4().hex}"
    code = tmp_path / "code"
    code.mkdir()
    (code / f"{module}.py").write_text(
        "from tests.unit.replay_support import shop_app\n\napp = shop_app()\n"
    )
    monkeypatch.syspath_prepend(str(code))
    return f"{module}:app"


class Recordings:
    def __init__(self, directory: Path, tracer: Tracer, memory: InMemorySpanExporter) -> None:
        self.directory, self.tracer, self.memory = directory, tracer, memory
        self.count = 0

    def write(self, sku: str = "a", **recording: Any) -> Path:
        self.count += 1
        start = START_NS + self.count * 1_000_000_000
        return write_recording(
            self.directory,
            self.tracer,
            self.memory,
            **item_recording(sku, start_ns=start, **recording),
        )


@pytest.fixture
def recordings(tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter) -> Recordings:
    directory = tmp_path / "cassettes"
    directory.mkdir()
    return Recordings(directory, tracer, memory)


def seeds_of_a_new_client() -> set[tuple[str, int]]:
    client: MongoClient[Any] = MongoClient(SHOP_URI, connect=False)
    seeds = set(client._topology_settings.seeds)
    client.close()
    return seeds


def test_a_missing_path_exits_2_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere"

    code = main(["replay", str(missing), "--app", "shop:app"])

    assert code == 2
    assert str(missing) in capsys.readouterr().err


def test_a_directory_without_cassettes_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["replay", str(tmp_path), "--app", "shop:app"])

    assert code == 2
    assert "no cassettes found" in capsys.readouterr().err


def test_an_app_that_is_not_module_colon_attribute_exits_2(
    recordings: Recordings, capsys: pytest.CaptureFixture[str]
) -> None:
    recordings.write("a")

    code = main(["replay", str(recordings.directory), "--app", "just_a_module"])

    assert code == 2
    assert "expected module:attribute" in capsys.readouterr().err


def test_an_unimportable_app_module_exits_2(
    recordings: Recordings, capsys: pytest.CaptureFixture[str]
) -> None:
    recordings.write("a")

    code = main(["replay", str(recordings.directory), "--app", "no_such_module_zz9:app"])

    assert code == 2
    assert "cannot import no_such_module_zz9" in capsys.readouterr().err


def test_a_missing_app_attribute_exits_2(
    recordings: Recordings, app_spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    recordings.write("a")
    module = app_spec.partition(":")[0]

    code = main(["replay", str(recordings.directory), "--app", f"{module}:nothing"])

    assert code == 2
    assert "has no nothing" in capsys.readouterr().err


def test_a_bad_app_leaves_client_construction_as_it_was(
    recordings: Recordings, capsys: pytest.CaptureFixture[str]
) -> None:
    recordings.write("a")

    code = main(["replay", str(recordings.directory), "--app", "no_such_module_zz9:app"])

    assert code == 2
    assert seeds_of_a_new_client() == ORIGINAL_SEEDS


def test_a_passing_run_prints_pass_lines_and_a_summary_and_exits_0(
    recordings: Recordings, app_spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = recordings.write("a"), recordings.write("a")

    code = main(["replay", str(recordings.directory), "--app", app_spec])

    out = capsys.readouterr().out.splitlines()
    assert code == 0
    assert out == [
        f"PASS GET /items/a  (200 -> 200)  {first}",
        f"PASS GET /items/a  (200 -> 200)  {second}",
        "2 passed, 0 failed",
    ]
    assert seeds_of_a_new_client() == ORIGINAL_SEEDS  # the session was stopped


def test_a_single_cassette_file_can_be_replayed(
    recordings: Recordings, app_spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    path = recordings.write("a")
    recordings.write("b", asked="a")  # in the directory, but not asked for

    code = main(["replay", str(path), "--app", app_spec])

    assert code == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 0 failed"


def test_a_failing_run_shows_the_diagnosis_and_exits_1(
    recordings: Recordings, app_spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    recordings.write("a")
    failing = recordings.write("b", asked="a")

    code = main(["replay", str(recordings.directory), "--app", app_spec])

    out = capsys.readouterr().out
    assert code == 1
    assert f"FAIL GET /items/b  (200 -> 500)  {failing}" in out
    assert "      no recorded MongoDB call answers find on db.items" in out
    assert "filter.sku: 'b' live, 'a' recorded" in out
    assert "recorded call #2 find on db.items was not made" in out
    assert "status: recorded 200, replayed 500" in out
    assert out.splitlines()[-1] == "1 passed, 1 failed"


def test_ignore_flags_and_the_environment_leave_paths_out(
    recordings: Recordings,
    app_spec: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    recordings.write("a", body=b'{"sku":"A","price":6}')
    monkeypatch.setenv(envvars.TIMETRACER_IGNORE, " body.sku , ")

    code = main(["replay", str(recordings.directory), "--app", app_spec, "--ignore", "body.price"])

    assert code == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 0 failed"


def test_json_prints_a_summary_and_every_result(
    recordings: Recordings, app_spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    passing = recordings.write("a")
    failing = recordings.write("a", body=b'{"sku":"a","price":6}')

    code = main(["replay", str(recordings.directory), "--app", app_spec, "--json"])

    report = json.loads(capsys.readouterr().out)
    assert code == 1
    assert report["summary"] == {"passed": 1, "failed": 1, "errors": 0}
    assert [(r["path"], r["passed"]) for r in report["results"]] == [
        (str(passing), True),
        (str(failing), False),
    ]
    assert report["results"][1]["differences"] == ["body.price: recorded 6, replayed 5"]


def test_an_unreadable_cassette_is_reported_the_others_run_and_the_exit_is_2(
    recordings: Recordings, app_spec: str, capsys: pytest.CaptureFixture[str]
) -> None:
    good = recordings.write("a")
    broken = recordings.directory / f"20991231T235959999Z_GET_broken_{7:032x}.cassette"
    broken.write_bytes(b"this is not a cassette")

    code = main(["replay", str(recordings.directory), "--app", app_spec])

    out = capsys.readouterr().out
    assert code == 2
    assert f"PASS GET /items/a  (200 -> 200)  {good}" in out
    assert f"ERROR {broken}: " in out
    assert sum(str(broken) in line for line in out.splitlines()) == 1
    assert out.splitlines()[-1] == "1 passed, 0 failed, 1 errors"


@pytest.mark.skipif(
    not hasattr(os, "sched_getaffinity") or len(os.sched_getaffinity(0)) < 2,
    reason="needs a thread allowed on two CPUs or more",
)
@pytest.mark.parametrize(("flags", "one"), [([], True), (["--all-cpus"], False)])
def test_the_app_runs_on_one_cpu_unless_all_cpus_is_asked(
    recordings: Recordings,
    app_spec: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    flags: list[str],
    one: bool,
) -> None:
    from timetracer_replay import runner

    before = os.sched_getaffinity(0)
    seen: list[set[int]] = []
    replay = runner.replay_cassettes

    async def watching(*args: Any, **kwargs: Any) -> Any:
        seen.append(os.sched_getaffinity(0))
        return await replay(*args, **kwargs)

    monkeypatch.setattr(runner, "replay_cassettes", watching)
    recordings.write("a")

    code = main(["replay", str(recordings.directory), "--app", app_spec, *flags])

    assert code == 0
    assert capsys.readouterr().out.splitlines()[-1] == "1 passed, 0 failed"
    assert len(seen[0]) == 1 if one else seen[0] == before
    assert os.sched_getaffinity(0) == before
