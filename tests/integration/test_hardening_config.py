"""Bad configuration under the real launcher: recording refuses to start with one line naming
the variable, the value and the allowed values; with recording off, the app starts anyway."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.launcher import launched_app, run_to_exit
from tests.integration.recordings import record_env
from tests.support.nx_server import MongoEndpoint
from timetracer import envvars

APP = "tests.apps.shop:app"
GARBAGE = {
    envvars.TIMETRACER_DIR: "/dev/null/cannot/be/a/directory",
    envvars.TIMETRACER_CASSETTE: "/nowhere/at/all.cassette",
    envvars.TIMETRACER_COMPRESSION: "brotli",
    envvars.TIMETRACER_SAMPLE_RATE: "lots",
    envvars.TIMETRACER_ERRORS_ONLY: "sometimes",
    envvars.TIMETRACER_MAX_BODY_BYTES: "64k",
    envvars.TIMETRACER_MAX_REPLY_BYTES: "-1",
    envvars.TIMETRACER_REDACT_HEADERS: ",,,",
    envvars.TIMETRACER_REDACT_FIELDS: "-,_",
    envvars.TIMETRACER_REDACT_CARDS: "maybe",
    envvars.TIMETRACER_IGNORE: "[[[",
    envvars.TIMETRACER_REPLAY_ON_MISS: "retry",
    envvars.TIMETRACER_LIVE: "redis",
}


@pytest.mark.parametrize("mode", ["off", None], ids=["mode-off", "mode-unset"])
def test_with_recording_off_the_app_starts_and_serves_whatever_else_is_set(
    mongo: MongoEndpoint, tmp_path: Path, mode: str | None
) -> None:
    env = record_env("starlette", "async", mongo, tmp_path / "cassettes")
    env["TT_APP_DB"] = "hardening_config"
    env.update(GARBAGE)
    # Every other variable, present now or added later, gets a value it cannot accept too.
    env.update({name: "#bad#" for name in envvars.ALL if name not in GARBAGE})
    if mode is None:
        del env[envvars.TIMETRACER_MODE]
    else:
        env[envvars.TIMETRACER_MODE] = mode

    with launched_app(APP, env, tmp_path) as app:
        assert httpx.get(f"{app.base_url}/stats", timeout=30).status_code == 200

    assert "timetracer" not in app.output().lower()
    assert not (tmp_path / "cassettes").exists()


@pytest.mark.parametrize(
    ("variable", "allowed"),
    [
        (envvars.TIMETRACER_REDACT_CARDS, "true | false"),
        (envvars.TIMETRACER_SAMPLE_RATE, "a number from 0 to 1"),
        (envvars.TIMETRACER_MAX_REPLY_BYTES, "a whole number of bytes >= 0"),
    ],
)
def test_a_bad_value_stops_recording_at_start_with_one_line(
    tmp_path: Path, variable: str, allowed: str
) -> None:
    env = {"OTEL_PYTHON_DISTRO": "timetracer", "TIMETRACER_MODE": "record", variable: "-1.5x"}

    result = run_to_exit(APP, env, tmp_path)

    assert result.returncode == 2
    (line,) = [line for line in result.stderr.splitlines() if "timetracer" in line]
    assert line.startswith(f"timetracer: {variable}='-1.5x' is not valid: expected {allowed}")
    assert "Traceback" not in result.stderr
