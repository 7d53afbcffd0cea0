"""The to-do list's tests. Their MongoDB calls are recorded once into ``cassettes/test_app/`` and
answered from there afterwards: no database in CI (see README.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from examples.starlette_app.app import create_app

DATABASE = "example_todo"


@pytest.fixture
async def client(mongodb_uri: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app, started: its MongoDB client is created in the lifespan, inside the test."""
    app = create_app(mongodb_uri, DATABASE)
    async with app.router.lifespan_context(app):
        await app.state.tasks.delete_many({})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://todo") as client:
            yield client


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_a_new_task_is_open(client: httpx.AsyncClient) -> None:
    created = await client.post("/tasks", json={"title": "Water the plants"})

    fetched = await client.get(f"/tasks/{created.json()['id']}")

    assert created.status_code == 201
    # Not the id: the driver makes a new ObjectId on every run, while a replayed read returns
    # the recorded document (timetracer reports such values as noise).
    assert {k: fetched.json()[k] for k in ("title", "done")} == {
        "title": "Water the plants",
        "done": False,
    }


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_finished_tasks_are_listed_apart(client: httpx.AsyncClient) -> None:
    first = (await client.post("/tasks", json={"title": "Buy milk"})).json()
    await client.post("/tasks", json={"title": "Call Ann"})

    await client.post(f"/tasks/{first['id']}/done")

    done = (await client.get("/tasks", params={"done": "true"})).json()
    still_open = (await client.get("/tasks", params={"done": "false"})).json()
    assert [t["title"] for t in done["tasks"]] == ["Buy milk"]
    assert [t["title"] for t in still_open["tasks"]] == ["Call Ann"]


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_a_deleted_task_is_gone(client: httpx.AsyncClient) -> None:
    created = (await client.post("/tasks", json={"title": "Temporary"})).json()

    assert (await client.delete(f"/tasks/{created['id']}")).status_code == 204
    assert (await client.get(f"/tasks/{created['id']}")).status_code == 404
    assert (await client.get("/tasks")).json() == {"count": 0, "tasks": []}


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_a_task_without_a_title_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.post("/tasks", json={"title": "  "})

    assert response.status_code == 400
    assert (await client.get("/tasks")).json()["count"] == 0
