"""Fixtures for the pytest plugin's tests: cassettes, an app to replay, a database to record.

The plugin is tested the way users run it: pytest inside pytest (``pytester``, enabled in the
top-level ``tests/conftest.py``), in-process.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import Iterator
from pathlib import Path

import hypothesis  # noqa: F401  (see below)
import pytest
import starlette.applications
import starlette.responses
import starlette.routing  # noqa: F401
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Tracer

from tests.support.nx_server import MongoEndpoint, mongo_server
from tests.unit.spans import local_provider
from timetracer.testing import app_replayer, items, recorder, replay_blocks, use  # noqa: F401

# In-process runs forget the modules they import. What the inner runs would import lazily is
# imported once here instead, as in one ordinary pytest process: the plugin's modules (so the
# process keeps one PyMongo recorder and one pymongo listener), the shop app's framework, and
# hypothesis, which its pytest plugin imports (and pytest assertion-rewrites) when a run ends.

SHOP_APP = '''
"""A shop whose MongoDB client is made at import time, before any lifespan."""
from contextlib import asynccontextmanager
from pathlib import Path

import pymongo
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

EVENTS = Path(__file__).with_name("events.log")
CLIENT = pymongo.MongoClient("mongodb://db.invalid:27017/", serverSelectionTimeoutMS=2000)


@asynccontextmanager
async def lifespan(app):
    with EVENTS.open("a") as log:
        log.write("startup\\n")
    yield
    with EVENTS.open("a") as log:
        log.write("shutdown\\n")


async def item(request):
    database = CLIENT["db"]
    database.command("ping")
    found = database.items.find_one({"sku": request.path_params["sku"]})
    if found is None:
        return JSONResponse({"error": "no such item"}, status_code=404)
    return JSONResponse({"sku": found["sku"], "price": found["price"]})


app = Starlette(routes=[Route("/items/{sku}", item)], lifespan=lifespan)
'''


@pytest.fixture(autouse=True)
def inner_run_settings(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs get their own ini file, and decide CI and record modes themselves: the outer
    run's CI variable (set on CI) and TIMETRACER_* variables must not leak into them."""
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    monkeypatch.delenv("CI", raising=False)
    for name in list(os.environ):
        if name.startswith("TIMETRACER_"):
            monkeypatch.delenv(name)


@pytest.fixture
def memory() -> InMemorySpanExporter:
    return InMemorySpanExporter()


@pytest.fixture
def tracer(memory: InMemorySpanExporter) -> Iterator[Tracer]:
    provider = local_provider(memory)
    yield provider.get_tracer("tests.plugin")
    provider.shutdown()


@pytest.fixture
def shop_app(pytester: pytest.Pytester) -> str:
    """``module:app`` of the shop above, importable from the inner run's directory."""
    module = f"shopapp_{uuid.uuid4().hex[:12]}"
    pytester.makepyfile(**{module: SHOP_APP})
    return f"{module}:app"


@pytest.fixture
def database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MongoEndpoint]:
    """A MongoDB for one test (nx-27017 on a free port, or MONGODB_URI), stopped after it."""
    with mongo_server(tmp_path_factory.mktemp("nx")) as server:
        yield server


@pytest.fixture
def dead_uri() -> str:
    """A MongoDB URI where nothing listens: what replay runs are given instead of a database."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"mongodb://127.0.0.1:{port}/?serverSelectionTimeoutMS=1500"


def cassettes_of(directory: Path) -> list[Path]:
    """The cassette files under ``directory``, sorted."""
    return sorted(directory.rglob("*.cassette"))
