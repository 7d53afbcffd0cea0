"""Writing cassette files atomically, with owner-only permissions, and sweeping up after crashes."""

from __future__ import annotations

import contextlib
import errno
import os
import re
import time
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600
PARTIAL_SUFFIX = ".partial"
STALE_PARTIAL_SECONDS = 3600.0
"""A temporary file this old is a leftover whoever wrote it: writes take milliseconds."""
# ``.<final name>.<writer pid>.<random hex>.partial``, as write_atomic names its temporary files.
_PARTIAL_NAME = re.compile(r"^\..+\.(?P<pid>[0-9]+)\.[0-9a-f]+\.partial$")
# O_EXCL: always a new file, never one (or a symlink) already there. O_BINARY: Windows only.
_CREATE = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)


def partial_name(name: str) -> str:
    """A fresh temporary name for a write of ``name``: hidden, unique, naming this process."""
    return f".{name}.{os.getpid()}.{os.urandom(4).hex()}{PARTIAL_SUFFIX}"


def write_atomic(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``directory/name`` so readers see either nothing or the whole file.

    The bytes go to a hidden temporary file in the same directory, which is then renamed over
    the final name; a crash mid-write leaves only a dot-file that listing and replay ignore
    and that :func:`remove_stale_partials` deletes later. The file is owner-only (0600), and
    so is the directory (0700) when this call creates it.
    """
    final = directory / name
    temporary = os.path.join(directory, partial_name(name))
    try:
        fd = os.open(temporary, _CREATE, FILE_MODE)
    except FileNotFoundError:
        # Only the first write to a directory finds it missing: creating it up front would
        # cost every write a failing mkdir and a stat.
        directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
        fd = os.open(temporary, _CREATE, FILE_MODE)
    try:
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
        os.replace(temporary, final)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise
    return final


def _write_all(fd: int, data: bytes) -> None:
    """Write every byte of ``data`` to ``fd``: ``os.write`` may write fewer than it is given
    (a signal, a file size limit), and reports so only by its return value."""
    written = os.write(fd, data)
    if written == len(data):
        return
    view = memoryview(data)
    while written < len(view):
        count = os.write(fd, view[written:])
        if count == 0:  # would loop forever; a full disk raises ENOSPC instead
            raise OSError(errno.EIO, f"wrote {written} of {len(view)} bytes, then nothing")
        written += count


def remove_stale_partials(
    directory: Path, *, max_age_seconds: float = STALE_PARTIAL_SECONDS, now: float | None = None
) -> int:
    """Delete the temporary files of writes that will never finish; return how many.

    A temporary file is stale when the process named in it is no longer running (it was
    killed mid-write), or when it is older than ``max_age_seconds`` (its pid may since belong
    to another process, or to another machine sharing the directory). Files of writes still
    in progress, and every file not named like :func:`write_atomic`'s temporaries, are left
    alone. A missing directory has nothing to sweep.
    """
    now = time.time() if now is None else now
    removed = 0
    try:
        entries = list(os.scandir(directory))
    except FileNotFoundError:
        return 0
    for entry in entries:
        match = _PARTIAL_NAME.match(entry.name)
        if match is None or not entry.is_file(follow_symlinks=False):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
            if _pid_alive(int(match.group("pid"))) and age < max_age_seconds:
                continue
            os.unlink(entry.path)
        except FileNotFoundError:
            continue  # renamed or swept by its writer or another cleaner meanwhile: not ours
        removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    """Whether a process with this id runs on this machine (signal 0 checks, sends nothing)."""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, owned by another user
    except OverflowError:
        return False  # not a pid this system can have
    return True
