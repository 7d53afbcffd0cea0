"""``timetracer.config``: reading TIMETRACER_* into a frozen ``TraceConfig``."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from opentelemetry.sdk.trace.sampling import TraceIdRatioBased

from timetracer import envvars
from timetracer.config import (
    DEFAULT_REDACT_FIELDS,
    DEFAULT_REDACT_HEADERS,
    Mode,
    TraceConfig,
    normalize_field_name,
    startup_config,
)
from timetracer.errors import ConfigError


def test_defaults_record_nothing_and_keep_the_documented_limits() -> None:
    config = TraceConfig.from_env({})

    assert config.mode is Mode.OFF
    assert not config.recording
    assert config.cassette_dir == Path("cassettes")
    assert config.cassette is None
    assert config.compression == "zstd"
    assert config.sample_rate == 1.0
    assert config.errors_only is False
    assert config.max_body_bytes == 65536
    assert config.max_reply_bytes == 16 * 1024 * 1024
    assert config.redact_headers == DEFAULT_REDACT_HEADERS
    assert config.redact_fields == DEFAULT_REDACT_FIELDS
    assert config.ignore == ()
    assert config.replay_on_miss == "error"
    assert config.live == frozenset()


def test_from_env_without_argument_reads_os_environ(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(envvars.TIMETRACER_MODE, "record")
    monkeypatch.setenv(envvars.TIMETRACER_DIR, "/srv/cassettes")

    config = TraceConfig.from_env()

    assert config.recording
    assert config.cassette_dir == Path("/srv/cassettes")


def test_every_variable_is_parsed_from_the_environ_mapping() -> None:
    environ = {
        envvars.TIMETRACER_MODE: " Record ",
        envvars.TIMETRACER_DIR: "/srv/cassettes",
        envvars.TIMETRACER_CASSETTE: "pinned.cassette",
        envvars.TIMETRACER_COMPRESSION: "ZSTD",
        envvars.TIMETRACER_SAMPLE_RATE: "0.25",
        envvars.TIMETRACER_ERRORS_ONLY: "yes",
        envvars.TIMETRACER_MAX_BODY_BYTES: "1_024",
        envvars.TIMETRACER_MAX_REPLY_BYTES: "2048",
        envvars.TIMETRACER_REDACT_HEADERS: "X-Session, x-csrf ,",
        envvars.TIMETRACER_REDACT_FIELDS: "ssn, card_number",
        envvars.TIMETRACER_REDACT_CARDS: "off",
        envvars.TIMETRACER_EXCLUDE_PATHS: "/ping, /internal/* ,",
        envvars.TIMETRACER_IGNORE: "body.created, body.items.*.id",
        envvars.TIMETRACER_REPLAY_ON_MISS: "Passthrough",
        envvars.TIMETRACER_LIVE: "MongoDB",
    }
    # A new variable must be added here too.
    assert set(environ) == set(envvars.ALL)

    config = TraceConfig.from_env(environ)

    assert config.mode is Mode.RECORD
    assert config.cassette_dir == Path("/srv/cassettes")
    assert config.cassette == Path("pinned.cassette")
    assert config.compression == "zstd"
    assert config.sample_rate == 0.25
    assert config.errors_only is True
    assert config.max_body_bytes == 1024
    assert config.max_reply_bytes == 2048
    assert config.redact_headers == DEFAULT_REDACT_HEADERS | {"x-session", "x-csrf"}
    assert config.redact_fields == (*DEFAULT_REDACT_FIELDS, "ssn", "cardnumber")
    assert config.redact_cards is False
    assert config.exclude_paths == ("/ping", "/internal/*")
    assert config.ignore == ("body.created", "body.items.*.id")
    assert config.replay_on_miss == "passthrough"
    assert config.live == {"mongodb"}


@pytest.mark.parametrize("raw", ["", "  "])
def test_an_empty_mode_means_off(raw: str) -> None:
    assert TraceConfig.from_env({envvars.TIMETRACER_MODE: raw}).mode is Mode.OFF


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("TRUE", True),
        ("yes", True),
        ("on", True),
        ("0", False),
        ("false", False),
        ("no", False),
        ("off", False),
        ("", False),
    ],
)
def test_errors_only_accepts_the_usual_spellings_of_a_boolean(raw: str, expected: bool) -> None:
    config = TraceConfig.from_env({envvars.TIMETRACER_ERRORS_ONLY: raw})

    assert config.errors_only is expected


@pytest.mark.parametrize(
    ("variable", "bad", "allowed"),
    [
        (envvars.TIMETRACER_MODE, "recrod", "off | record | replay"),
        (envvars.TIMETRACER_COMPRESSION, "brotli", "gzip | zstd | none"),
        (envvars.TIMETRACER_SAMPLE_RATE, "half", "a number from 0 to 1"),
        (envvars.TIMETRACER_SAMPLE_RATE, "1.5", "a number from 0 to 1"),
        (envvars.TIMETRACER_SAMPLE_RATE, "-0.1", "a number from 0 to 1"),
        (envvars.TIMETRACER_SAMPLE_RATE, "nan", "a number from 0 to 1"),
        (envvars.TIMETRACER_ERRORS_ONLY, "maybe", "true | false"),
        (envvars.TIMETRACER_MAX_BODY_BYTES, "64k", "a whole number of bytes >= 0"),
        (envvars.TIMETRACER_MAX_BODY_BYTES, "-1", "a whole number of bytes >= 0"),
        (envvars.TIMETRACER_MAX_REPLY_BYTES, "1.5", "a whole number of bytes >= 0"),
        (envvars.TIMETRACER_REPLAY_ON_MISS, "retry", "error | passthrough"),
        (envvars.TIMETRACER_LIVE, "mongodb,redis", "mongodb"),
    ],
)
def test_a_bad_value_raises_config_error_naming_variable_value_and_allowed_values(
    variable: str, bad: str, allowed: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        TraceConfig.from_env({variable: bad})

    message = str(caught.value)
    assert variable in message
    assert bad in message
    assert allowed in message
    assert caught.value.variable == variable
    assert isinstance(caught.value, ValueError)


@pytest.mark.parametrize(
    ("field", "bad"),
    [
        ("mode", "rewind"),
        ("compression", "GZIP"),
        ("sample_rate", 2),
        ("sample_rate", True),
        ("sample_rate", "0.5"),
        ("max_body_bytes", -1),
        ("max_body_bytes", "10"),
        ("max_reply_bytes", True),
        ("replay_on_miss", "retry"),
    ],
)
def test_a_bad_keyword_raises_config_error_naming_the_field(field: str, bad: object) -> None:
    with pytest.raises(ConfigError) as caught:
        TraceConfig(**{field: bad})  # type: ignore[arg-type]

    assert caught.value.variable == field
    assert repr(bad) in str(caught.value)


def test_an_unknown_live_system_raises_config_error() -> None:
    with pytest.raises(ConfigError, match="redis"):
        TraceConfig(live=frozenset({"redis"}))


@pytest.mark.parametrize("mode", [None, "", "off", " OFF "])
def test_startup_config_ignores_bad_values_when_mode_is_off_or_unset(mode: str | None) -> None:
    environ = {envvars.TIMETRACER_COMPRESSION: "brotli", envvars.TIMETRACER_SAMPLE_RATE: "2"}
    if mode is not None:
        environ[envvars.TIMETRACER_MODE] = mode

    assert startup_config(environ) == TraceConfig(mode=Mode.OFF)


@pytest.mark.parametrize("mode", ["record", "replay", "Record"])
def test_startup_config_raises_on_bad_values_when_mode_is_on(mode: str) -> None:
    environ = {envvars.TIMETRACER_MODE: mode, envvars.TIMETRACER_COMPRESSION: "brotli"}

    with pytest.raises(ConfigError, match=envvars.TIMETRACER_COMPRESSION):
        startup_config(environ)


def test_startup_config_raises_on_a_misspelt_mode() -> None:
    with pytest.raises(ConfigError, match="recrod"):
        startup_config({envvars.TIMETRACER_MODE: "recrod"})


def test_startup_config_returns_the_full_config_when_values_are_good() -> None:
    environ = {envvars.TIMETRACER_MODE: "record", envvars.TIMETRACER_SAMPLE_RATE: "0.5"}

    config = startup_config(environ)

    assert config.recording
    assert config.sample_rate == 0.5


_RANDOM = random.Random(20231114)
TRACE_IDS = [_RANDOM.getrandbits(128) for _ in range(10_000)]


def test_sample_rate_one_records_every_trace() -> None:
    config = TraceConfig(sample_rate=1)

    assert all(config.samples(trace_id) for trace_id in [0, 2**128 - 1, *TRACE_IDS])


def test_sample_rate_zero_records_no_trace() -> None:
    config = TraceConfig(sample_rate=0)

    assert not any(config.samples(trace_id) for trace_id in [0, 2**128 - 1, *TRACE_IDS])


def test_sample_rate_half_records_roughly_half_and_decides_the_same_way_every_time() -> None:
    config = TraceConfig(sample_rate=0.5)

    first = [config.samples(trace_id) for trace_id in TRACE_IDS]
    again = [TraceConfig(sample_rate=0.5).samples(trace_id) for trace_id in TRACE_IDS]

    # Binomial(10 000, 0.5) has a standard deviation of 50: this is four of them.
    assert 4_800 <= sum(first) <= 5_200
    assert first == again


def test_sampling_agrees_with_the_sdk_trace_id_ratio_sampler() -> None:
    # Every process of a distributed trace must agree, including ones using the SDK sampler.
    config = TraceConfig(sample_rate=0.25)
    sampler = TraceIdRatioBased(0.25)

    for trace_id in TRACE_IDS[:2_000]:
        sdk = sampler.should_sample(None, trace_id, "request").decision.is_sampled()
        assert config.samples(trace_id) is sdk


def test_redact_lists_from_the_environment_extend_the_defaults() -> None:
    environ = {
        envvars.TIMETRACER_REDACT_HEADERS: "X-Session",
        envvars.TIMETRACER_REDACT_FIELDS: "ssn",
    }

    config = TraceConfig.from_env(environ)

    assert config.redact_headers > DEFAULT_REDACT_HEADERS
    assert "x-session" in config.redact_headers
    assert config.redact_fields[: len(DEFAULT_REDACT_FIELDS)] == DEFAULT_REDACT_FIELDS
    assert "ssn" in config.redact_fields


def test_redact_fields_are_normalized_and_deduplicated() -> None:
    config = TraceConfig(redact_fields=("API_Key", "api-key", "apiKey", "Session_ID", ""))

    assert config.redact_fields == ("apikey", "sessionid")


def test_redact_headers_are_lower_cased() -> None:
    assert TraceConfig(redact_headers=frozenset({"X-Token"})).redact_headers == {"x-token"}


def test_a_redact_fragment_made_only_of_separators_is_dropped() -> None:
    # "-" normalizes to "", and "" is a fragment of every field name: it would redact everything.
    config = TraceConfig.from_env({envvars.TIMETRACER_REDACT_FIELDS: "ssn, -"})

    assert "" not in config.redact_fields


@pytest.mark.parametrize(
    ("name", "normalized"),
    [("api_key", "apikey"), ("apiKey", "apikey"), ("API-KEY", "apikey"), ("x_api-Key", "xapikey")],
)
def test_normalize_field_name_ignores_case_underscores_and_dashes(
    name: str, normalized: str
) -> None:
    assert normalize_field_name(name) == normalized


def test_config_is_frozen() -> None:
    config = TraceConfig()

    with pytest.raises(AttributeError):
        config.mode = Mode.RECORD  # type: ignore[misc]
