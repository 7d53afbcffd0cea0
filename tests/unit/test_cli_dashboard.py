"""``timetracer dashboard``: one self-contained HTML file for a directory of cassettes."""

from __future__ import annotations

import json
import re
import stat
from pathlib import Path

import pytest

from tests.support.dashboard_cassettes import UNREADABLE, build_directory
from timetracer.cli import dashboard_cmd
from timetracer.cli.main import main


@pytest.fixture(scope="module")
def directory(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_directory(tmp_path_factory.mktemp("cli") / "cassettes").root


def test_it_writes_an_owner_only_file_and_says_what_it_holds(
    directory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "pages" / "dash.html"

    code = main(["dashboard", str(directory), "--out", str(out)])

    captured = capsys.readouterr()
    assert code == 0
    assert captured.out.strip() == (
        f"timetracer dashboard: wrote {out} (14 cassette(s), 1 skipped as unreadable)"
    )
    assert f"timetracer: skipped {directory / UNREADABLE}" in captured.err
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    html = out.read_text()
    assert html.startswith("<!doctype html>")
    assert len(re.findall(r'id="tt-detail-\d+"', html)) == 14


def test_the_default_file_is_written_in_the_current_directory(
    directory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)

    assert main(["dashboard", str(directory)]) == 0

    assert (tmp_path / dashboard_cmd.DEFAULT_OUT).is_file()


def test_a_detail_budget_of_zero_lists_every_row_without_details(
    directory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "dash.html"

    assert main(["dashboard", str(directory), "--out", str(out), "--max-detail-mb", "0"]) == 0

    assert "14 without details (over --max-detail-mb)" in capsys.readouterr().out
    assert 'id="tt-detail-' not in out.read_text()


def test_the_app_is_named_in_the_replay_commands(directory: Path, tmp_path: Path) -> None:
    out = tmp_path / "dash.html"

    main(["dashboard", str(directory), "--out", str(out), "--app", "shop.main:app"])

    detail = re.search(r'id="tt-detail-0">(.*?)</script>', out.read_text(), re.S)
    assert detail is not None
    assert json.loads(detail.group(1))["commands"][0]["command"].endswith("--app shop.main:app")


def test_open_shows_the_file_in_the_browser(
    directory: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[str] = []
    monkeypatch.setattr("webbrowser.open", opened.append)
    out = tmp_path / "dash.html"

    main(["dashboard", str(directory), "--out", str(out), "--open"])

    assert opened == [out.resolve().as_uri()]


def test_a_missing_directory_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["dashboard", str(tmp_path / "nowhere"), "--out", str(tmp_path / "x.html")]) == 2

    assert "no such cassette" in capsys.readouterr().err


def test_an_unwritable_output_exits_2_naming_it(
    directory: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")

    assert main(["dashboard", str(directory), "--out", str(blocker / "dash.html")]) == 2

    assert f"cannot write {blocker / 'dash.html'}" in capsys.readouterr().err


@pytest.mark.parametrize("budget", ["-1", "lots", "inf"])
def test_a_bad_budget_exits_2(
    directory: Path, budget: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["dashboard", str(directory), "--max-detail-mb", budget])

    assert caught.value.code == 2
    assert "MiB" in capsys.readouterr().err
