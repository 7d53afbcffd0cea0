"""Running an ASGI app's lifespan around in-process replays (httpx's transport sends none)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from timetracer.errors import ReplayError


@asynccontextmanager
async def app_lifespan(
    app: Callable[..., Any], timeout: float = 30.0
) -> AsyncIterator[dict[str, Any]]:
    """Send ``lifespan.startup`` before the block and ``lifespan.shutdown`` after it.

    Yields the lifespan state dict, which the caller puts in each request's scope as servers
    do. Apps that do not support lifespan (they raise on the lifespan scope) run without it.
    """
    state: dict[str, Any] = {}
    inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
    outbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

    async def receive() -> dict[str, Any]:
        return await inbox.get()

    async def send(message: dict[str, Any]) -> None:
        await outbox.put(message)

    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    task = asyncio.ensure_future(app(scope, receive, send))

    async def next_message() -> dict[str, Any] | None:
        getter = asyncio.ensure_future(outbox.get())
        done, _ = await asyncio.wait({getter, task}, timeout=timeout, return_when="FIRST_COMPLETED")
        if getter in done:
            return getter.result()
        getter.cancel()
        if task in done:
            return None  # the app returned (or raised) without answering: no lifespan support
        raise ReplayError(f"the app did not finish its lifespan start-up within {timeout} s")

    await inbox.put({"type": "lifespan.startup"})
    supported = False
    try:
        answer = await next_message()
        supported = answer is not None
        if answer is not None and answer["type"] == "lifespan.startup.failed":
            raise ReplayError(f"the app failed to start: {answer.get('message', '')}")
        yield state
    finally:
        if supported:
            await inbox.put({"type": "lifespan.shutdown"})
            await next_message()
        if not task.done():
            task.cancel()
        elif task.exception() is not None and supported:
            raise ReplayError(f"the app's lifespan failed: {task.exception()!r}")
