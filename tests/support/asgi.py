"""Run an ASGI application's lifespan in-process, for ``httpx.ASGITransport`` tests.

``httpx.ASGITransport`` sends only ``http`` requests, never the ``lifespan`` startup and
shutdown that a server such as uvicorn sends, so apps that open their database client in the
lifespan need this::

    async with running_app(app) as served:
        transport = httpx.ASGITransport(app=served)
        async with httpx.AsyncClient(transport=transport, base_url="http://shop") as client:
            ...
"""

from __future__ import annotations

import math
from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

import anyio

__all__ = ["ASGIApp", "LifespanError", "running_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Marks the end of the app's lifespan coroutine on the message stream; not an ASGI type.
_APP_RETURNED = "running_app.returned"


class LifespanError(RuntimeError):
    """The application failed (or refused) to start up or shut down."""


@asynccontextmanager
async def running_app(app: ASGIApp, *, timeout: float = 30.0) -> AsyncIterator[ASGIApp]:
    """Run ``app``'s lifespan startup, yield, then run its shutdown.

    Yields an ASGI app to hand to ``httpx.ASGITransport``: it is ``app`` with the lifespan
    state copied into every request scope, as servers do, so ``request.state`` works too.
    Raises ``LifespanError`` if startup or shutdown fails or takes longer than ``timeout``.
    """
    state: dict[str, Any] = {}
    scope: Scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": state}
    to_app_send, to_app_receive = anyio.create_memory_object_stream[Message](math.inf)
    from_app_send, from_app_receive = anyio.create_memory_object_stream[Message](math.inf)
    failure: list[Exception] = []

    async def serve_lifespan() -> None:
        try:
            await app(scope, to_app_receive.receive, from_app_send.send)
        except Exception as exc:
            # Keep the app's own exception for the caller instead of letting it tear down
            # the task group as an ExceptionGroup.
            failure.append(exc)
        await from_app_send.send({"type": _APP_RETURNED})

    async def step(phase: str) -> LifespanError | None:
        await to_app_send.send({"type": f"lifespan.{phase}"})
        with anyio.move_on_after(timeout) as waited:
            reply = await from_app_receive.receive()
        if waited.cancelled_caught:
            return LifespanError(f"lifespan {phase} did not finish within {timeout} s")
        if reply["type"] == f"lifespan.{phase}.complete":
            return None
        if reply["type"] == f"lifespan.{phase}.failed":
            return LifespanError(f"lifespan {phase} failed: {reply.get('message', '')}")
        cause = failure[0] if failure else None
        error = LifespanError(f"the app ended during lifespan {phase}: {cause!r}")
        error.__cause__ = cause
        return error

    # Errors are carried out of the task group and raised after it: raised inside, anyio
    # would wrap them in an ExceptionGroup, hiding e.g. a failed assertion from pytest.
    error: BaseException | None = None
    with to_app_send, to_app_receive, from_app_send, from_app_receive:
        async with anyio.create_task_group() as tasks:
            tasks.start_soon(serve_lifespan)
            error = await step("startup")
            if error is not None:
                tasks.cancel_scope.cancel()
            else:
                try:
                    yield _with_state(app, state)
                except BaseException as exc:  # re-raised below, after shutdown
                    error = exc
                # Shut down even when the body was cancelled, so clients get closed.
                with anyio.CancelScope(shield=True):
                    shutdown_error = await step("shutdown")
                error = error or shutdown_error
    if error is not None:
        raise error


def _with_state(app: ASGIApp, state: dict[str, Any]) -> ASGIApp:
    async def app_with_state(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            # A shallow copy per request, like uvicorn: requests may add keys, not share them.
            scope = {**scope, "state": {**state, **scope.get("state", {})}}
        await app(scope, receive, send)

    return app_with_state
