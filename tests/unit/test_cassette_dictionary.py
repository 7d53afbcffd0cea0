"""``timetracer.cassette.dictionary``: shipped zstd dictionaries, named by id, never changed."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import pytest

from timetracer.cassette import dictionary
from timetracer.errors import CassetteFormatError, TimetracerError


def test_dictionary_ids_carry_the_number_in_zstds_private_range() -> None:
    frame_id = dictionary.frame_dictionary_id(1)

    assert frame_id == 0x7474_0001
    # zstd leaves 0-32767 to registration and 2**31 and above reserved.
    assert 32_768 <= frame_id < 2**31


@pytest.mark.parametrize("number", [0, -1, 0x1_0000])
def test_a_dictionary_number_out_of_range_is_refused(number: int) -> None:
    with pytest.raises(ValueError, match=f"dictionary number {number} is outside 1-65535"):
        dictionary.frame_dictionary_id(number)


def test_every_shipped_dictionary_is_installed_unchanged_with_its_id() -> None:
    for number, digest in dictionary._SHIPPED.items():
        content = dictionary.dictionary_path(number).read_bytes()

        assert hashlib.sha256(content).hexdigest() == digest
        assert dictionary.load(number).dict_id() == dictionary.frame_dictionary_id(number)


def test_a_frame_without_a_dictionary_needs_none() -> None:
    assert dictionary.for_frame(0) is None


def test_a_frame_naming_the_current_dictionary_gets_it() -> None:
    frame_id = dictionary.frame_dictionary_id(dictionary.CURRENT)

    assert dictionary.for_frame(frame_id) is dictionary.load(dictionary.CURRENT)


def test_a_damaged_dictionary_file_is_refused_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    damaged = tmp_path / "cassettes-1.zdict"
    shutil.copyfile(dictionary.dictionary_path(1), damaged)
    damaged.write_bytes(damaged.read_bytes()[:-1] + b"\x00")
    monkeypatch.setattr(dictionary, "dictionary_path", lambda number=1: damaged)
    dictionary.load.cache_clear()
    try:
        with pytest.raises(TimetracerError, match=r"is damaged .* reinstall timetracer"):
            dictionary.load(1)
    finally:
        dictionary.load.cache_clear()


def test_an_unknown_dictionary_is_a_cassette_format_error_naming_the_file() -> None:
    with pytest.raises(CassetteFormatError, match=r"^x\.cassette: compressed with timetracer's"):
        dictionary.for_frame(dictionary.frame_dictionary_id(9), source="x.cassette")
