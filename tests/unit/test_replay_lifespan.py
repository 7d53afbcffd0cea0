"""app_lifespan: lifespan start-up and shut-down around in-process replays."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from timetracer.errors import ReplayError
from timetracer_replay.lifespan import app_lifespan


class LifespanApp:
    """A raw ASGI app that records the lifespan messages it receives."""

    def __init__(self, *, fail_startup: str | None = None, fail_shutdown: bool = False) -> None:
        self.received: list[str] = []
        self.fail_startup = fail_startup
        self.fail_shutdown = fail_shutdown

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        assert scope["type"] == "lifespan"
        while True:
            message = await receive()
            self.received.append(message["type"])
            if message["type"] == "lifespan.startup":
                if self.fail_startup is not None:
                    await send({"type": "lifespan.startup.failed", "message": self.fail_startup})
                    return
                scope["state"]["client"] = "connected"
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                if self.fail_shutdown:
                    await send({"type": "lifespan.shutdown.failed", "message": "stuck"})
                    raise RuntimeError("could not close the client")
                await send({"type": "lifespan.shutdown.complete"})
                return


@pytest.mark.anyio
async def test_startup_and_shutdown_are_sent_around_the_block_and_state_is_yielded() -> None:
    app = LifespanApp()

    async with app_lifespan(app) as state:
        inside = list(app.received)
        assert state == {"client": "connected"}

    assert inside == ["lifespan.startup"]
    assert app.received == ["lifespan.startup", "lifespan.shutdown"]


@pytest.mark.anyio
async def test_a_failed_startup_raises_a_replay_error_with_the_apps_message() -> None:
    app = LifespanApp(fail_startup="cannot reach the database")
    entered = False

    with pytest.raises(ReplayError, match="cannot reach the database"):
        async with app_lifespan(app):
            entered = True

    assert entered is False


@pytest.mark.anyio
async def test_an_app_that_raises_on_the_lifespan_scope_runs_without_lifespan() -> None:
    calls: list[str] = []

    async def http_only(scope: dict[str, Any], receive: Any, send: Any) -> None:
        calls.append(scope["type"])
        if scope["type"] != "http":
            raise ValueError(f"unsupported scope {scope['type']}")

    async with app_lifespan(http_only) as state:
        assert state == {}

    assert calls == ["lifespan"]


@pytest.mark.anyio
async def test_an_app_that_returns_from_the_lifespan_scope_runs_without_lifespan() -> None:
    async def ignores_lifespan(scope: dict[str, Any], receive: Any, send: Any) -> None:
        return None

    async with app_lifespan(ignores_lifespan) as state:
        assert state == {}


@pytest.mark.anyio
async def test_a_shutdown_that_raises_is_reported_as_a_replay_error() -> None:
    app = LifespanApp(fail_shutdown=True)

    with pytest.raises(ReplayError, match="could not close the client"):
        async with app_lifespan(app):
            pass


@pytest.mark.anyio
async def test_an_app_that_never_answers_startup_times_out_and_is_cancelled() -> None:
    cancelled: list[bool] = []

    async def silent(scope: dict[str, Any], receive: Any, send: Any) -> None:
        await receive()
        try:
            await receive()  # waits forever: nothing more is sent before shutdown
        except asyncio.CancelledError:
            cancelled.append(True)
            raise

    with pytest.raises(ReplayError, match=r"within 0\.05 s"):
        async with app_lifespan(silent, timeout=0.05):
            pass
    for _ in range(3):
        await asyncio.sleep(0)  # let a cancellation reach the app's task

    assert cancelled == [True]
