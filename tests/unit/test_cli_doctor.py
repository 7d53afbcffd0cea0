"""``timetracer doctor``: the report, ``--json``, ``--mode``, and the exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from timetracer.cli import doctor_cmd
from timetracer.cli.main import main
from timetracer.cli.style import Style
from timetracer.doctor import FAIL, OK, WARN, Finding

OTEL_CHOICES = ("OTEL_PYTHON_DISTRO", "OTEL_PYTHON_CONFIGURATOR", "OTEL_TRACES_EXPORTER",
                "OTEL_SDK_DISABLED", "OTEL_PYTHON_DISABLED_INSTRUMENTATIONS")  # fmt: skip


@pytest.fixture(autouse=True)
def no_otel_choices(monkeypatch: pytest.MonkeyPatch) -> None:
    """The developer's own OTel variables do not reach these tests."""
    for name in OTEL_CHOICES:
        monkeypatch.delenv(name, raising=False)


def doctor(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    code = main(["doctor", *argv])
    return code, capsys.readouterr().out


def test_checking_a_record_run_of_this_installation_exits_0(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = doctor(capsys, "--mode", "record", "--dir", str(tmp_path / "cassettes"))

    assert code == 0
    lines = out.splitlines()
    assert "ok    distro: timetracer (OTEL_PYTHON_DISTRO=timetracer)" in lines
    assert (
        f"ok    directory: {tmp_path / 'cassettes'} will be created on the first cassette" in lines
    )
    assert any(line.startswith("ok    instrumentor pymongo: ") for line in lines)
    assert lines[-1].endswith("0 problem(s): nothing stops recording")


def test_the_environment_as_it_is_warns_that_the_mode_is_off(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out = doctor(capsys)

    assert code == 0
    assert "warn  mode: TIMETRACER_MODE is off (or unset)" in out
    assert "      -> set TIMETRACER_MODE=record" in out


def test_a_failing_check_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    code, out = doctor(capsys, "--mode", "record", "--dir", str(blocker / "cassettes"))

    assert code == 1
    assert "fail  directory: " in out
    assert out.splitlines()[-1].endswith(", 1 problem(s)")


def test_a_bad_timetracer_variable_is_a_failed_check_not_a_crash(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("TIMETRACER_SAMPLE_RATE", "lots")

    code, out = doctor(capsys, "--mode", "record", "--dir", str(tmp_path))

    assert code == 1
    assert "fail  mode: start-up is refused: TIMETRACER_SAMPLE_RATE='lots' is not valid" in out


def test_json_prints_a_summary_and_every_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = doctor(capsys, "--json", "--mode", "replay", "--dir", str(tmp_path))

    report = json.loads(out)
    assert code == 1  # an empty directory has nothing to replay
    assert set(report["summary"]) == {OK, WARN, FAIL}
    assert report["summary"][FAIL] == 1
    assert {"check", "status", "message", "hint"} == set(report["findings"][0])
    [cassettes] = [f for f in report["findings"] if f["check"] == "cassettes"]
    assert cassettes["status"] == FAIL


@pytest.mark.parametrize(
    "argv",
    [["doctor", "--mode", "bogus"], ["doctor", "--bogus"], ["doctor", "--mode"]],
    ids=["unknown-mode", "unknown-flag", "mode-without-value"],
)
def test_bad_usage_exits_2(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(argv)

    assert caught.value.code == 2
    assert "timetracer:" in capsys.readouterr().err


def test_dir_without_mode_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["doctor", "--dir", str(tmp_path)])

    assert code == 2
    assert "--dir needs --mode" in capsys.readouterr().err


def test_marks_are_coloured_only_when_colour_is_on() -> None:
    findings = [Finding("a", OK, "fine"), Finding("b", FAIL, "broken", "fix it")]

    plain = doctor_cmd.render(findings, Style(enabled=False))
    coloured = doctor_cmd.render(findings, Style(enabled=True))

    assert plain.splitlines() == [
        "ok    a: fine",
        "fail  b: broken",
        "      -> fix it",
        "1 ok, 0 warning(s), 1 problem(s)",
    ]
    assert "\x1b[32mok  \x1b[0m  a: fine" in coloured
    assert "\x1b[31mfail\x1b[0m  b: broken" in coloured
