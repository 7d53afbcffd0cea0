"""Replaying recorded requests through an ASGI app in-process, with MongoDB answered from each
request's cassette, and comparing the responses with the recorded ones."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from timetracer.cassette import Cassette, load_cassette
from timetracer.errors import CassetteError, CassetteFormatError
from timetracer_replay.asgi_call import call_asgi
from timetracer_replay.compare import Difference, compare_response
from timetracer_replay.lifespan import app_lifespan
from timetracer_replay.session import ReplaySession, global_session, scope_for

# Headers the transport sets itself; replaying the recorded ones would contradict it.
_TRANSPORT_HEADERS = frozenset({"host", "content-length", "transfer-encoding", "connection"})


@dataclass
class CassetteResult:
    """What replaying one cassette showed."""

    path: str
    method: str = ""
    route: str = ""
    target: str = ""
    recorded_status: int | None = None
    replayed_status: int | None = None
    differences: list[Difference] = field(default_factory=list)
    misses: list[str] = field(default_factory=list)
    unused_calls: list[str] = field(default_factory=list)
    noise: list[str] = field(default_factory=list)
    error: str | None = None
    """Why the cassette could not be replayed at all (bad file, truncated request body)."""
    duration_ms: float = 0.0

    @property
    def passed(self) -> bool:
        """No real difference, no miss, no unused recorded call, no error."""
        return (
            self.error is None
            and not self.misses
            and not self.unused_calls
            and not any(not d.noise for d in self.differences)
        )

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready report entry."""
        return {
            "path": self.path,
            "passed": self.passed,
            "method": self.method,
            "route": self.route,
            "target": self.target,
            "recorded_status": self.recorded_status,
            "replayed_status": self.replayed_status,
            "differences": [d.describe() for d in self.differences if not d.noise],
            "noise": [d.describe() for d in self.differences if d.noise] + self.noise,
            "misses": self.misses,
            "unused_calls": self.unused_calls,
            "error": self.error,
            "duration_ms": round(self.duration_ms, 3),
        }


def unstored_payload(cassette: Cassette) -> str | None:
    """Why a cassette cannot be replayed because a recorded call kept only its size, or None.

    A command or reply over ``TIMETRACER_MAX_REPLY_BYTES`` was stored as a size marker; the
    responder could only answer it with an error, so the cassette is refused up front with
    one clear reason instead of a run that fails somewhere inside the app.
    """
    for position, call in enumerate(cassette.calls, 1):
        if call.command_bson is None and call.command_size is not None:
            what, size = "command", call.command_size
        elif call.reply_bson is None and not call.failed and call.reply_size is not None:
            what, size = "reply", call.reply_size
        else:
            continue
        target = f"{call.database}.{call.collection}" if call.collection else call.database
        return (
            f"recorded call #{position} {call.command_name} on {target}: its {what} was {size} "
            "bytes, over TIMETRACER_MAX_REPLY_BYTES when recorded, and was not stored; raise "
            "the cap and record again to replay this cassette"
        )
    return None


async def replay_one(
    app: Any,
    session: ReplaySession,
    cassette: Cassette,
    ignore: Sequence[str],
    state: dict[str, Any] | None = None,
) -> CassetteResult:
    """Send one cassette's request through the app and compare the answer."""
    result = CassetteResult(path=str(cassette.path))
    exchange = cassette.exchange
    if exchange is None:
        result.error = "the cassette holds no HTTP request (not recorded from a web app)"
        return result
    path = quote(exchange.path, safe="/:@!$&'()*+,;=-._~")
    result.method, result.route = exchange.method, exchange.route
    result.target = f"{path}?{exchange.query}" if exchange.query else path
    result.recorded_status = exchange.status
    if exchange.request_truncated:
        result.error = (
            f"the request body was cut at {len(exchange.request_body or b'')} of "
            f"{exchange.request_body_size} bytes when recorded (TIMETRACER_MAX_BODY_BYTES); "
            "it cannot be replayed"
        )
        return result
    unstored = unstored_payload(cassette)
    if unstored is not None:
        result.error = unstored
        return result
    headers = [(k, v) for k, v in exchange.request_headers if k not in _TRANSPORT_HEADERS]
    started = time.perf_counter()
    with session.scope(scope_for(cassette)) as scope:
        response = await call_asgi(
            app, exchange.method, path, exchange.query, headers, exchange.request_body or b"", state
        )
    result.duration_ms = (time.perf_counter() - started) * 1000
    result.replayed_status = response.status
    result.misses = [miss.diagnosis for miss in scope.misses]
    result.noise = list(scope.noise)
    result.unused_calls = [
        f"recorded call #{entry.position + 1} {entry.call.command_name} on "
        f"{entry.call.database}.{entry.call.collection or ''} was not made"
        for entry in scope.index.unused()
    ]
    result.differences = compare_response(
        exchange,
        response.status,
        response.headers,
        response.body,
        ignore,
        recorded_error=cassette.is_error,
    )
    return result


async def replay_cassettes(
    app: Any,
    paths: Iterable[Path],
    *,
    ignore: Sequence[str] = (),
    session: ReplaySession | None = None,
    on_result: Callable[[CassetteResult], None] | None = None,
) -> list[CassetteResult]:
    """Replay every cassette in ``paths`` through ``app`` (lifespan included), in order.

    A cassette that cannot be read is reported as an error and the rest still run.
    """
    session = session or global_session()
    results: list[CassetteResult] = []
    async with app_lifespan(app) as state:
        for path in paths:
            try:
                cassette = load_cassette(path)
            except CassetteError as error:
                result = CassetteResult(path=str(path), error=str(error))
            else:
                try:
                    result = await replay_one(app, session, cassette, ignore, state)
                except CassetteFormatError as error:  # a recorded document that is not BSON
                    result = CassetteResult(path=str(path), error=str(error.at(path)))
            results.append(result)
            if on_result is not None:
                on_result(result)
    return results
