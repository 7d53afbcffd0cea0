"""Finding and loading cassette files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from opentelemetry.proto.trace.v1.trace_pb2 import TracesData

from timetracer.cassette.encoding import decode_cassette
from timetracer.cassette.model import Cassette
from timetracer.cassette.naming import is_cassette_name
from timetracer.errors import CassetteFormatError, CassetteNotFoundError


def read_traces_data(path: Path | str) -> TracesData:
    """The ``TracesData`` of one cassette file (any compression, protobuf or OTLP/JSON)."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise CassetteNotFoundError(path) from None
    except IsADirectoryError:
        raise CassetteFormatError(path, "is a directory, not a cassette file") from None
    return decode_cassette(raw, source=path)


def load_cassette(path: Path | str) -> Cassette:
    """Load and decode one cassette file."""
    path = Path(path)
    return Cassette.from_traces_data(read_traces_data(path), path=path)


def iter_cassette_paths(location: Path | str) -> Iterator[Path]:
    """Cassette files at ``location``: the file itself, or a directory's cassettes in name
    (that is, recorded) order, subdirectories included. Unfinished writes are skipped."""
    location = Path(location)
    if location.is_file():
        yield location
        return
    if not location.is_dir():
        raise CassetteNotFoundError(location)
    found = [p for p in location.rglob("*") if is_cassette_name(p.name) and p.is_file()]
    yield from sorted(found, key=lambda p: (p.name, str(p)))
