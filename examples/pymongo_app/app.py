"""A library catalogue on FastAPI with synchronous PyMongo, recorded and replayed by timetracer.

One line makes it recordable: ``auto_setup(app)`` (see README.md). It reads
``TIMETRACER_MODE``: unset or ``off``, the app runs as if timetracer were not installed.

    MONGODB_URI=mongodb://localhost:27017/ TIMETRACER_MODE=record \\
        uvicorn examples.pymongo_app.app:app
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI, HTTPException, Request
from pydantic import BaseModel
from pymongo import ASCENDING, MongoClient
from pymongo.collection import Collection
from pymongo.errors import DuplicateKeyError

from timetracer.integrations.fastapi import auto_setup

DEFAULT_URI = "mongodb://localhost:27017/"


class Book(BaseModel):
    """A book as the API takes it."""

    isbn: str
    title: str
    author: str
    copies: int = 1


def books(request: Request) -> Collection[dict[str, Any]]:
    """The ``books`` collection of the running app."""
    collection: Collection[dict[str, Any]] = request.app.state.books
    return collection


def public(book: dict[str, Any]) -> dict[str, Any]:
    """A stored book without MongoDB's ``_id``."""
    return {key: value for key, value in book.items() if key != "_id"}


def create_app(mongodb_uri: str | None = None, database: str = "library") -> FastAPI:
    """The library API; its MongoDB client lives as long as the app runs."""
    uri = mongodb_uri or os.environ.get("MONGODB_URI", DEFAULT_URI)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Created at start-up, after auto_setup(): recorded, or pointed at the replay
        # responder, as TIMETRACER_MODE says.
        client: MongoClient[dict[str, Any]] = MongoClient(uri)
        app.state.books = client[database].books
        app.state.books.create_index([("isbn", ASCENDING)], unique=True)
        yield
        client.close()

    app = FastAPI(title="Library", lifespan=lifespan)

    # Plain ``def`` handlers: FastAPI runs them in its thread pool, as PyMongo apps usually do.
    @app.get("/books")
    def list_books(request: Request, author: str | None = None) -> dict[str, Any]:
        query = {"author": author} if author else {}
        found = [public(b) for b in books(request).find(query).sort("title", ASCENDING)]
        return {"count": len(found), "books": found}

    @app.get("/books/{isbn}")
    def get_book(request: Request, isbn: str) -> dict[str, Any]:
        book = books(request).find_one({"isbn": isbn})
        if book is None:
            raise HTTPException(404, f"no book with ISBN {isbn}")
        return public(book)

    @app.post("/books", status_code=201)
    def add_book(request: Request, book: Book) -> dict[str, Any]:
        try:
            books(request).insert_one(book.model_dump())
        except DuplicateKeyError:
            raise HTTPException(409, f"ISBN {book.isbn} is already in the catalogue") from None
        return book.model_dump()

    @app.post("/books/{isbn}/loans")
    def lend(request: Request, isbn: str) -> dict[str, Any]:
        # Only a book with a copy left on the shelf can be lent.
        result = books(request).update_one(
            {"isbn": isbn, "copies": {"$gt": 0}}, {"$inc": {"copies": -1}}
        )
        if result.matched_count == 0:
            raise HTTPException(409, f"no copy of {isbn} left to lend")
        return get_book(request, isbn)

    @app.get("/authors")
    def authors(request: Request) -> dict[str, Any]:
        pipeline = [
            {"$group": {"_id": "$author", "titles": {"$sum": 1}, "copies": {"$sum": "$copies"}}},
            {"$sort": {"_id": 1}},
        ]
        rows = books(request).aggregate(pipeline)
        return {"authors": [{"author": r["_id"], **public(r)} for r in rows]}

    return auto_setup(app)


app = create_app()
