"""The library's tests. Their MongoDB calls are recorded once into ``cassettes/test_app/`` and
answered from there afterwards: no database in CI (see README.md)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from pymongo import MongoClient

from examples.pymongo_app.app import create_app
from examples.pymongo_app.report import out_of_stock

DATABASE = "example_library"
DUNE = {"isbn": "978-0441172719", "title": "Dune", "author": "Frank Herbert", "copies": 1}
EMMA = {"isbn": "978-0141439587", "title": "Emma", "author": "Jane Austen", "copies": 2}


@pytest.fixture
async def client(mongodb_uri: str) -> AsyncIterator[httpx.AsyncClient]:
    """The app, started: its MongoDB client is created in the lifespan, inside the test."""
    app = create_app(mongodb_uri, DATABASE)
    async with app.router.lifespan_context(app):
        app.state.books.delete_many({})
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://library") as client:
            yield client


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_a_new_book_can_be_found_by_isbn(client: httpx.AsyncClient) -> None:
    assert (await client.post("/books", json=DUNE)).status_code == 201

    response = await client.get(f"/books/{DUNE['isbn']}")

    assert response.status_code == 200
    assert response.json() == DUNE


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_the_same_isbn_cannot_be_added_twice(client: httpx.AsyncClient) -> None:
    await client.post("/books", json=DUNE)

    response = await client.post("/books", json={**DUNE, "title": "Dune (again)"})

    assert response.status_code == 409


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_lending_the_last_copy_leaves_none_to_lend(client: httpx.AsyncClient) -> None:
    await client.post("/books", json=DUNE)

    first = await client.post(f"/books/{DUNE['isbn']}/loans")
    second = await client.post(f"/books/{DUNE['isbn']}/loans")

    assert first.json()["copies"] == 0
    assert second.status_code == 409


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_books_are_listed_by_title_and_filtered_by_author(
    client: httpx.AsyncClient,
) -> None:
    await client.post("/books", json=EMMA)
    await client.post("/books", json=DUNE)

    listed = (await client.get("/books")).json()
    by_austen = (await client.get("/books", params={"author": "Jane Austen"})).json()

    assert [book["title"] for book in listed["books"]] == ["Dune", "Emma"]
    assert by_austen["books"] == [EMMA]


@pytest.mark.anyio
@pytest.mark.timetracer
async def test_authors_are_counted_with_their_copies(client: httpx.AsyncClient) -> None:
    await client.post("/books", json=DUNE)
    await client.post("/books", json=EMMA)

    response = await client.get("/authors")

    assert response.json() == {
        "authors": [
            {"author": "Frank Herbert", "titles": 1, "copies": 1},
            {"author": "Jane Austen", "titles": 1, "copies": 2},
        ]
    }


@pytest.mark.timetracer
def test_the_report_lists_books_with_no_copy_left(mongodb_uri: str) -> None:
    client: MongoClient[dict[str, Any]] = MongoClient(mongodb_uri)
    books = client[DATABASE].books
    books.delete_many({})
    books.insert_many([{**DUNE, "copies": 0}, dict(EMMA)])

    assert out_of_stock(client, DATABASE) == ["Dune"]
    client.close()
