"""Clients made at import, in the lifespan and per request all reach the responder, an index
created at start-up is answered, and replayed spans name the cassette that answered them."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.integration.launcher import REPO, launched_app
from tests.integration.otlp_sink import otlp_sink
from tests.integration.refused import counting_listener
from tests.support.nx_server import MongoEndpoint
from timetracer.cassette import iter_cassette_paths, load_cassette

APP = "tests.apps.lifetimes:app"
REQUESTS = ["/import", "/lifespan", "/request/b", "/request/zz"]
BASE_ENV = {"OTEL_PYTHON_DISTRO": "timetracer", "OTEL_PYTHON_CONFIGURATOR": "timetracer"}


@pytest.fixture(scope="module")
def recorded(mongo: MongoEndpoint, tmp_path_factory: pytest.TempPathFactory) -> Path:
    workdir = tmp_path_factory.mktemp("lifetimes")
    env = {
        **BASE_ENV,
        "TIMETRACER_MODE": "record",
        "TIMETRACER_DIR": str(workdir / "cassettes"),
        "MONGODB_URI": mongo.uri,
    }
    with launched_app(APP, env, workdir) as app, httpx.Client(base_url=app.base_url) as client:
        assert client.post("/seed").status_code == 200
        for path in REQUESTS:
            assert client.get(path).status_code == 200
    return workdir / "cassettes"


def test_cli_replay_redirects_clients_made_at_import_lifespan_and_per_request(
    recorded: Path,
) -> None:
    with counting_listener() as database:
        result = subprocess.run(
            [
                str(Path(sys.executable).parent / "timetracer"),
                "replay",
                str(recorded),
                "--app",
                APP,
            ],
            env={**os.environ, "MONGODB_URI": database.uri, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=120,
        )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.count("PASS ") == 1 + len(REQUESTS)
    assert result.stdout.strip().splitlines()[-1] == f"{1 + len(REQUESTS)} passed, 0 failed"
    assert database.count == 0


def test_server_mode_spans_are_marked_with_the_cassette_that_answered(
    recorded: Path, tmp_path: Path
) -> None:
    lifespan_cassette = next(
        load_cassette(p) for p in iter_cassette_paths(recorded) if "GET_lifespan" in p.name
    )
    with counting_listener() as database, otlp_sink() as sink:
        env = {
            **BASE_ENV,
            "TIMETRACER_MODE": "replay",
            "TIMETRACER_DIR": str(recorded),
            "MONGODB_URI": database.uri,
            "OTEL_TRACES_EXPORTER": "otlp_proto_http",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": sink.endpoint,
        }
        with launched_app(APP, env, tmp_path) as app:
            response = httpx.get(f"{app.base_url}/lifespan")
    assert database.count == 0
    assert response.content == lifespan_cassette.exchange.response_body
    marked = {
        s.name: {kv.key: kv.value.string_value for kv in s.attributes}.get(
            "timetracer.replay.cassette"
        )
        for s in sink.spans
    }
    # The same spans as the recording: the server span and the find it ran, both marked.
    assert marked.get("lifetimes.find") == str(lifespan_cassette.path), marked
    assert marked["GET /lifespan"] == str(lifespan_cassette.path)
