"""The ASGI app that ``--timetracer-cassettes`` tests replay through, set up once per run.

The replay session starts before the app is imported, so MongoDB clients the app creates at
import time are redirected; the app's lifespan starts once, on one event loop kept for the
whole run, because clients and state made in the lifespan belong to that loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Any

from timetracer.cassette import load_cassette

if TYPE_CHECKING:
    from timetracer_replay.runner import CassetteResult
    from timetracer_replay.session import ReplaySession


class AppReplayer:
    """Replays cassettes through one app: started on first use, closed at the end of the run."""

    def __init__(self, app_spec: str, ignore: Sequence[str] = ()) -> None:
        self.app_spec = app_spec
        self.ignore = list(ignore)
        self.session: ReplaySession | None = None
        self._app: Any = None
        self._state: dict[str, Any] | None = None
        self._lifespan: AbstractAsyncContextManager[dict[str, Any]] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._failure: BaseException | None = None

    def _start(self) -> tuple[asyncio.AbstractEventLoop, ReplaySession]:
        if self._failure is not None:
            raise self._failure  # the app could not start: every cassette fails the same way
        if self._loop is not None and self.session is not None:
            return self._loop, self.session
        from timetracer.cli.replay_cmd import load_app
        from timetracer_replay.lifespan import app_lifespan
        from timetracer_replay.session import global_session

        loop = self._loop = asyncio.new_event_loop()
        session = self.session = global_session()
        try:
            self._app = load_app(self.app_spec)
            self._lifespan = app_lifespan(self._app)
            self._state = loop.run_until_complete(self._lifespan.__aenter__())
        except BaseException as error:
            self._failure = error
            self._lifespan = None
            raise
        return loop, session

    def replay(self, path: Any) -> CassetteResult:
        """Replay one cassette's request through the app and compare the response."""
        from timetracer_replay.runner import replay_one

        loop, session = self._start()
        cassette = load_cassette(path)
        return loop.run_until_complete(
            replay_one(self._app, session, cassette, self.ignore, self._state)
        )

    def close(self) -> None:
        """Shut the app's lifespan down and stop the replay session; idempotent."""
        loop, lifespan, session = self._loop, self._lifespan, self.session
        self._loop = self._lifespan = self.session = None
        try:
            if loop is not None and lifespan is not None:
                loop.run_until_complete(lifespan.__aexit__(None, None, None))
        finally:
            if session is not None:
                session.stop()
            if loop is not None:
                loop.close()
