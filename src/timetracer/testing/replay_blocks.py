"""The ``timetracer_replay`` fixture: replay one cassette inside a ``with`` block of a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from timetracer.cassette import load_cassette
from timetracer.testing.use import answering

if TYPE_CHECKING:
    from timetracer_replay.scope import ReplayScope
    from timetracer_replay.session import ReplaySession


class ReplayBlocks:
    """Callable as ``with timetracer_replay("cassettes/x.cassette") as scope: ...``.

    Relative paths are read from the test file's directory. The replay session starts on the
    first block and stops when the test ends; create clients inside the block (or after it
    started) so they reach the responder.
    """

    def __init__(self, base: Path, shared_session: ReplaySession | None = None) -> None:
        self.base = base
        self._shared = shared_session
        self._own: ReplaySession | None = None

    def _session(self) -> ReplaySession:
        if self._shared is not None:
            return self._shared
        if self._own is None:
            from timetracer_replay.session import ReplaySession

            self._own = ReplaySession().start()
        return self._own

    @contextmanager
    def __call__(self, cassette: str | Path, *, strict: bool = True) -> Iterator[ReplayScope]:
        """Answer the block's MongoDB calls from ``cassette``; with ``strict``, leaving the
        block raises :class:`~timetracer.errors.ReplayMissError` if a call found no recording."""
        from timetracer_replay.session import scope_for

        path = Path(cassette)
        loaded = load_cassette(path if path.is_absolute() else self.base / path)
        with answering(self._session(), scope_for(loaded)) as scope:
            yield scope
        if strict and scope.misses:
            raise scope.misses[0]

    def close(self) -> None:
        """Stop the session this fixture started, if any."""
        if self._own is not None:
            self._own.stop()
            self._own = None
