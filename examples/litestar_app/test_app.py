"""The inventory's tests. Their MongoDB calls are recorded once into ``cassettes/test_app/`` and
answered from there afterwards: no database in CI (see README.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from litestar.testing import AsyncTestClient
from pymongo import MongoClient

from examples.litestar_app.app import create_app

DATABASE = "example_inventory"
LAMP = {"sku": "lamp-1", "name": "Desk lamp", "price": 24.5, "stock": 2}
MUG = {"sku": "mug-1", "name": "Mug", "price": 6.0, "stock": 40}


@pytest.fixture
async def client(mongodb_uri: str) -> AsyncIterator[AsyncTestClient]:  # type: ignore[type-arg]
    """The app, started: its MongoDB client is created in the lifespan, inside the test."""
    # The test client runs the app on an event loop of its own, where the app's
    # AsyncMongoClient lives: the test empties the collection with a client of its own.
    with MongoClient(mongodb_uri) as wipe:
        wipe[DATABASE].products.delete_many({})
    async with AsyncTestClient(app=create_app(mongodb_uri, DATABASE)) as client:
        yield client


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_a_new_product_can_be_fetched(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    assert (await client.post("/products", json=LAMP)).status_code == 201

    response = await client.get("/products/lamp-1")

    assert response.json() == LAMP


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_a_sku_is_unique(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    await client.post("/products", json=LAMP)

    response = await client.post("/products", json={**LAMP, "name": "Another lamp"})

    assert response.status_code == 409


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_restocking_adds_units(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    await client.post("/products", json=LAMP)

    response = await client.patch("/products/lamp-1/stock", json={"units": 10})

    assert response.json()["stock"] == 12


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_low_stock_report_lists_only_low_products(
    client: AsyncTestClient,  # type: ignore[type-arg]
) -> None:
    await client.post("/products", json=MUG)
    await client.post("/products", json=LAMP)

    report = (await client.get("/reports/low-stock")).json()

    assert report == {"threshold": 5, "products": [{"sku": "lamp-1", "stock": 2}]}


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_an_unknown_product_is_not_found(client: AsyncTestClient) -> None:  # type: ignore[type-arg]
    assert (await client.get("/products/nothing")).status_code == 404
    assert (await client.patch("/products/nothing/stock", json={"units": 1})).status_code == 404
