"""What ``timetracer collect`` did since it started, counted from several threads."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, fields


@dataclass
class ReceiverStats:
    """Counters of one receiver; update them with :meth:`add`, read them with :meth:`snapshot`."""

    requests: int = 0
    """Export requests answered 200."""
    rejected_requests: int = 0
    """Requests answered with an error status (400, 401, 404, 405, 411, 413, 415, 503)."""
    spans: int = 0
    """Spans accepted."""
    rejected_spans: int = 0
    """Spans refused inside an accepted request (invalid trace or span id)."""
    written: int = 0
    """Cassettes written."""
    skipped: int = 0
    """Finished traces without any ``timetracer.payload.*`` attribute: not cassettes."""
    failed: int = 0
    """Cassettes that could not be written (disk full, unwritable directory, ...)."""
    late_spans: int = 0
    """Spans that arrived after their local root's cassette was written, or after the spans of
    their trace were dropped (expired or evicted)."""
    duplicate_spans: int = 0
    """Spans received twice (a sender retrying); the first copy is kept."""
    expired: int = 0
    """Traces dropped because their local root did not arrive within the maximum wait."""
    evicted: int = 0
    """Unfinished traces dropped to stay within the memory bounds."""
    dropped_at_shutdown: int = 0
    """Traces still waiting for their local root when the receiver stopped."""
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(self, **counts: int) -> None:
        """Add to the named counters, atomically."""
        with self._lock:
            for name, value in counts.items():
                setattr(self, name, getattr(self, name) + value)

    def snapshot(self) -> dict[str, int]:
        """Every counter, consistently read."""
        with self._lock:
            return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "_lock"}
