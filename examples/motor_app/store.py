"""Connecting to MongoDB with Motor or AsyncMongoClient: shared by the app and ``prune.py``."""

from __future__ import annotations

import inspect
from typing import Any, Literal

from pymongo import AsyncMongoClient

Driver = Literal["motor", "async"]


def connect(driver: Driver, uri: str) -> Any:
    """A client of ``driver``: Motor's ``AsyncIOMotorClient`` or ``AsyncMongoClient``."""
    if driver == "motor":
        from motor.motor_asyncio import AsyncIOMotorClient

        return AsyncIOMotorClient(uri, tz_aware=True)
    return AsyncMongoClient(uri, tz_aware=True)


async def close(client: Any) -> None:
    """Close either client: Motor's ``close()`` returns None, AsyncMongoClient's a coroutine."""
    closed = client.close()
    if inspect.isawaitable(closed):
        await closed
