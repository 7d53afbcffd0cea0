"""Integration fixtures: one MongoDB (nx-27017, or MONGODB_URI) for the whole session."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.recordings import Recordings
from tests.support.nx_server import MongoEndpoint, mongo_server


@pytest.fixture(scope="session")
def mongo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoEndpoint]:
    """A running MongoDB endpoint shared by the integration tests."""
    with mongo_server(tmp_path_factory.mktemp("mongo")) as server:
        yield server


@pytest.fixture(scope="session")
def recordings(mongo: MongoEndpoint, tmp_path_factory: pytest.TempPathFactory) -> Recordings:
    """The shop scenario recorded under the launcher, once per framework and driver."""
    return Recordings(mongo, tmp_path_factory.mktemp("recordings"))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "tests/integration/" in str(item.fspath):
            item.add_marker(pytest.mark.integration)
