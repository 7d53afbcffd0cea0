"""``timetracer.integrations.lifespan``: auto_setup's shutdown hook runs after the app's own
shutdown code, once however many times auto_setup ran."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

import pytest
from litestar import Litestar
from starlette.applications import Starlette

from tests.support.asgi import running_app
from timetracer.integrations._setup import FLUSH_MARK
from timetracer.integrations.lifespan import run_after_lifespan, run_on_litestar_shutdown


def marked_hook(events: list[str]) -> Callable[[], None]:
    def hook() -> None:
        events.append("timetracer")

    setattr(hook, FLUSH_MARK, True)
    return hook


def starlette_app(events: list[str]) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[dict[str, str]]:
        events.append("startup")
        yield {"state": "kept"}
        events.append("shutdown")

    return Starlette(lifespan=lifespan)


@pytest.mark.anyio
async def test_the_hook_runs_after_the_apps_own_shutdown() -> None:
    events: list[str] = []
    app = starlette_app(events)

    assert run_after_lifespan(app, marked_hook(events)) is True
    async with running_app(app):
        events.append("serving")

    assert events == ["startup", "serving", "shutdown", "timetracer"]


@pytest.mark.anyio
async def test_a_second_auto_setup_adds_no_second_hook() -> None:
    events: list[str] = []
    app = starlette_app(events)
    run_after_lifespan(app, marked_hook(events))

    assert run_after_lifespan(app, marked_hook(events)) is False
    async with running_app(app):
        pass

    assert events.count("timetracer") == 1


def test_an_app_without_a_router_is_left_alone() -> None:
    assert run_after_lifespan(object(), lambda: None) is False


def test_a_litestar_app_gets_one_shutdown_hook() -> None:
    events: list[str] = []
    app = Litestar(route_handlers=[])

    assert run_on_litestar_shutdown(app, marked_hook(events)) is True
    assert run_on_litestar_shutdown(app, marked_hook(events)) is False
    assert len(app.on_shutdown) == 1
