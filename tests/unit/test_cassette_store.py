"""``timetracer.cassette.store``: atomic writes with owner-only permissions."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from timetracer.cassette import store
from timetracer.cassette.store import write_atomic


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_write_creates_the_directory_owner_only_and_the_file_owner_only(tmp_path: Path) -> None:
    directory = tmp_path / "cassettes"

    written = write_atomic(directory, "a.cassette", b"payload")

    assert written == directory / "a.cassette"
    assert written.read_bytes() == b"payload"
    assert mode_of(directory) == 0o700
    assert mode_of(written) == 0o600


def test_missing_parent_directories_are_created(tmp_path: Path) -> None:
    directory = tmp_path / "a" / "b" / "cassettes"

    write_atomic(directory, "a.cassette", b"payload")

    assert (directory / "a.cassette").read_bytes() == b"payload"


def test_no_temporary_file_is_left_behind(tmp_path: Path) -> None:
    write_atomic(tmp_path, "a.cassette", b"one")
    write_atomic(tmp_path, "b.cassette", b"two")

    assert sorted(os.listdir(tmp_path)) == ["a.cassette", "b.cassette"]


def test_writing_an_existing_name_replaces_the_whole_file(tmp_path: Path) -> None:
    write_atomic(tmp_path, "a.cassette", b"a much longer first version")

    write_atomic(tmp_path, "a.cassette", b"second")

    assert (tmp_path / "a.cassette").read_bytes() == b"second"


def test_a_failed_rename_leaves_no_temporary_file_and_raises(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def no_space(source: object, target: object) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(store.os, "replace", no_space)

    with pytest.raises(OSError, match="No space left"):
        write_atomic(tmp_path, "a.cassette", b"payload")

    assert os.listdir(tmp_path) == []


def test_a_name_taken_by_a_directory_fails_without_leaving_a_temporary_file(
    tmp_path: Path,
) -> None:
    (tmp_path / "a.cassette").mkdir()
    (tmp_path / "a.cassette" / "inside").write_bytes(b"")

    with pytest.raises(OSError):
        write_atomic(tmp_path, "a.cassette", b"payload")

    assert os.listdir(tmp_path) == ["a.cassette"]
