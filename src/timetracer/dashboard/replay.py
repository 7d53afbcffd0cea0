"""The live dashboard's replay button: one cassette through the app, with the replay runner."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any


class ReplayAction:
    """Replays single cassettes through ``app`` with MongoDB answered by ``session``.

    The caller starts ``session`` before importing the app (clients created at import time
    must reach the responder) and stops it when done. Replays run one at a time: each runs
    the app's lifespan, and two apps' start-ups must not interleave.
    """

    def __init__(self, app: Any, app_spec: str, session: Any, ignore: Sequence[str] = ()) -> None:
        self.app = app
        self.app_spec = app_spec
        self.session = session
        self.ignore = list(ignore)
        self._lock = threading.Lock()

    def run(self, path: Path) -> dict[str, Any]:
        """Replay one cassette; its ``CassetteResult.to_dict()``."""
        from timetracer_replay.runner import replay_cassettes

        with self._lock:
            # Each request handler runs in its own thread, which has no event loop yet.
            results = asyncio.run(
                replay_cassettes(self.app, [path], ignore=self.ignore, session=self.session)
            )
        return results[0].to_dict()
