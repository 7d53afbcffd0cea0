"""A script on the same database: which books have no copy left. Recorded with ``enable_pymongo``.

A script has no request around its MongoDB calls, so it opens a root span itself; everything
inside becomes one cassette. In replay mode the same script answers from that cassette::

    MONGODB_URI=mongodb://localhost:27017/ TIMETRACER_MODE=record \\
        python -m examples.pymongo_app.report
    TIMETRACER_MODE=replay TIMETRACER_CASSETTE=cassettes/<the SPAN_stock-report cassette> \\
        python -m examples.pymongo_app.report
"""

from __future__ import annotations

import os
from typing import Any

from opentelemetry import trace
from pymongo import ASCENDING, MongoClient

from timetracer.plugins import disable_pymongo, enable_pymongo


def out_of_stock(client: MongoClient[dict[str, Any]], database: str = "library") -> list[str]:
    """Titles of the books with no copy left, sorted."""
    shelf = client[database].books.find({"copies": 0}, {"_id": 0, "title": 1})
    return [book["title"] for book in shelf.sort("title", ASCENDING)]


def main() -> None:
    """Print the report; record or replay its MongoDB calls as ``TIMETRACER_MODE`` says."""
    enable_pymongo()  # before the client exists: pymongo copies its listeners at construction
    client: MongoClient[dict[str, Any]] = MongoClient(
        os.environ.get("MONGODB_URI", "mongodb://localhost:27017/")
    )
    try:
        with trace.get_tracer("library.report").start_as_current_span("stock-report"):
            titles = out_of_stock(client)
    finally:
        client.close()
        disable_pymongo()
    print("\n".join(titles) or "every book has a copy on the shelf")


if __name__ == "__main__":
    main()
