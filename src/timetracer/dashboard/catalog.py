"""The cassettes under one directory, found again on every look and read only when changed.

A name is a cassette's path relative to the directory, with ``/`` separators. Names come only
from scanning the directory: a name asked for from outside (a URL) is looked up among them,
never joined onto a path, so nothing outside the directory can be reached by naming it.
"""

from __future__ import annotations

import hashlib
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from timetracer.cassette import iter_cassette_paths, load_cassette
from timetracer.cassette.model import Cassette
from timetracer.dashboard.data import row_of, same_request_key
from timetracer.errors import CassetteError, CassetteNotFoundError

Stamp = tuple[int, int]
"""``(mtime_ns, size)``: a file whose stamp is unchanged is not read again."""


@dataclass(frozen=True)
class Listing:
    """One scan: a row per readable cassette (recorded order) and what was skipped."""

    rows: list[dict[str, Any]]
    skipped: list[dict[str, str]]
    version: str
    """Changes whenever a cassette is added, removed or rewritten (the HTTP ETag)."""


@dataclass
class _Entry:
    path: Path
    stamp: Stamp
    row: dict[str, Any] | None = None
    problem: str | None = None


def is_plain_name(name: str) -> bool:
    """Whether ``name`` is a relative path made of ordinary segments: no empty, ``.`` or ``..``
    segment, no backslash, no NUL, no drive or leading slash. A first, cheap refusal; the
    lookup among scanned names is what actually confines requests to the directory."""
    if not name or "\\" in name or "\x00" in name or name.startswith("/") or ":" in name:
        return False
    return all(segment not in ("", ".", "..") for segment in name.split("/"))


class CassetteCatalog:
    """The cassettes at ``location`` (a directory, or one cassette file)."""

    def __init__(self, location: Path) -> None:
        if not location.exists():
            raise CassetteNotFoundError(location)
        self.location = location
        self._root = location.resolve()
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}

    def name_of(self, path: Path) -> str:
        """The name of a scanned cassette path."""
        if self.location.is_file():
            return path.name
        return path.relative_to(self.location).as_posix()

    def scan(self) -> Listing:
        """Look at the directory again: read new or changed files, forget removed ones."""
        with self._lock:
            entries: dict[str, _Entry] = {}
            for path in iter_cassette_paths(self.location):
                name = self.name_of(path)
                try:
                    stat = path.stat()
                except OSError:  # removed between listing and stat: it is simply gone
                    continue
                stamp = (stat.st_mtime_ns, stat.st_size)
                known = self._entries.get(name)
                if known is not None and known.stamp == stamp:
                    entries[name] = known
                elif not self._inside(path):
                    entries[name] = _Entry(
                        path, stamp, problem=f"{path}: links outside {self.location}"
                    )
                else:
                    entries[name] = self._read(path, stamp)
            self._entries = entries
            return self._listing()

    def _read(self, path: Path, stamp: Stamp) -> _Entry:
        try:
            cassette = load_cassette(path)
        except CassetteError as error:
            return _Entry(path, stamp, problem=str(error))
        return _Entry(path, stamp, row=row_of(cassette, self.name_of(path)))

    def _listing(self) -> Listing:
        rows = [entry.row for entry in self._entries.values() if entry.row is not None]
        skipped = [
            {"name": name, "path": str(entry.path), "reason": entry.problem}
            for name, entry in self._entries.items()
            if entry.problem is not None
        ]
        digest = hashlib.sha256()
        for name, entry in self._entries.items():
            digest.update(f"{name}\x00{entry.stamp[0]}\x00{entry.stamp[1]}\x00".encode())
        return Listing(rows=rows, skipped=skipped, version=digest.hexdigest()[:32])

    def path_of(self, name: str) -> Path | None:
        """The file of a scanned cassette called ``name``, or None: for a name that is not a
        plain relative name, that no scan found, or whose file now resolves outside the
        directory (a symbolic link pointing elsewhere)."""
        if not is_plain_name(name):
            return None
        entry = self._entries.get(name)
        if entry is None:
            self.scan()  # it may have been recorded since the last scan
            entry = self._entries.get(name)
        if entry is None or not self._inside(entry.path):
            return None
        return entry.path

    def _inside(self, path: Path) -> bool:
        """Whether ``path``, symbolic links followed, is the location or under it."""
        resolved = path.resolve()
        return resolved == self._root or resolved.is_relative_to(self._root)

    def load(self, name: str) -> Cassette | None:
        """The decoded cassette called ``name`` (see :meth:`path_of`), or None if unknown.

        Raises :class:`~timetracer.errors.CassetteError` when the file is no longer readable.
        """
        path = self.path_of(name)
        return None if path is None else load_cassette(path)

    def previous_of(self, name: str) -> Path | None:
        """The file of the last cassette before ``name`` with the same method and route."""
        entry = self._entries.get(name)
        if entry is None or entry.row is None:
            return None
        key, found = same_request_key(entry.row), None
        for other_name, other in self._entries.items():
            if other_name == name:
                return found
            if other.row is not None and same_request_key(other.row) == key:
                found = other.path
        return found
