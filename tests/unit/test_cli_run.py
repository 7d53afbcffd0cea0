"""``timetracer run``: the environment a program is started with, and the launch itself.

``os.execvpe`` is replaced by a recorder here: no process is started or replaced.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

import pytest

from timetracer import envvars
from timetracer.cli import run_cmd
from timetracer.cli.main import build_parser, main
from timetracer.errors import ConfigError


def parse(*argv: str) -> argparse.Namespace:
    return build_parser().parse_args(["run", *argv])


def test_the_environment_selects_timetracer_as_distro_and_configurator() -> None:
    env = run_cmd.environment_for(parse("uvicorn", "app:app"), {"PATH": "/usr/bin"})

    assert env["OTEL_PYTHON_DISTRO"] == "timetracer"
    assert env["OTEL_PYTHON_CONFIGURATOR"] == "timetracer"
    assert env[envvars.TIMETRACER_MODE] == "record"
    # The program resolves in timetracer's own environment first, then the caller's PATH.
    assert env["PATH"] == f"{Path(sys.executable).parent}{os.pathsep}/usr/bin"


def test_flags_become_timetracer_variables_overriding_the_base() -> None:
    args = parse(
        "--mode", "replay", "--dir", "/srv/c", "--cassette", "one.cassette",
        "--compression", "zstd", "uvicorn",
    )  # fmt: skip
    base = {envvars.TIMETRACER_MODE: "off", envvars.TIMETRACER_DIR: "/old"}

    env = run_cmd.environment_for(args, base)

    assert env[envvars.TIMETRACER_MODE] == "replay"
    assert env[envvars.TIMETRACER_DIR] == "/srv/c"
    assert env[envvars.TIMETRACER_CASSETTE] == "one.cassette"
    assert env[envvars.TIMETRACER_COMPRESSION] == "zstd"
    assert base[envvars.TIMETRACER_DIR] == "/old"  # the base is copied, not changed


def test_a_bad_value_already_in_the_environment_is_refused() -> None:
    with pytest.raises(ConfigError, match=envvars.TIMETRACER_SAMPLE_RATE):
        run_cmd.environment_for(parse("uvicorn"), {envvars.TIMETRACER_SAMPLE_RATE: "2"})


@pytest.mark.parametrize(
    "flags", [["--mode", "rewind"], ["--compression", "brotli"]], ids=["mode", "compression"]
)
def test_bad_flag_values_are_refused_with_exit_2(flags: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        parse(*flags, "uvicorn")

    assert caught.value.code == 2


@pytest.fixture
def launches(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, list[str], dict[str, str]]]:
    """What ``os.execvpe`` was asked to run (nothing is run)."""
    calls: list[tuple[str, list[str], dict[str, str]]] = []

    def execvpe(file: str, argv: list[str], env: dict[str, str]) -> Any:
        calls.append((file, argv, env))

    monkeypatch.setattr(run_cmd.os, "execvpe", execvpe)
    return calls


def test_run_replaces_itself_with_opentelemetry_instrument_and_the_program(
    launches: list[tuple[str, list[str], dict[str, str]]], tmp_path: Path
) -> None:
    code = main(["run", "--dir", str(tmp_path), "uvicorn", "app:app", "--port", "8001"])

    (launcher, argv, env) = launches[0]
    assert code == 0
    assert Path(launcher).name == "opentelemetry-instrument"
    assert argv == [launcher, "uvicorn", "app:app", "--port", "8001"]
    assert env[envvars.TIMETRACER_DIR] == str(tmp_path)
    assert env["OTEL_PYTHON_DISTRO"] == "timetracer"


def test_run_with_a_bad_environment_exits_2_without_launching(
    launches: list[tuple[str, list[str], dict[str, str]]],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(envvars.TIMETRACER_COMPRESSION, "brotli")

    code = main(["run", "uvicorn", "app:app"])

    assert code == 2
    assert launches == []
    assert "brotli" in capsys.readouterr().err


def test_the_launcher_beside_this_python_is_preferred() -> None:
    beside = Path(sys.executable).parent / "opentelemetry-instrument"
    if not beside.exists():
        pytest.skip("opentelemetry-instrument is not installed beside this Python")

    assert run_cmd.find_launcher() == str(beside)


def test_a_missing_launcher_is_a_timetracer_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(run_cmd.sys, "executable", os.devnull)
    monkeypatch.setattr(run_cmd.shutil, "which", lambda name: None)

    with pytest.raises(run_cmd.TimetracerError, match="opentelemetry-instrument was not found"):
        run_cmd.find_launcher()
