"""Running a hook when a Starlette or FastAPI app's lifespan ends (Starlette 1.x).

Starlette enters ``app.router.lifespan_context(app)`` for the ASGI lifespan; ``auto_setup``
wraps it so its hook runs after the app's own shutdown code, when no request is left. Litestar
has a public list for this, ``app.on_shutdown``, used directly by its ``auto_setup``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from timetracer.integrations._setup import FLUSH_MARK


def run_after_lifespan(app: Any, hook: Callable[[], None]) -> bool:
    """Make ``hook`` run when ``app``'s lifespan ends; return whether it was added."""
    router = getattr(app, "router", None)
    original = getattr(router, "lifespan_context", None)
    if original is None or getattr(original, FLUSH_MARK, False):
        return False  # not a Starlette app, or an earlier auto_setup added it

    @asynccontextmanager
    async def lifespan(lifespan_app: Any) -> AsyncIterator[Any]:
        try:
            async with original(lifespan_app) as state:
                yield state
        finally:
            hook()

    setattr(lifespan, FLUSH_MARK, True)
    router.lifespan_context = lifespan
    return True


def run_on_litestar_shutdown(app: Any, hook: Callable[[], None]) -> bool:
    """Append ``hook`` to a Litestar app's ``on_shutdown`` hooks unless one is there already."""
    hooks = getattr(app, "on_shutdown", None)
    if not isinstance(hooks, list) or any(getattr(h, FLUSH_MARK, False) for h in hooks):
        return False
    hooks.append(hook)
    return True
