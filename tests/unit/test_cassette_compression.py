"""``timetracer.cassette.compression``: codec sniffed from magic bytes, bounded decompression."""

from __future__ import annotations

import pytest

from timetracer.cassette import dictionary
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


def zstd_stream(data: bytes, **options: object) -> bytes:
    """``data`` as another zstd writer would leave it: a streamed frame, no content size."""
    import io

    import zstandard

    out = io.BytesIO()
    with zstandard.ZstdCompressor(**options).stream_writer(out, closefd=False) as writer:
        writer.write(data)
    return out.getvalue()


def test_zstd_cassettes_name_timetracers_dictionary_in_their_frame() -> None:
    import zstandard

    frame = zstandard.get_frame_parameters(compress(DATA, "zstd"))

    assert frame.dict_id == dictionary.frame_dictionary_id(dictionary.CURRENT)


def test_zstd_without_a_dictionary_still_reads() -> None:
    import zstandard

    plain = zstandard.ZstdCompressor(level=3, write_checksum=True).compress(DATA)

    assert decompress(plain) == DATA


def test_a_streamed_zstd_frame_without_a_content_size_reads_within_the_limit() -> None:
    streamed = zstd_stream(DATA)

    assert decompress(streamed) == DATA
    with pytest.raises(CassetteFormatError, match="more than 1000 bytes"):
        decompress(streamed, source="streamed.cassette", limit=1000)


def test_a_streamed_zstd_frame_cut_short_is_refused() -> None:
    streamed = zstd_stream(DATA)

    with pytest.raises(CassetteFormatError, match="corrupt or truncated zstd data"):
        decompress(streamed[: len(streamed) // 2], source="cut.cassette")


def test_the_dictionary_lets_standard_zstd_read_a_cassette() -> None:
    # What `zstd -d -D <dictionary_path()>` does: a plain decoder given the shipped file.
    import zstandard

    content = dictionary.dictionary_path().read_bytes()
    decoder = zstandard.ZstdDecompressor(dict_data=zstandard.ZstdCompressionDict(content))

    assert decoder.decompress(compress(DATA, "zstd")) == DATA


def test_a_dictionary_this_version_does_not_ship_is_named_with_what_to_do() -> None:
    import zstandard

    unknown = dictionary.frame_dictionary_id(dictionary.CURRENT + 1)
    trained = zstandard.train_dictionary(
        4096, [DATA[i : i + 2000] for i in range(0, len(DATA), 2000)], dict_id=unknown
    )
    newer = zstandard.ZstdCompressor(dict_data=trained).compress(DATA)

    with pytest.raises(CassetteFormatError) as caught:
        decompress(newer, source="newer.cassette")

    message = str(caught.value)
    assert "newer.cassette" in message
    assert f"timetracer's zstd dictionary {dictionary.CURRENT + 1}" in message
    assert "upgrade timetracer" in message


def test_a_foreign_zstd_dictionary_is_named_as_not_timetracers() -> None:
    import zstandard

    trained = zstandard.train_dictionary(
        4096, [DATA[i : i + 2000] for i in range(0, len(DATA), 2000)], dict_id=12345
    )
    foreign = zstandard.ZstdCompressor(dict_data=trained).compress(DATA)

    with pytest.raises(CassetteFormatError, match="id 12345, which is not one of timetracer's"):
        decompress(foreign, source="foreign.cassette")
