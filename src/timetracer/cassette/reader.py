"""Finding and loading cassette files."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from timetracer.cassette.encoding import decode_cassette
from timetracer.cassette.model import Cassette
from timetracer.cassette.naming import is_cassette_name
from timetracer.errors import CassetteFormatError, CassetteNotFoundError

_READ_CHUNK = 64 * 1024
_O_BINARY = getattr(os, "O_BINARY", 0)  # Windows only: no newline translation


def read_traces_data(path: Path | str) -> TracesData:
    """The ``TracesData`` of one cassette file (any compression, protobuf or OTLP/JSON)."""
    return decode_cassette(read_cassette_bytes(path), source=path)


def read_cassette_bytes(path: Path | str) -> bytes:
    """The bytes of one cassette file, as stored (compressed)."""
    try:
        return _read_file(path)
    except FileNotFoundError:
        raise CassetteNotFoundError(path) from None
    except IsADirectoryError:
        raise CassetteFormatError(path, "is a directory, not a cassette file") from None


def _read_file(path: Path | str) -> bytes:
    """The bytes of ``path``, read with ``os.read``: for files of a few KiB, as cassettes are,
    ``Path.read_bytes()``'s buffered file object costs more than the reading."""
    fd = os.open(path, os.O_RDONLY | _O_BINARY)
    try:
        chunks = []
        while chunk := os.read(fd, _READ_CHUNK):  # a directory fails here: IsADirectoryError
            chunks.append(chunk)
    finally:
        os.close(fd)
    return b"".join(chunks)


def load_cassette(path: Path | str) -> Cassette:
    """Load and decode one cassette file."""
    path = Path(path)
    return Cassette.from_traces_data(read_traces_data(path), path=path)


def iter_cassette_paths(location: Path | str) -> Iterator[Path]:
    """Cassette files at ``location``: the file itself, or a directory's cassettes in name
    (that is, recorded) order, subdirectories included. Unfinished writes are skipped."""
    for found in cassette_files(location):
        yield Path(found)


def cassette_files(location: Path | str) -> list[str]:
    """What :func:`iter_cassette_paths` finds, as strings: listing tens of thousands, building
    a ``Path`` for each costs four times finding them."""
    location = Path(location)
    if location.is_file():
        return [str(location)]
    if not location.is_dir():
        raise CassetteNotFoundError(location)
    # Sorted as strings, by (name, path): the same order as the Paths' (every path shares the
    # prefix Path() may normalize), and no Path is built for the comparisons.
    found = sorted((os.path.basename(found), found) for found in _cassette_files(str(location)))
    return [found_path for _, found_path in found]


def _cassette_files(directory: str) -> Iterator[str]:
    """Every cassette file under ``directory``, as ``Path.rglob("*")`` and ``is_file()`` find
    them (symlinked directories are not entered, symlinked files count, unreadable directories
    are passed over), with ``os.scandir``: rglob costs ten times more per directory entry."""
    pending = [directory]
    while pending:
        try:
            entries = os.scandir(pending.pop())
        except OSError:
            continue
        with entries:
            for entry in entries:
                try:
                    if entry.is_dir(follow_symlinks=False):
                        pending.append(entry.path)
                    elif is_cassette_name(entry.name) and entry.is_file():
                        yield entry.path
                except OSError:
                    continue
