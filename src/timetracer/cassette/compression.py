"""Cassette compression, detected from the first bytes of a file, never from its name.

zstd cassettes are compressed with timetracer's dictionary (``cassette/dictionary.py``); the
frame names it, so zstd cassettes written without a dictionary read as well.
"""

from __future__ import annotations

import gzip
import io
import threading
import zlib
from typing import Any

from timetracer.cassette import dictionary
from timetracer.errors import CassetteFormatError, MissingDependencyError

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# Decompressed cassettes larger than this are refused: a small file must not expand into
# gigabytes (a decompression bomb) when it is listed or replayed.
MAX_DECOMPRESSED_BYTES = 512 * 1024 * 1024
GZIP_LEVEL = 6
ZSTD_LEVEL = dictionary.ZSTD_LEVEL
# zstd's "content size unknown" (a frame written by a streaming compressor).
_UNKNOWN_SIZE = 2**64 - 1
_local = threading.local()


def sniff(data: bytes) -> str:
    """``gzip``, ``zstd`` or ``none`` for the given file contents."""
    if data.startswith(GZIP_MAGIC):
        return "gzip"
    if data.startswith(ZSTD_MAGIC):
        return "zstd"
    return "none"


def compress(data: bytes, codec: str) -> bytes:
    """Compress ``data`` with ``gzip``, ``zstd`` or ``none``."""
    if codec == "gzip":
        # mtime=0 keeps identical cassettes byte-identical.
        return gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0)
    if codec == "zstd":
        return _zstd_compressor().compress(data)
    if codec == "none":
        return data
    raise ValueError(f"unknown compression {codec!r}: expected gzip | zstd | none")


def _zstd_compressor() -> Any:
    """This thread's zstd compressor: building one per cassette costs a third of compressing
    it, and a compressor must not be shared between threads."""
    compressor = getattr(_local, "zstd", None)
    if compressor is None:
        # The content checksum lets reading detect a damaged frame instead of returning it.
        compressor = _zstd().ZstdCompressor(
            level=ZSTD_LEVEL, dict_data=dictionary.load(), write_checksum=True
        )
        _local.zstd = compressor
    return compressor


def _zstd_decompressor(frame_dictionary: int, source: object) -> Any:
    """This thread's decompressor for frames naming ``frame_dictionary`` (0: none)."""
    decompressors: dict[int, Any] | None = getattr(_local, "unzstd", None)
    if decompressors is None:
        decompressors = _local.unzstd = {}
    decompressor = decompressors.get(frame_dictionary)
    if decompressor is None:
        zstd = _zstd()
        dict_data = dictionary.for_frame(frame_dictionary, source)
        if dict_data is None:
            decompressor = zstd.ZstdDecompressor()
        else:
            decompressor = zstd.ZstdDecompressor(dict_data=dict_data)
        decompressors[frame_dictionary] = decompressor
    return decompressor


def decompress(data: bytes, *, source: object = None, limit: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """Undo whatever compression ``data`` carries, refusing output larger than ``limit``."""
    codec = sniff(data)
    try:
        if codec == "gzip":
            return _bounded_gunzip(data, limit, source)
        if codec == "zstd":
            return _bounded_unzstd(data, limit, source)
    except CassetteFormatError:
        raise
    except (OSError, EOFError, zlib.error) as exc:
        raise CassetteFormatError(source, f"corrupt or truncated {codec} data ({exc})") from exc
    except Exception as exc:  # zstandard raises its own ZstdError
        if type(exc).__name__ == "ZstdError":
            raise CassetteFormatError(source, f"corrupt or truncated zstd data ({exc})") from exc
        raise
    return data


def _bounded_gunzip(data: bytes, limit: int, source: object) -> bytes:
    decompressor = zlib.decompressobj(zlib.MAX_WBITS | 16)
    out = decompressor.decompress(data, limit + 1)
    if len(out) > limit:
        raise CassetteFormatError(source, f"expands to more than {limit} bytes")
    if not decompressor.eof:
        raise EOFError("compressed stream ended early")
    return out


def _bounded_unzstd(data: bytes, limit: int, source: object) -> bytes:
    frame = _zstd().get_frame_parameters(data)
    decompressor = _zstd_decompressor(frame.dict_id, source)
    if frame.content_size != _UNKNOWN_SIZE:
        if frame.content_size > limit:
            raise CassetteFormatError(source, f"expands to more than {limit} bytes")
        # The size is in the header: one call, which fails on a frame cut short or damaged
        # (and on output longer than the header says).
        return bytes(decompressor.decompress(data))
    reader = decompressor.stream_reader(io.BytesIO(data), read_across_frames=False)
    out = reader.read(limit + 1)
    if len(out) > limit:
        raise CassetteFormatError(source, f"expands to more than {limit} bytes")
    # A frame cut short reads as a shorter output without an error; make sure it ended.
    ended = decompressor.decompressobj()
    ended.decompress(data)
    if not ended.eof:
        raise EOFError("compressed stream ended early")
    return out


def _zstd():  # type: ignore[no-untyped-def]
    try:
        import zstandard
    except ImportError:
        raise MissingDependencyError("zstandard", "zstd") from None
    return zstandard
