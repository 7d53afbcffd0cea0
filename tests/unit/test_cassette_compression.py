"""``timetracer.cassette.compression``: codec sniffed from magic bytes, bounded decompression."""

from __future__ import annotations

import pytest

from timetracer.cassette.compression import compress, decompress, sniff
from timetracer.errors import CassetteFormatError

DATA = b"".join(b"line %d of a recorded cassette\n" % i for i in range(5_000))
CODECS = ["gzip", "zstd", "none"]
MIB = 1024 * 1024


@pytest.mark.parametrize(
    ("data", "codec"),
    [
        (b"\x1f\x8b\x08\x00rest", "gzip"),
        (b"\x28\xb5\x2f\xfdrest", "zstd"),
        (b"\x0a\x10protobuf", "none"),
        (b'{"resourceSpans": []}', "none"),
        (b"", "none"),
    ],
)
def test_sniff_detects_the_codec_from_the_first_bytes(data: bytes, codec: str) -> None:
    assert sniff(data) == codec


@pytest.mark.parametrize("codec", CODECS)
def test_compressed_data_sniffs_as_its_codec_and_round_trips(codec: str) -> None:
    packed = compress(DATA, codec)

    assert sniff(packed) == codec
    assert decompress(packed) == DATA


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_compression_actually_shrinks_and_is_deterministic(codec: str) -> None:
    packed = compress(DATA, codec)

    assert len(packed) < len(DATA) // 5
    assert compress(DATA, codec) == packed


def test_an_unknown_codec_is_refused() -> None:
    with pytest.raises(ValueError, match="brotli"):
        compress(DATA, "brotli")


def flip_middle_byte(data: bytes) -> bytes:
    middle = len(data) // 2
    return data[:middle] + bytes([data[middle] ^ 0xFF]) + data[middle + 1 :]


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_corrupt_data_raises_cassette_format_error_naming_the_source(codec: str) -> None:
    corrupt = flip_middle_byte(compress(DATA, codec))

    with pytest.raises(CassetteFormatError) as caught:
        decompress(corrupt, source="corrupt.cassette")

    assert "corrupt.cassette" in str(caught.value)


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_truncated_data_raises_cassette_format_error_naming_the_source(codec: str) -> None:
    packed = compress(DATA, codec)

    with pytest.raises(CassetteFormatError) as caught:
        decompress(packed[: len(packed) // 2], source="cut.cassette")

    assert "cut.cassette" in str(caught.value)


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_a_decompression_bomb_is_refused_with_an_error_naming_the_file(codec: str) -> None:
    bomb = compress(bytes(10 * MIB), codec)

    with pytest.raises(CassetteFormatError) as caught:
        decompress(bomb, source="bomb.cassette", limit=MIB)

    assert "more than 1048576 bytes" in str(caught.value)
    assert "bomb.cassette" in str(caught.value)


@pytest.mark.parametrize("codec", ["gzip", "zstd"])
def test_data_exactly_at_the_limit_is_accepted(codec: str) -> None:
    packed = compress(bytes(MIB), codec)

    assert decompress(packed, limit=MIB) == bytes(MIB)


def test_uncompressed_data_comes_back_as_is() -> None:
    assert decompress(DATA) is DATA
