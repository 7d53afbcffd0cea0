"""timetracer's zstd dictionaries: what every cassette repeats, shipped once with the package.

A cassette is compressed alone, so without a dictionary every file pays again for the resource,
the scopes, the attribute keys, the span layout, the hello summary and the common header and
BSON field names. A zstd frame names the dictionary it was compressed with by id in its header
(0 for none), so a reader knows which one to load; the standard tool reads a cassette with
``zstd -d -D <dictionary file>``.

Dictionary ids are ``0x74740000 + number`` ("tt" in the high half), inside the range the zstd
format leaves to private use. A shipped dictionary never changes and is never removed: a better
one is added under the next number (``scripts/build_zstd_dictionary.py`` trains it).
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TYPE_CHECKING

from timetracer.errors import CassetteFormatError, MissingDependencyError, TimetracerError

if TYPE_CHECKING:
    import zstandard

ZSTD_LEVEL = 3
CURRENT = 1
"""The dictionary new cassettes are compressed with."""

_ID_BASE = 0x7474_0000
_NUMBERS = range(1, 0x1_0000)
# number -> sha256 of its file: a damaged install must not write cassettes nobody can read.
_SHIPPED: dict[int, str] = {
    1: "4696d802853128236c3ae38560912e2bfe325e806adabee33f6fe8a466a55852",
}


def frame_dictionary_id(number: int) -> int:
    """The id that zstd frames compressed with dictionary ``number`` carry."""
    if number not in _NUMBERS:
        raise ValueError(f"dictionary number {number} is outside 1-{_NUMBERS[-1]}")
    return _ID_BASE + number


def dictionary_path(number: int = CURRENT) -> Path:
    """Where dictionary ``number`` is installed (for ``zstd -d -D``)."""
    # Imported here: every CLI command imports this module, few of them compress.
    from importlib import resources

    with resources.as_file(
        resources.files("timetracer.cassette") / "dictionaries" / f"cassettes-{number}.zdict"
    ) as path:
        return Path(path)


def for_frame(frame_id: int, source: object = None) -> zstandard.ZstdCompressionDict | None:
    """The dictionary a frame names (``None`` for a frame compressed without one).

    Raises ``CassetteFormatError`` for a dictionary this version does not ship: a cassette
    written by a newer timetracer, or by another zstd user.
    """
    if frame_id == 0:
        return None
    number = frame_id - _ID_BASE
    if number not in _SHIPPED:
        known = ", ".join(str(n) for n in sorted(_SHIPPED))
        if number in _NUMBERS:
            what = f"timetracer's zstd dictionary {number}"
            advice = "upgrade timetracer to read it"
        else:
            what = f"a zstd dictionary with id {frame_id}, which is not one of timetracer's"
            advice = "decompress it with that dictionary (zstd -d -D FILE) and read the result"
        raise CassetteFormatError(
            source, f"compressed with {what}; this version knows dictionaries {known}: {advice}"
        )
    return load(number)


@functools.cache
def load(number: int = CURRENT) -> zstandard.ZstdCompressionDict:
    """Dictionary ``number``, checked against its recorded digest, ready for compression."""
    import hashlib

    try:
        import zstandard
    except ImportError:
        raise MissingDependencyError("zstandard", "zstd") from None
    path = dictionary_path(number)
    content = path.read_bytes()
    digest = hashlib.sha256(content).hexdigest()
    if digest != _SHIPPED[number]:
        raise TimetracerError(
            f"timetracer's zstd dictionary {number} at {path} is damaged "
            f"(sha256 {digest}, expected {_SHIPPED[number]}): reinstall timetracer"
        )
    dictionary = zstandard.ZstdCompressionDict(content, dict_type=zstandard.DICT_TYPE_FULLDICT)
    if dictionary.dict_id() != frame_dictionary_id(number):
        raise TimetracerError(
            f"timetracer's zstd dictionary {number} at {path} has id {dictionary.dict_id()}, "
            f"expected {frame_dictionary_id(number)}: reinstall timetracer"
        )
    # Tables for the writing level are built once, not per cassette.
    dictionary.precompute_compress(level=ZSTD_LEVEL)
    return dictionary
