"""``timetracer``: the argument parser and its exit codes."""

from __future__ import annotations

import pytest

from timetracer.cli.main import EXIT_BAD_INPUT, main
from timetracer.version import __version__


def test_no_command_exits_2(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main([])

    assert caught.value.code == EXIT_BAD_INPUT
    assert "timetracer:" in capsys.readouterr().err


def test_an_unknown_command_exits_2() -> None:
    with pytest.raises(SystemExit) as caught:
        main(["rewind"])

    assert caught.value.code == EXIT_BAD_INPUT


def test_version_prints_the_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--version"])

    assert caught.value.code == 0
    assert capsys.readouterr().out.strip() == f"timetracer {__version__}"


def test_ctrl_c_exits_130_with_one_line_instead_of_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from timetracer.cli import list_cmd

    def interrupted(args: object) -> int:
        raise KeyboardInterrupt

    monkeypatch.setattr(list_cmd, "run", interrupted)

    assert main(["list", "."]) == 130
    assert capsys.readouterr().err == "timetracer: interrupted\n"
