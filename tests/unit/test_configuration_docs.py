"""docs/configuration.md and the code name the same variables, with the same defaults."""

from __future__ import annotations

import re
from pathlib import Path

from timetracer import envvars
from timetracer.config import DEFAULT_REDACT_FIELDS, DEFAULT_REDACT_HEADERS, TraceConfig
from timetracer.distro import _RECORD_DEFAULTS

DOC = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"


def table_rows() -> dict[str, list[str]]:
    rows = {}
    for line in DOC.read_text().splitlines():
        match = re.match(r"\| `((?:TIMETRACER|OTEL)_[A-Z_]+)` \|(.*)\|$", line)
        if match:
            rows[match.group(1)] = [cell.strip() for cell in match.group(2).split("|")]
    return rows


def test_every_timetracer_variable_is_documented_and_nothing_else() -> None:
    documented = {name for name in table_rows() if name.startswith("TIMETRACER_")}
    assert documented == set(envvars.ALL)


def test_documented_defaults_match_the_code() -> None:
    rows = table_rows()
    config = TraceConfig()
    expected = {
        envvars.TIMETRACER_MODE: f"`{config.mode.value}`",
        envvars.TIMETRACER_DIR: f"`./{config.cassette_dir}`",
        envvars.TIMETRACER_COMPRESSION: f"`{config.compression}`",
        envvars.TIMETRACER_SAMPLE_RATE: f"`{config.sample_rate:g}`",
        envvars.TIMETRACER_ERRORS_ONLY: f"`{str(config.errors_only).lower()}`",
        envvars.TIMETRACER_REDACT_CARDS: f"`{str(config.redact_cards).lower()}`",
        envvars.TIMETRACER_MAX_BODY_BYTES: f"`{config.max_body_bytes}`",
        envvars.TIMETRACER_MAX_REPLY_BYTES: f"`{config.max_reply_bytes}`",
        envvars.TIMETRACER_REPLAY_ON_MISS: f"`{config.replay_on_miss}`",
        envvars.TIMETRACER_EXCLUDE_PATHS: f"`{','.join(config.exclude_paths)}`",
    }
    for name, default in expected.items():
        assert rows[name][-1] == default, name


def test_documented_redaction_defaults_match_the_code() -> None:
    rows = table_rows()
    for header in DEFAULT_REDACT_HEADERS:
        assert f"`{header}`" in rows[envvars.TIMETRACER_REDACT_HEADERS][0]
    for fragment in DEFAULT_REDACT_FIELDS:
        assert f"`{fragment}`" in rows[envvars.TIMETRACER_REDACT_FIELDS][0]


def test_documented_otel_defaults_match_the_distro() -> None:
    rows = table_rows()
    for name, value in _RECORD_DEFAULTS.items():
        assert rows[name][0] == f"`{value}`", name
    assert {n for n in rows if n.startswith("OTEL_")} == set(_RECORD_DEFAULTS)
