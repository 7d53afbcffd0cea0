"""Server-mode replay: ``TIMETRACER_MODE=replay opentelemetry-instrument uvicorn`` answers the
recorded requests with the database down; nothing connects to the configured database."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.integration.launcher import launched_app
from tests.integration.recordings import Recordings, db_name
from tests.integration.refused import counting_listener
from timetracer.cassette import Cassette, iter_cassette_paths, load_cassette
from timetracer_replay.compare import compare_response


def replay_env(framework: str, driver: str, database_uri: str) -> dict[str, str]:
    return {
        "OTEL_PYTHON_DISTRO": "timetracer",
        "OTEL_PYTHON_CONFIGURATOR": "timetracer",
        "TIMETRACER_MODE": "replay",
        "TT_APP_FRAMEWORK": framework,
        "TT_APP_DRIVER": driver,
        "TT_APP_DB": db_name(framework, driver),
        "MONGODB_URI": database_uri,
    }


def send_recorded(base_url: str, cassette: Cassette) -> httpx.Response:
    exchange = cassette.exchange
    assert exchange is not None
    skip = {"host", "content-length", "connection", "authorization"}
    headers = [(k, v) for k, v in exchange.request_headers if k not in skip]
    # A fresh connection per request: uvicorn closes a connection after an app exception.
    with httpx.Client(base_url=base_url, timeout=30) as client:
        return client.request(
            exchange.method,
            exchange.path,
            params=exchange.query or None,
            headers=headers,
            content=exchange.request_body or b"",
        )


@pytest.mark.parametrize(
    ("framework", "driver"), [("starlette", "async"), ("litestar", "pymongo"), ("fastapi", "motor")]
)
def test_server_mode_answers_recorded_requests_with_the_database_down(
    framework: str, driver: str, recordings: Recordings, tmp_path: Path
) -> None:
    recording = recordings.get(framework, driver)
    cassettes = [load_cassette(p) for p in iter_cassette_paths(recording.cassette_dir)]
    with counting_listener() as database:
        env = replay_env(framework, driver, database.uri)
        env["TIMETRACER_DIR"] = str(recording.cassette_dir)
        with launched_app("tests.apps.shop:app", env, tmp_path) as app:
            for cassette in cassettes:
                response = send_recorded(app.base_url, cassette)
                differences = compare_response(
                    cassette.exchange,
                    response.status_code,
                    list(response.headers.items()),
                    response.content,
                    ["headers.content-type"],
                    recorded_error=cassette.is_error,
                )
                assert [d.describe() for d in differences if not d.noise] == [], (
                    cassette.path,
                    app.output()[-3000:],
                )
            unknown = httpx.get(f"{app.base_url}/items/never-recorded")
    assert database.count == 0
    assert unknown.status_code == 404
    assert unknown.headers["x-timetracer-replay"] == "miss"
    assert unknown.json()["error"] == "timetracer replay: no recording of GET /items/never-recorded"


def test_a_pinned_cassette_answers_every_request(recordings: Recordings, tmp_path: Path) -> None:
    recording = recordings.get("starlette", "async")
    pinned = next(p for p in iter_cassette_paths(recording.cassette_dir) if "GET_stats" in p.name)
    with counting_listener() as database:
        env = replay_env("starlette", "async", database.uri)
        env["TIMETRACER_CASSETTE"] = str(pinned)
        with launched_app("tests.apps.shop:app", env, tmp_path) as app:
            first = httpx.get(f"{app.base_url}/stats")
            second = httpx.get(f"{app.base_url}/stats")
    assert database.count == 0
    assert first.status_code == second.status_code == 200
    assert first.content == second.content == load_cassette(pinned).exchange.response_body
