"""Record modes: VCR.py's meaning, and ``none`` by default when CI is set."""

from __future__ import annotations

from pathlib import Path

import pytest

from timetracer.errors import CassetteNotFoundError
from timetracer.testing.modes import Action, plan, resolve_record_mode, running_in_ci


@pytest.mark.parametrize(
    ("value", "ci"),
    [("true", True), ("1", True), ("yes", True), ("", False), ("0", False), ("false", False)],
)
def test_ci_counts_as_set_unless_empty_or_false(value: str, ci: bool) -> None:
    assert running_in_ci({"CI": value}) is ci
    assert running_in_ci({}) is False


def test_the_default_is_none_under_ci_and_once_elsewhere() -> None:
    assert resolve_record_mode(None, {"CI": "true"}) == "none"
    assert resolve_record_mode(None, {}) == "once"


def test_an_explicit_mode_wins_even_under_ci() -> None:
    assert resolve_record_mode("all", {"CI": "true"}) == "all"
    with pytest.raises(ValueError, match="sometimes"):
        resolve_record_mode("sometimes", {})


@pytest.mark.parametrize(
    ("mode", "exists", "action"),
    [
        ("none", True, Action.REPLAY),
        ("once", True, Action.REPLAY),
        ("once", False, Action.RECORD),
        ("new_episodes", True, Action.APPEND),
        ("new_episodes", False, Action.RECORD),
        ("all", True, Action.RECORD),
        ("all", False, Action.RECORD),
    ],
)
def test_each_mode_replays_records_or_appends(
    tmp_path: Path, mode: str, exists: bool, action: Action
) -> None:
    cassette = tmp_path / "test.cassette"
    if exists:
        cassette.write_bytes(b"x")

    assert plan(mode, cassette) is action


def test_none_without_a_cassette_has_nothing_to_replay(tmp_path: Path) -> None:
    with pytest.raises(CassetteNotFoundError):
        plan("none", tmp_path / "missing.cassette")
