"""Crash safety of cassette writes: a writer killed mid-write leaves only a hidden temporary
file, which nothing lists or replays and the next writer removes; finished files stay intact."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.unit.spans import record_request
from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.cassette.store import partial_name, remove_stale_partials
from timetracer.cli.main import main
from timetracer.config import TraceConfig
from timetracer.receiver.assembler import FinishedTrace
from timetracer.receiver.writer import CassetteWriter
from timetracer_exporter import CassetteSpanExporter

REPO = Path(__file__).resolve().parents[2]
# Writes one whole cassette, then starts a second and stops halfway through its bytes, as a
# process does when SIGKILL (or the OOM killer) hits it mid-write.
CHILD = textwrap.dedent(
    """
    import os, sys, time
    from pathlib import Path
    from tests.unit.spans import local_provider, record_request
    from timetracer.cassette import store
    from timetracer.config import TraceConfig
    from timetracer_exporter import CassetteSpanExporter

    directory = Path(sys.argv[1])
    exporter = CassetteSpanExporter(config=TraceConfig(mode="record", cassette_dir=directory))
    tracer = local_provider(exporter).get_tracer("child")
    record_request(tracer)
    real_write = os.write

    def half_write(fd, data):
        real_write(fd, data[: len(data) // 2])
        print("stalled", flush=True)
        time.sleep(60)

    store.os.write = half_write
    record_request(tracer, path="/items/8", start_ns=1_700_000_001_000_000_000)
    """
)


def killed_mid_write(directory: Path) -> int:
    """Run CHILD against ``directory`` and SIGKILL it mid-write; return its (dead) pid."""
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(directory)],
        cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "stalled"
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    return child.pid


def leftovers(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.name.endswith(".partial"))


@pytest.fixture(scope="module")
def crashed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A directory a writer was killed in: one finished cassette and one half-written file."""
    directory = tmp_path_factory.mktemp("crashed") / "cassettes"
    pid = killed_mid_write(directory)
    return directory, pid


def copy_of(source: Path, target: Path) -> Path:
    target.mkdir(mode=0o700)
    for path in source.iterdir():
        (target / path.name).write_bytes(path.read_bytes())
    return target


def test_a_write_killed_midway_leaves_a_hidden_partial_file_and_whole_cassettes(
    crashed: tuple[Path, int],
) -> None:
    directory, pid = crashed

    (partial,) = leftovers(directory)
    assert partial.name.startswith(".") and f".{pid}." in partial.name
    (cassette,) = iter_cassette_paths(directory)
    assert load_cassette(cassette).exchange.path == "/items/7"
    assert cassette.stat().st_mode & 0o777 == 0o600


def test_listing_shows_only_the_finished_cassette_and_never_mentions_the_leftover(
    crashed: tuple[Path, int], capsys: pytest.CaptureFixture[str]
) -> None:
    directory, _ = crashed

    code = main(["list", str(directory)])

    out, err = capsys.readouterr()
    assert code == 0
    assert len(out.splitlines()) == 1
    assert ".partial" not in out + err
    assert "1 cassette(s)" in err


def test_the_next_exporter_removes_the_leftover_and_keeps_the_finished_cassette(
    crashed: tuple[Path, int], tmp_path: Path, tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    directory = copy_of(crashed[0], tmp_path / "cassettes")
    (before,) = iter_cassette_paths(directory)
    before_bytes = before.read_bytes()
    exporter = CassetteSpanExporter(config=TraceConfig(mode="record", cassette_dir=directory))
    record_request(tracer, path="/items/9")

    exporter.export(memory.get_finished_spans())

    assert leftovers(directory) == []
    assert before.read_bytes() == before_bytes
    assert sorted(load_cassette(p).exchange.path for p in iter_cassette_paths(directory)) == [
        "/items/7",
        "/items/9",
    ]


def test_the_receiver_removes_leftovers_before_its_first_write(
    crashed: tuple[Path, int], tmp_path: Path
) -> None:
    directory = copy_of(crashed[0], tmp_path / "cassettes")
    (cassette,) = iter_cassette_paths(directory)
    recorded = load_cassette(cassette)
    root = recorded.data.resource_spans[0].scope_spans[0].spans[-1]
    finished = FinishedTrace(int(recorded.trace_id, 16), root, recorded.data, has_payload=True)
    writer = CassetteWriter(directory)

    assert writer.write(finished) is not None
    assert leftovers(directory) == []


def test_remove_stale_partials_keeps_writes_in_progress_and_files_it_does_not_own(
    tmp_path: Path,
) -> None:
    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    in_progress = tmp_path / partial_name("a.cassette")  # this process: alive
    old = tmp_path / f".b.cassette.{os.getpid()}.0a1b2c3d.partial"
    orphan = tmp_path / f".c.cassette.{dead.pid}.0a1b2c3d.partial"
    foreign = [tmp_path / ".keep", tmp_path / ".notes.partial", tmp_path / "d.cassette"]
    for path in (in_progress, old, orphan, *foreign):
        path.write_bytes(b"x")
    (tmp_path / f".e.cassette.{dead.pid}.ab.partial").mkdir()  # not a file: not ours
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))

    assert remove_stale_partials(tmp_path) == 2

    assert not old.exists() and not orphan.exists()
    assert in_progress.exists()
    assert all(path.exists() for path in foreign)


def test_remove_stale_partials_of_a_missing_directory_removes_nothing(tmp_path: Path) -> None:
    assert remove_stale_partials(tmp_path / "nowhere") == 0
