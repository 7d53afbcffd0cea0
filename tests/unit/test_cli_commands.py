"""Every ``timetracer`` command: ``--help``, bad flags, missing and corrupt cassettes."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

import pytest

from timetracer.cli.main import build_parser, main


def command_names() -> list[str]:
    parser = build_parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return sorted(commands.choices)


def test_the_issue_commands_are_all_registered() -> None:
    assert {"run", "list", "show", "diff", "export", "replay", "collect", "doctor"} <= set(
        command_names()
    )


@pytest.mark.parametrize("command", command_names())
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([command, "--help"])

    assert caught.value.code == 0
    assert f"usage: timetracer {command}" in capsys.readouterr().out


@pytest.mark.parametrize("command", command_names())
def test_every_command_refuses_an_unknown_flag_with_exit_2(
    command: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main([command, "--no-such-flag-zz9"])

    assert caught.value.code == 2
    assert "timetracer: " in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "{missing}"],
        ["show", "{missing}"],
        ["diff", "{missing}", "{missing}"],
        ["export", "{missing}"],
        ["replay", "{missing}", "--app", "x:app"],
    ],
    ids=["list", "show", "diff", "export", "replay"],
)
def test_a_missing_cassette_exits_2_naming_it(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "gone.cassette"

    code = main([part.format(missing=missing) for part in argv])

    assert code == 2
    assert str(missing) in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["list", "{corrupt}"],
        ["show", "{corrupt}"],
        ["diff", "{corrupt}", "{corrupt}"],
        ["export", "{corrupt}", "--out", "-"],
    ],
    ids=["list", "show", "diff", "export"],
)
def test_a_cassette_of_random_bytes_exits_2_naming_it(
    argv: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corrupt = tmp_path / "random.cassette"
    corrupt.write_bytes(os.urandom(512))

    code = main([part.format(corrupt=corrupt) for part in argv])

    out, err = capsys.readouterr()
    assert code == 2
    assert str(corrupt) in err
    assert "Traceback" not in out + err


def test_python_dash_m_timetracer_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "timetracer", "diff", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )

    assert result.returncode == 0
    assert result.stdout.startswith("usage: timetracer diff")
