"""``timetracer`` start-up: building the parser imports no command's heavy dependencies.

Every command pays for what the parser module imports, and ``timetracer list`` over a large
directory has a time budget: protobuf, the receiver, the dashboard, the replay package and the
like are imported by the command that runs, never by registering it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import timetracer

# Prefixes of module names that registering the commands must not import.
HEAVY = (
    "asyncio",
    "bson",
    "concurrent",
    "google",
    "http",
    "multiprocessing",
    "opentelemetry",
    "pymongo",
    "subprocess",
    "timetracer.capture",
    "timetracer.cassette",
    "timetracer.dashboard",
    "timetracer.doctor",
    "timetracer.instrumentation",
    "timetracer.receiver",
    "timetracer_replay",
    "webbrowser",
    "zstandard",
)
_SOURCE = str(Path(timetracer.__file__).parents[1])


def modules_after(code: str) -> list[str]:
    """The modules a fresh interpreter holds after running ``code``."""
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [_SOURCE, env.get("PYTHONPATH")]))
    env.pop("COVERAGE_PROCESS_START", None)  # coverage's own imports are not start-up's
    done = subprocess.run(
        [sys.executable, "-c", f"{code}\nimport json, sys; print(json.dumps(sorted(sys.modules)))"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return list(json.loads(done.stdout.splitlines()[-1]))


def heavy(modules: list[str]) -> list[str]:
    return [m for m in modules if any(m == p or m.startswith(p + ".") for p in HEAVY)]


def test_heavy_finds_what_importing_a_command_implementation_pulls_in() -> None:
    # The check below is only worth something if it sees these imports when they happen.
    modules = modules_after("import timetracer.cassette, timetracer.receiver")

    assert "timetracer.receiver" in heavy(modules)
    assert "google.protobuf" in heavy(modules)


@pytest.mark.parametrize(
    "code",
    [
        "import timetracer.cli.main",
        "import timetracer.cli.main as m; m.build_parser()",
        "import timetracer.cli.main as m, contextlib, io\n"
        "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
        "    m.main(['list', '--help'])",
    ],
    ids=["import", "build_parser", "list --help"],
)
def test_the_parser_imports_no_heavy_module(code: str) -> None:
    assert heavy(modules_after(code)) == []


def test_collect_defaults_are_the_receivers() -> None:
    from timetracer.cli import collect_cmd
    from timetracer.receiver import service

    assert (collect_cmd.DEFAULT_HOST, collect_cmd.DEFAULT_PORT) == (
        service.DEFAULT_HOST,
        service.DEFAULT_PORT,
    )
    assert collect_cmd.DEFAULT_MAX_BODY_BYTES == service.DEFAULT_MAX_BODY_BYTES


def test_dashboard_detail_budget_is_the_snapshots() -> None:
    from timetracer.cli import dashboard_cmd
    from timetracer.dashboard import snapshot

    assert dashboard_cmd.DEFAULT_DETAIL_BUDGET == snapshot.DEFAULT_DETAIL_BUDGET


def test_listing_a_small_directory_starts_no_worker_machinery(tmp_path: Path) -> None:
    code = (
        "import timetracer.cli.main as m, contextlib, io\n"
        "with contextlib.redirect_stderr(io.StringIO()):\n"
        f"    m.main(['list', {str(tmp_path)!r}])"
    )

    modules = modules_after(code)

    assert "timetracer.cli.workers" in modules  # the listing ran
    assert not [m for m in modules if m.startswith(("multiprocessing", "concurrent"))]
