"""Telemetry failures are logged once per cause and counted, never raised into the app."""

from __future__ import annotations

import logging
import threading
from collections import Counter


class FailureLog:
    """Logs the first failure of each cause with its traceback, then only counts repeats.

    A cause is a short stable key such as ``"write:OSError:28"``; a full disk therefore logs one
    warning however many requests it hits, while :attr:`counts` keeps the exact tally.
    """

    def __init__(self, logger: logging.Logger) -> None:
        self._logger = logger
        self._lock = threading.Lock()
        self.counts: Counter[str] = Counter()

    def report(self, cause: str, message: str, exc: BaseException | None = None) -> None:
        """Count a failure; log it if this cause has not been seen before."""
        with self._lock:
            self.counts[cause] += 1
            first = self.counts[cause] == 1
        if first:
            self._logger.warning(
                "%s (further failures of this kind are counted, not logged)",
                message,
                exc_info=exc,
            )


def cause_of(prefix: str, exc: BaseException) -> str:
    """A cause key for an exception: its type and, for OS errors, its errno."""
    errno = getattr(exc, "errno", None)
    suffix = f":{errno}" if errno is not None else ""
    return f"{prefix}:{type(exc).__name__}{suffix}"
