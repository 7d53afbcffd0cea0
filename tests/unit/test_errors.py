"""``timetracer.errors``: one error tree, each error also the builtin a caller would catch."""

from __future__ import annotations

from pathlib import Path

import pytest

from timetracer.errors import (
    CassetteError,
    CassetteFormatError,
    CassetteNotFoundError,
    ConfigError,
    MissingDependencyError,
    TimetracerError,
    TruncatedPayloadError,
)


@pytest.mark.parametrize(
    ("error", "parents"),
    [
        (ConfigError("TIMETRACER_MODE", "x", "off"), (TimetracerError, ValueError)),
        (CassetteNotFoundError("a.cassette"), (CassetteError, FileNotFoundError)),
        (CassetteFormatError("a.cassette", "bad"), (CassetteError, ValueError)),
        (TruncatedPayloadError("cut"), (CassetteError, ValueError)),
        (MissingDependencyError("zstandard", "zstd"), (TimetracerError, ImportError)),
    ],
)
def test_each_error_is_a_timetracer_error_and_the_builtin_callers_catch(
    error: Exception, parents: tuple[type, ...]
) -> None:
    assert isinstance(error, TimetracerError)
    for parent in parents:
        assert isinstance(error, parent)


def test_config_error_message_names_variable_value_and_allowed_values() -> None:
    error = ConfigError("TIMETRACER_SAMPLE_RATE", "2", "a number from 0 to 1")

    assert str(error) == "TIMETRACER_SAMPLE_RATE='2' is not valid: expected a number from 0 to 1"


def test_cassette_not_found_error_keeps_the_path() -> None:
    error = CassetteNotFoundError("cassettes/a.cassette")

    assert error.path == Path("cassettes/a.cassette")
    assert str(error) == "cassettes/a.cassette: no such cassette"


def test_cassette_format_error_names_the_file_or_says_it_had_only_bytes() -> None:
    assert str(CassetteFormatError("a.cassette", "empty file")) == "a.cassette: empty file"
    assert str(CassetteFormatError(None, "empty file")) == "<cassette bytes>: empty file"


def test_missing_dependency_error_names_the_extra_to_install() -> None:
    error = MissingDependencyError("zstandard", "zstd")

    assert "pip install 'timetracer[zstd]'" in str(error)
