"""Each example records its tests' MongoDB calls, then replays them with the database stopped.

The examples' own tests also run in the main test run, replaying the cassettes committed beside
them. Here the examples are copied to a temporary directory (the committed cassettes stay as
they are), their tests recorded afresh with ``--timetracer-record-mode=all`` against nx-27017
(or ``MONGODB_URI``), then replayed with ``--timetracer-record-mode=none`` after the server
stopped, its address still given to the apps so that any connection attempt would fail.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.integration.launcher import free_port
from tests.support.nx_server import mongo_server

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = ("pymongo_app", "starlette_app", "litestar_app", "motor_app")
_OUTCOME = re.compile(r"^examples/(\w+)/test_app\.py::(\S+) (PASSED|FAILED|ERROR|SKIPPED)")
_TIMEOUT = 300


def copy_examples(root: Path) -> Path:
    """The examples (without their cassettes) under ``root/examples``."""
    target = root / "examples"
    target.mkdir(parents=True)
    for shared in ("__init__.py", "conftest.py"):
        shutil.copy(REPO / "examples" / shared, target / shared)
    for name in EXAMPLES:
        shutil.copytree(
            REPO / "examples" / name,
            target / name,
            ignore=shutil.ignore_patterns("cassettes", "__pycache__"),
        )
    return target


def run_pytest(root: Path, mode: str, mongodb_uri: str) -> subprocess.CompletedProcess[str]:
    """Run the copied examples' tests in record mode ``mode``, as a user would."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("TIMETRACER_", "OTEL_"))}
    env.update({"MONGODB_URI": mongodb_uri, "CI": ""})
    env.pop("PYTHONPATH", None)  # the copies must import themselves, not the repository's
    command = [
        sys.executable,
        "-m",
        "pytest",
        "examples",
        "-v",
        "-p",
        "no:cacheprovider",
        "-o",
        "asyncio_default_fixture_loop_scope=function",
        f"--timetracer-record-mode={mode}",
    ]
    return subprocess.run(
        command, cwd=root, env=env, capture_output=True, text=True, timeout=_TIMEOUT
    )


def outcomes(run: subprocess.CompletedProcess[str], example: str) -> dict[str, str]:
    """Each test of ``example`` and how it ended."""
    found = (_OUTCOME.match(line) for line in run.stdout.splitlines())
    return {m.group(2): m.group(3) for m in found if m is not None and m.group(1) == example}


@pytest.fixture(scope="module")
def runs(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str], Path]:
    """Record every example against a fresh database, stop it, replay every example."""
    root = tmp_path_factory.mktemp("examples")
    examples = copy_examples(root)
    with mongo_server(root / "nx") as database:
        recorded = run_pytest(root, "all", database.uri)
        stopped = database.uri
    if os.environ.get("MONGODB_URI"):
        # A real MongoDB keeps running: replay against an address where nothing listens.
        stopped = f"mongodb://127.0.0.1:{free_port()}/"
    replayed = run_pytest(root, "none", f"{stopped}?serverSelectionTimeoutMS=2000")
    return recorded, replayed, examples


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_records_one_cassette_per_test_against_the_database(
    runs: tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str], Path],
    example: str,
) -> None:
    recorded, _, examples = runs
    tests = outcomes(recorded, example)
    assert len(tests) >= 3, recorded.stdout
    assert set(tests.values()) == {"PASSED"}, recorded.stdout
    cassettes = list((examples / example / "cassettes").rglob("*.cassette"))
    assert len(cassettes) == len(tests)


@pytest.mark.parametrize("example", EXAMPLES)
def test_example_replays_its_tests_with_the_database_stopped(
    runs: tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str], Path],
    example: str,
) -> None:
    recorded, replayed, _ = runs
    assert outcomes(replayed, example) == outcomes(recorded, example), replayed.stdout
    assert set(outcomes(replayed, example).values()) == {"PASSED"}, replayed.stdout
