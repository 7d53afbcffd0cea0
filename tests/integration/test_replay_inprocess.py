"""Replay with no database: every recorded request of every framework and driver, through the
app in-process, with the app configured for a database that only counts connection attempts."""

from __future__ import annotations

import asyncio

import pytest

from tests.apps.shop import build_app
from tests.integration.recordings import COMBOS, Recordings, db_name
from tests.integration.refused import counting_listener
from timetracer.cassette import iter_cassette_paths
from timetracer_replay.runner import replay_cassettes
from timetracer_replay.session import ReplaySession


@pytest.mark.parametrize(("framework", "driver"), COMBOS)
def test_every_recorded_request_replays_identically_without_a_database(
    framework: str, driver: str, recordings: Recordings
) -> None:
    recording = recordings.get(framework, driver)
    paths = list(iter_cassette_paths(recording.cassette_dir))
    session = ReplaySession().start()
    try:
        with counting_listener() as database:
            app = build_app(framework, driver, database.uri, db_name(framework, driver))
            results = asyncio.run(replay_cassettes(app, paths, session=session))
    finally:
        session.stop()
    failures = [r.to_dict() for r in results if not r.passed]
    assert failures == []
    assert len(results) == recording.sent
    assert database.count == 0
    listing = next(r for r in results if r.target == "/items")
    assert listing.replayed_status == 200
    duplicate = next(r for r in results if r.target == "/items/dup")
    assert duplicate.replayed_status == duplicate.recorded_status == 409
