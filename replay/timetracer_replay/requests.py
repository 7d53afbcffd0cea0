"""Server-mode replay: matching each incoming request to a recorded cassette.

Requests are matched by method, path, query string and body. The live query and body go
through the same redaction as recording did, so a request whose password was redacted in the
cassette still finds it; JSON bodies are compared as data, not as text. A recording without a
request body (the app never read it) matches whatever body comes. Several recordings of
the same request are served in recorded order, then the last one again.
"""

from __future__ import annotations

import json
import logging
import threading
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from timetracer.cassette import Cassette, iter_cassette_paths, load_cassette
from timetracer.config import TraceConfig
from timetracer.errors import CassetteError, CassetteNotFoundError
from timetracer.redaction import Redactor

logger = logging.getLogger(__name__)

RequestKey = tuple[str, str, str, bytes | None]
"""Method, path, redacted query, and body key (None: the app never read the body)."""


def _body_key(body: bytes, headers: Iterable[tuple[str, str]]) -> bytes:
    kind = next((v for k, v in headers if k.lower() == "content-type"), "").lower()
    if "json" in kind and body:
        try:
            return json.dumps(json.loads(body), sort_keys=True, separators=(",", ":")).encode()
        except ValueError:
            return body
    return body


@dataclass(frozen=True)
class RequestMiss:
    """What was looked for, and the recordings that came closest."""

    method: str
    path: str
    query: str
    similar: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The JSON body of the error response."""
        target = f"{self.path}?{self.query}" if self.query else self.path
        return {
            "error": f"timetracer replay: no recording of {self.method} {target}",
            "looked_for": {"method": self.method, "path": self.path, "query": self.query},
            "recorded_similar": self.similar,
            "hint": "record this request, or check TIMETRACER_DIR / TIMETRACER_CASSETTE",
        }


class RecordedRequests:
    """The recorded requests of a directory (or one pinned cassette), ready to be matched."""

    def __init__(self, cassettes: Iterable[Cassette], config: TraceConfig, pinned: bool = False):
        self._redactor = Redactor(config)
        self._pinned = pinned
        self._queues: dict[RequestKey, deque[Cassette]] = {}
        self._served: dict[RequestKey, Cassette] = {}
        self._paths: dict[tuple[str, str], list[str]] = {}
        self._first: Cassette | None = None
        self._lock = threading.Lock()
        for cassette in cassettes:
            exchange = cassette.exchange
            if exchange is None:
                continue
            self._first = self._first or cassette
            recorded = exchange.request_body
            body = None if recorded is None else _body_key(recorded, exchange.request_headers)
            key = (exchange.method, exchange.path, exchange.query, body)
            self._queues.setdefault(key, deque()).append(cassette)
            self._paths.setdefault((exchange.method, exchange.route), []).append(exchange.path)

    @classmethod
    def load(cls, config: TraceConfig) -> RecordedRequests:
        """From ``TIMETRACER_CASSETTE`` if set, else every cassette in ``TIMETRACER_DIR``."""
        if config.cassette is not None:
            return cls([load_cassette(config.cassette)], config, pinned=True)
        if not config.cassette_dir.is_dir():
            raise CassetteNotFoundError(config.cassette_dir)
        cassettes = []
        for path in iter_cassette_paths(config.cassette_dir):
            try:
                cassettes.append(load_cassette(path))
            except CassetteError as error:
                logger.warning("timetracer replay: skipped %s", error)
        return cls(cassettes, config)

    def __len__(self) -> int:
        return sum(len(q) for q in self._queues.values()) + len(self._served)

    def match(
        self, method: str, path: str, query: str, headers: list[tuple[str, str]], body: bytes
    ) -> Cassette | RequestMiss:
        """The recording that answers this request, or what was looked for."""
        if self._pinned and self._first is not None:
            return self._first
        redacted_query = self._redactor.query(query)
        content_type = next((v for k, v in headers if k.lower() == "content-type"), "")
        redacted_body = self._redactor.body(body, content_type)
        key: RequestKey = (method.upper(), path, redacted_query, _body_key(redacted_body, headers))
        unread: RequestKey = (key[0], key[1], key[2], None)
        with self._lock:
            for candidate in (key, unread):
                queue = self._queues.get(candidate)
                if queue:
                    cassette = queue.popleft()
                    self._served[candidate] = cassette
                    return cassette
            for candidate in (key, unread):
                if candidate in self._served:
                    # Asked more often than recorded: the last recording again.
                    return self._served[candidate]
        similar = sorted(
            {p for (m, _), paths in self._paths.items() if m == method.upper() for p in paths}
        )[:5]
        return RequestMiss(method.upper(), path, query, similar)
