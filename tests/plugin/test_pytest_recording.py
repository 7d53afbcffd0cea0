"""The pytest plugin recording tests' own MongoDB calls against a real server (nx-27017, or
MONGODB_URI), then replaying them with the server stopped, in every record mode."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest
from pymongo import MongoClient

from tests.plugin.conftest import cassettes_of
from tests.support.nx_server import MongoEndpoint, NxServer
from timetracer.cassette import load_cassette

pytestmark = pytest.mark.integration

STOCK_TEST = """
import os

import pytest
from pymongo import MongoClient


@pytest.mark.timetracer
def test_stock():
    client = MongoClient(os.environ["MONGODB_URI"], serverSelectionTimeoutMS=3000)
    items = client[os.environ["TT_DB"]].items
    items.delete_many({})
    items.insert_many([{"sku": f"s{n}", "qty": n} for n in range(5)])
    skus = [doc["sku"] for doc in items.find({}, {"_id": 0}).sort("sku", 1).batch_size(2)]
    client.close()
    assert skus == ["s0", "s1", "s2", "s3", "s4"]
"""

ASYNC_TESTS = """
import os

import pytest
from pymongo import AsyncMongoClient


async def count_and_read(sku):
    client = AsyncMongoClient(os.environ["MONGODB_URI"], serverSelectionTimeoutMS=3000)
    items = client[os.environ["TT_DB"]].items
    await items.delete_many({})
    await items.insert_one({"sku": sku, "qty": 2})
    found = await items.find_one({"sku": sku}, {"_id": 0})
    await client.close()
    return found


@pytest.fixture(scope="module")
def anyio_backend():
    return "asyncio"


@pytest.fixture(scope="module")
async def warm_runner():
    # A module-scoped async fixture: anyio's runner (and its context) exists before the test.
    return "warm"


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_under_anyio(warm_runner):
    assert await count_and_read("any") == {"sku": "any", "qty": 2}


@pytest.mark.asyncio
@pytest.mark.timetracer
async def test_under_pytest_asyncio():
    assert await count_and_read("aio") == {"sku": "aio", "qty": 2}
"""


def lookup_test(*skus: str) -> str:
    reads = "\n".join(
        f"    found.append(items.find_one({{'sku': '{s}'}}, {{'_id': 0}}))" for s in skus
    )
    return f"""
import os

import pytest
from pymongo import MongoClient


@pytest.mark.timetracer
def test_lookup():
    client = MongoClient(os.environ["MONGODB_URI"], serverSelectionTimeoutMS=3000)
    items = client[os.environ["TT_DB"]].items
    found = []
{reads}
    client.close()
    assert [doc["sku"] for doc in found] == {list(skus)!r}
"""


@pytest.fixture
def db_name(monkeypatch: pytest.MonkeyPatch) -> str:
    """A database of the test's own, named to the inner runs by ``TT_DB``."""
    name = f"tt_plugin_{uuid.uuid4().hex[:10]}"
    monkeypatch.setenv("TT_DB", name)
    return name


def online(monkeypatch: pytest.MonkeyPatch, database: MongoEndpoint) -> None:
    monkeypatch.setenv("MONGODB_URI", database.uri)


def offline(monkeypatch: pytest.MonkeyPatch, database: MongoEndpoint, dead_uri: str) -> None:
    """Stop the server we started (an external one is left alone); point the app elsewhere."""
    if isinstance(database, NxServer):
        database.stop()
    monkeypatch.setenv("MONGODB_URI", dead_uri)
    monkeypatch.setenv("CI", "true")  # the default record mode becomes none


def names(cassette: Path) -> list[str]:
    return [call.command_name for call in load_cassette(cassette).calls]


def test_once_records_against_the_database_and_replays_with_it_stopped(
    pytester: pytest.Pytester,
    database: MongoEndpoint,
    dead_uri: str,
    db_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytester.makepyfile(test_inventory=STOCK_TEST)
    online(monkeypatch, database)

    pytester.runpytest().assert_outcomes(passed=1)

    [cassette] = cassettes_of(pytester.path / "cassettes")
    assert cassette == pytester.path / "cassettes" / "test_inventory" / "test_stock.cassette"
    recorded = names(cassette)
    assert recorded[:3] == ["delete", "insert", "find"]
    assert "getMore" in recorded  # every cursor batch is in the cassette
    before = cassette.read_bytes()

    offline(monkeypatch, database, dead_uri)
    pytester.runpytest().assert_outcomes(passed=1)
    pytester.runpytest("--timetracer-record-mode", "once").assert_outcomes(passed=1)

    assert cassette.read_bytes() == before  # replaying never rewrites the cassette


def test_async_tests_record_and_replay_under_anyio_and_pytest_asyncio(
    pytester: pytest.Pytester,
    database: MongoEndpoint,
    dead_uri: str,
    db_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pytester.makepyfile(test_async=ASYNC_TESTS)
    online(monkeypatch, database)

    pytester.runpytest().assert_outcomes(passed=2)

    directory = pytester.path / "cassettes" / "test_async"
    assert [p.name for p in cassettes_of(directory)] == [
        "test_under_anyio.cassette",
        "test_under_pytest_asyncio.cassette",
    ]
    for cassette in cassettes_of(directory):
        assert names(cassette)[:3] == ["delete", "insert", "find"]

    offline(monkeypatch, database, dead_uri)
    pytester.runpytest().assert_outcomes(passed=2)


def test_new_episodes_replays_what_was_recorded_and_appends_new_calls(
    pytester: pytest.Pytester,
    database: MongoEndpoint,
    dead_uri: str,
    db_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed: MongoClient[dict[str, Any]] = MongoClient(database.uri)
    seed[db_name].items.insert_many([{"sku": "a"}, {"sku": "b"}])
    seed.close()
    online(monkeypatch, database)
    pytester.makepyfile(test_lookup=lookup_test("a"))
    pytester.runpytest().assert_outcomes(passed=1)
    [cassette] = cassettes_of(pytester.path / "cassettes")
    first = load_cassette(cassette)

    pytester.makepyfile(test_lookup=lookup_test("a", "b"))
    replay_only = pytester.runpytest("--timetracer-record-mode", "none")
    replay_only.assert_outcomes(failed=1)
    replay_only.stdout.fnmatch_lines(["*no recorded MongoDB call answers find*"])

    pytester.runpytest("--timetracer-record-mode", "new_episodes").assert_outcomes(passed=1)

    grown = load_cassette(cassette)
    assert grown.trace_id == first.trace_id
    assert grown.calls[: len(first.calls)] == first.calls  # what was recorded stays as it was
    added = [
        c.command["filter"] for c in grown.calls[len(first.calls) :] if c.command_name == "find"
    ]
    assert added == [{"sku": "b"}]

    grown_bytes = cassette.read_bytes()
    pytester.runpytest("--timetracer-record-mode", "new_episodes").assert_outcomes(passed=1)
    assert cassette.read_bytes() == grown_bytes  # nothing new: the file is left alone

    offline(monkeypatch, database, dead_uri)
    pytester.runpytest().assert_outcomes(passed=1)


def test_all_records_again_and_a_failing_test_writes_nothing(
    pytester: pytest.Pytester,
    database: MongoEndpoint,
    db_name: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seed: MongoClient[dict[str, Any]] = MongoClient(database.uri)
    seed[db_name].items.insert_many([{"sku": "a"}, {"sku": "b"}])
    seed.close()
    online(monkeypatch, database)
    pytester.makepyfile(test_lookup=lookup_test("a"))
    pytester.runpytest().assert_outcomes(passed=1)
    cassette = pytester.path / "cassettes" / "test_lookup" / "test_lookup.cassette"
    first = load_cassette(cassette).trace_id

    pytester.runpytest("--timetracer-record-mode", "all").assert_outcomes(passed=1)
    second = load_cassette(cassette).trace_id
    assert second != first

    pytester.makepyfile(test_lookup=lookup_test("a").replace("== ['a']", "== ['zzz']"))
    pytester.runpytest("--timetracer-record-mode", "all").assert_outcomes(failed=1)
    assert load_cassette(cassette).trace_id == second  # the failed run's recording was dropped

    cassette.unlink()
    pytester.runpytest("--timetracer-record-mode", "once").assert_outcomes(failed=1)
    assert not cassette.exists()
