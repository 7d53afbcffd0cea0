"""The event log's tests, on Motor and on AsyncMongoClient. Their MongoDB calls are recorded once
into ``cassettes/test_app/`` (one cassette per test and driver) and answered from there
afterwards: no database in CI (see README.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta, timezone

import httpx
import pytest

from examples.motor_app.app import create_app
from examples.motor_app.prune import prune
from examples.motor_app.store import Driver, close, connect

DATABASE = "example_events"


@pytest.fixture(params=["motor", "async"])
def driver(request: pytest.FixtureRequest) -> Driver:
    """Every test runs on both drivers: Motor, and the AsyncMongoClient that replaces it."""
    chosen: Driver = request.param
    return chosen


@pytest.fixture
async def client(mongodb_uri: str, driver: Driver) -> AsyncIterator[httpx.AsyncClient]:
    """The app, started: its MongoDB client is created in the lifespan, inside the test."""
    app = create_app(mongodb_uri, f"{DATABASE}_{driver}", driver)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://events") as client:
            await client.delete("/events", params={"confirm": "yes"})
            yield client


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_recent_events_come_newest_first(client: httpx.AsyncClient) -> None:
    for message in ("started", "warmed up", "serving"):
        await client.post("/events", json={"kind": "lifecycle", "message": message})

    recent = (await client.get("/events")).json()

    assert [e["message"] for e in recent["events"]] == ["serving", "warmed up", "started"]


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_events_are_counted_by_kind(client: httpx.AsyncClient) -> None:
    await client.post("/events", json={"kind": "login", "message": "ann"})
    await client.post("/events", json={"kind": "login", "message": "bob"})
    await client.post("/events", json={"kind": "error", "message": "disk full"})

    assert (await client.get("/events/kinds")).json() == {"error": 1, "login": 2}
    assert (await client.get("/events", params={"kind": "error"})).json()["count"] == 1


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_clearing_needs_a_confirmation(client: httpx.AsyncClient) -> None:
    await client.post("/events", json={"kind": "note", "message": "keep me"})

    refused = await client.delete("/events")
    cleared = await client.delete("/events", params={"confirm": "yes"})

    assert refused.status_code == 400
    assert cleared.json() == {"deleted": 1}


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_pruning_deletes_only_older_events(mongodb_uri: str, driver: Driver) -> None:
    client = connect(driver, mongodb_uri)
    events = client[f"{DATABASE}_{driver}"].events
    now = datetime(2026, 1, 31, tzinfo=timezone.utc)
    await events.delete_many({})
    await events.insert_many(
        [
            {"kind": "note", "message": "old", "at": now - timedelta(days=40)},
            {"kind": "note", "message": "new", "at": now - timedelta(days=2)},
        ]
    )

    assert await prune(events, now - timedelta(days=30)) == 1
    assert [e["message"] async for e in events.find({}, {"_id": 0})] == ["new"]
    await close(client)
