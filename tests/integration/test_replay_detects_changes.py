"""No false clean runs: an app changed after recording fails replay, naming the cassette and
the difference."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from tests.apps.variants import build_app
from tests.integration.launcher import launched_app
from tests.integration.refused import counting_listener
from tests.support.nx_server import MongoEndpoint
from timetracer.cassette import iter_cassette_paths
from timetracer_replay.runner import CassetteResult, replay_cassettes
from timetracer_replay.session import ReplaySession


@pytest.fixture(scope="module")
def base_recording(mongo: MongoEndpoint, tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    workdir = tmp_path_factory.mktemp("variants")
    env = {
        "OTEL_PYTHON_DISTRO": "timetracer",
        "OTEL_PYTHON_CONFIGURATOR": "timetracer",
        "TIMETRACER_MODE": "record",
        "TIMETRACER_DIR": str(workdir / "cassettes"),
        "TT_VARIANT": "base",
        "MONGODB_URI": mongo.uri,
    }
    with (
        launched_app("tests.apps.variants:app", env, workdir) as app,
        httpx.Client(base_url=app.base_url) as client,
    ):
        assert client.post("/seed").status_code == 200
        assert client.get("/orders/ann").json() == {"customer": "ann", "orders": [0, 1, 2]}
    paths = list(iter_cassette_paths(workdir / "cassettes"))
    assert len(paths) == 2
    return paths


def replay(variant: str, paths: list[Path]) -> CassetteResult:
    session = ReplaySession().start()
    try:
        with counting_listener() as database:
            results = asyncio.run(
                replay_cassettes(build_app(variant, database.uri), paths, session=session)
            )
    finally:
        session.stop()
    assert database.count == 0
    assert results[0].passed, results[0].to_dict()  # the seed request is unchanged
    return results[1]


def test_the_unchanged_app_passes(base_recording: list[Path]) -> None:
    result = replay("base", base_recording)
    assert result.passed, result.to_dict()


def test_another_filter_fails_naming_the_cassette_and_the_field(
    base_recording: list[Path],
) -> None:
    result = replay("filter", base_recording)
    assert not result.passed
    [miss] = result.misses
    assert str(base_recording[1]) in miss
    assert "filter.status: only in the live command ('open')" in miss
    assert result.replayed_status == 500


def test_an_extra_query_fails_as_a_miss(base_recording: list[Path]) -> None:
    result = replay("extra", base_recording)
    assert not result.passed
    [miss] = result.misses
    assert "no recorded MongoDB call answers aggregate on variants.orders" in miss
    assert str(base_recording[1]) in miss


def test_a_different_response_body_fails_at_its_path(base_recording: list[Path]) -> None:
    result = replay("body", base_recording)
    assert not result.passed
    assert result.misses == []
    assert [d.describe() for d in result.differences] == [
        "body.vip: recorded (absent), replayed False"
    ]


def test_a_query_no_longer_made_fails_as_unused(base_recording: list[Path]) -> None:
    result = replay("fewer", base_recording)
    assert not result.passed
    assert result.unused_calls == ["recorded call #1 find on variants.orders was not made"]


def test_passthrough_sends_unrecorded_commands_to_the_real_database(
    base_recording: list[Path], mongo: MongoEndpoint
) -> None:
    session = ReplaySession(passthrough=True).start()
    try:
        results = asyncio.run(
            replay_cassettes(build_app("extra", mongo.uri), base_recording, session=session)
        )
    finally:
        session.stop()
    result = results[1]
    assert result.misses == []
    assert any("answered by the real database" in n for n in result.noise)
    assert result.replayed_status == 200
    # The one real difference is the field the changed app added, with the live count in it.
    assert [d.where for d in result.differences if not d.noise] == ["body.total"]
    assert result.differences[0].live == 6
