"""``timetracer.cassette.store.write_atomic``: the directory is created only when missing, and
``os.write`` is called until every byte is written."""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from timetracer.cassette import store
from timetracer.cassette.store import write_atomic


class _Os:
    """``os`` as the store module sees it, with some calls replaced."""

    def __init__(self, **replaced: Any) -> None:
        self._replaced = replaced

    def __getattr__(self, name: str) -> Any:
        return self._replaced.get(name, getattr(os, name))


def mode_of(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_a_missing_directory_is_created_owner_only_on_the_first_write(tmp_path: Path) -> None:
    directory = tmp_path / "cassettes"

    write_atomic(directory, "a.cassette", b"one")
    write_atomic(directory, "b.cassette", b"two")

    assert mode_of(directory) == 0o700
    assert sorted(os.listdir(directory)) == ["a.cassette", "b.cassette"]
    assert mode_of(directory / "b.cassette") == 0o600


def test_an_existing_directory_is_written_into_without_mkdir_and_keeps_its_mode(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    directory = tmp_path / "shared"
    directory.mkdir(mode=0o755)
    directory.chmod(0o755)  # whatever the umask
    calls: list[Path] = []
    monkeypatch.setattr(Path, "mkdir", lambda path, *args, **kwargs: calls.append(path))

    written = write_atomic(directory, "a.cassette", b"payload")

    assert calls == []
    assert written.read_bytes() == b"payload"
    assert mode_of(directory) == 0o755
    assert mode_of(written) == 0o600


def test_a_parent_that_is_a_file_fails_and_creates_nothing(tmp_path: Path) -> None:
    (tmp_path / "blocker").write_bytes(b"")

    with pytest.raises(NotADirectoryError):
        write_atomic(tmp_path / "blocker" / "cassettes", "a.cassette", b"payload")

    assert os.listdir(tmp_path) == ["blocker"]


def test_short_writes_are_continued_until_every_byte_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    sizes: list[int] = []

    def three_bytes_at_a_time(fd: int, data: bytes) -> int:
        sizes.append(len(data))
        return os.write(fd, data[:3])

    monkeypatch.setattr(store, "os", _Os(write=three_bytes_at_a_time))
    payload = bytes(range(256)) * 4

    written = write_atomic(tmp_path, "a.cassette", payload)

    assert written.read_bytes() == payload
    assert sizes[:3] == [1024, 1021, 1018]
    assert os.listdir(tmp_path) == ["a.cassette"]


def test_a_write_that_makes_no_progress_fails_instead_of_looping(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([2, 0])
    monkeypatch.setattr(store, "os", _Os(write=lambda fd, data: next(answers)))

    with pytest.raises(OSError, match="wrote 2 of 7 bytes") as raised:
        write_atomic(tmp_path, "a.cassette", b"payload")

    assert raised.value.errno == errno.EIO
    assert os.listdir(tmp_path) == []


def test_a_failed_write_closes_the_file_and_removes_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    opened: list[int] = []

    def recording_open(path: Any, flags: int, mode: int = 0o777) -> int:
        opened.append(os.open(path, flags, mode))
        return opened[-1]

    def no_space(fd: int, data: bytes) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(store, "os", _Os(open=recording_open, write=no_space))

    with pytest.raises(OSError, match="No space"):
        write_atomic(tmp_path, "a.cassette", b"payload")

    assert len(opened) == 1
    with pytest.raises(OSError) as closed:
        os.fstat(opened[0])
    assert closed.value.errno == errno.EBADF
    assert os.listdir(tmp_path) == []
