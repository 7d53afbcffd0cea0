"""Writing cassette files atomically, with owner-only permissions."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

DIR_MODE = 0o700
FILE_MODE = 0o600


def write_atomic(directory: Path, name: str, data: bytes) -> Path:
    """Write ``data`` to ``directory/name`` so readers see either nothing or the whole file.

    The bytes go to a hidden temporary file in the same directory, which is then renamed over
    the final name; a crash mid-write leaves only a dot-file that listing and replay ignore.
    """
    directory.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    final = directory / name
    temporary = directory / f".{name}.{os.getpid()}.{secrets.token_hex(4)}.partial"
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(temporary, final)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return final
