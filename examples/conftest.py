"""Shared by the examples' tests: the MongoDB they record against.

The tests use timetracer's pytest plugin: ``@pytest.mark.timetracer`` records a test's MongoDB
calls into ``cassettes/test_app/<test>.cassette`` beside it, and replays them from then on.

- ``pytest examples`` replays the committed cassettes (under CI the record mode is ``none``,
  so a missing cassette fails instead of trying to reach a database);
- ``pytest examples --timetracer-record-mode=all`` records them again, against ``MONGODB_URI``
  or, from a checkout of timetracer, an nx-27017 server started for the run.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import pytest

from timetracer.testing.modes import resolve_record_mode

# The demo is a script that scripts/demo.sh runs, not tests.
collect_ignore = ["demo"]

UNUSED_URI = "mongodb://localhost:27017/"
"""What the apps are given when every call is answered from cassettes: never connected to."""


@pytest.fixture
def anyio_backend() -> str:
    """The async tests run on asyncio (the apps' drivers need it)."""
    return "asyncio"


@pytest.fixture(scope="session")
def mongodb_uri(request: pytest.FixtureRequest) -> Iterator[str]:
    """Where recording tests reach MongoDB: ``MONGODB_URI``, else a local nx-27017."""
    configured = os.environ.get("MONGODB_URI")
    mode = resolve_record_mode(request.config.getoption("timetracer_record_mode"), os.environ)
    if configured or mode == "none":
        yield configured or UNUSED_URI
        return
    try:
        from tests.support.nx_server import mongo_server
    except ImportError:
        pytest.fail(f"record mode {mode} needs a database: set MONGODB_URI", pytrace=False)
    with (
        tempfile.TemporaryDirectory(prefix="examples-nx-") as workdir,
        mongo_server(workdir) as server,
    ):
        yield server.uri
