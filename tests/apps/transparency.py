"""One small app on Starlette, FastAPI and Litestar that reports exactly what it received.

The transparency tests run it with recording (or replay) off and on and compare both sides of
every exchange: what the app got (``Observer``) and what the client got. Routes:

- ``POST /echo``: reads the whole body and answers with the same bytes and content type, their
  SHA-256 and a ``set-cookie`` header (redacted in cassettes, never on the wire);
- ``POST /upload``: reads the body chunk by chunk, keeping only its size and SHA-256;
- ``POST /ignore``: never reads the body;
- ``GET /stream?size=&chunk=``: a ``size``-byte streamed response in ``chunk``-byte pieces;
- ``GET /sse?release=FILE&wait=S``: one server-sent event, then waits (at most ``S`` seconds)
  for ``FILE`` to exist, then a last event saying ``released`` or ``timed-out``;
- ``GET /forever?interval=``: server-sent events until the client goes away;
- ``GET /health``: ``ok``; ``WS /ws``: echoes text messages; lifespan start-up and shut-down
  are noted.

uvicorn serves ``tests.apps.transparency:app``, built from ``TT_APP_FRAMEWORK``.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
from fastapi import FastAPI
from litestar import Litestar, WebSocket, get, post, websocket
from litestar import Request as LitestarRequest
from litestar.exceptions import WebSocketDisconnect as LitestarWebSocketDisconnect
from litestar.response import Response as LitestarResponse
from litestar.response import Stream
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket as StarletteWebSocket
from starlette.websockets import WebSocketDisconnect

FRAMEWORKS = ("starlette", "fastapi", "litestar")
OCTETS = "application/octet-stream"
EVENTS = "text/event-stream"
_PATTERN = bytes(range(256))


@dataclass(frozen=True)
class Seen:
    """What the app received for one HTTP request."""

    method: str
    path: str
    query: bytes
    headers: tuple[tuple[bytes, bytes], ...]
    body: bytes
    size: int
    sha256: str


@dataclass
class Observer:
    """Everything one app instance received, in order."""

    probe: Callable[[str], None] | None = None
    """Called with the path inside every HTTP handler (tests use it to act in the request)."""
    requests: list[Seen] = field(default_factory=list)
    websocket: list[str] = field(default_factory=list)
    lifespan: list[str] = field(default_factory=list)

    def saw(self, scope: Mapping[str, Any], body: bytes, size: int, digest: str) -> None:
        """Note one request as the app received it."""
        self.requests.append(
            Seen(
                scope["method"],
                scope["path"],
                scope.get("query_string", b""),
                tuple((bytes(k), bytes(v)) for k, v in scope.get("headers", ())),
                body,
                size,
                digest,
            )
        )
        if self.probe is not None:
            self.probe(scope["path"])


def echo_headers(digest: str) -> dict[str, str]:
    """The headers ``/echo`` answers with."""
    return {"x-body-sha256": digest, "set-cookie": "session=abc123; HttpOnly", "x-app": "tt"}


def content_type(scope: Mapping[str, Any]) -> str:
    """The request's content type, which ``/echo`` answers with."""
    for name, value in scope.get("headers", ()):
        if name.lower() == b"content-type":
            return bytes(value).decode("latin-1")
    return OCTETS


async def pattern(size: int, chunk: int) -> AsyncIterator[bytes]:
    """``size`` bytes in ``chunk``-byte pieces; one block object is reused, so the app's own
    memory stays flat whatever the size."""
    block = (_PATTERN * (chunk // len(_PATTERN) + 1))[:chunk]
    left = size
    while left > 0:
        piece = block if left >= chunk else block[:left]
        left -= len(piece)
        yield piece


async def sse_until_released(release: str, wait: float) -> AsyncIterator[bytes]:
    """A first event, then, once ``release`` exists (or ``wait`` seconds passed), a last one."""
    yield b"event: first\ndata: hello\n\n"
    with anyio.move_on_after(wait):
        while not Path(release).exists():
            await anyio.sleep(0.01)
    outcome = b"released" if Path(release).exists() else b"timed-out"
    yield b"event: last\ndata: " + outcome + b"\n\n"


def sse_arguments(params: Mapping[str, str]) -> tuple[str, float]:
    """``/sse``'s query parameters: the release file and the longest wait."""
    return params["release"], float(_query(params, "wait", "20"))


async def forever(interval: float) -> AsyncIterator[bytes]:
    """Server-sent events until the stream is cancelled."""
    number = 0
    while True:
        yield f"id: {number}\ndata: tick {number:08d} {'.' * 64}\n\n".encode()
        number += 1
        await anyio.sleep(interval)


def _query(params: Mapping[str, str], name: str, default: str) -> str:
    return params.get(name) or default


# --- Starlette and FastAPI (same handlers) ---------------------------------------------------


def _starlette_routes(observer: Observer) -> list[Any]:
    async def echo(request: Request) -> Response:
        body = await request.body()
        digest = hashlib.sha256(body).hexdigest()
        observer.saw(request.scope, body, len(body), digest)
        return Response(body, media_type=content_type(request.scope), headers=echo_headers(digest))

    async def upload(request: Request) -> Response:
        hasher, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            hasher.update(chunk)
            size += len(chunk)
        observer.saw(request.scope, b"", size, hasher.hexdigest())
        return PlainTextResponse(f"{size} {hasher.hexdigest()}")

    async def ignore(request: Request) -> Response:
        observer.saw(request.scope, b"", -1, "")
        return PlainTextResponse("ignored")

    async def stream(request: Request) -> Response:
        observer.saw(request.scope, b"", 0, "")
        size = int(_query(request.query_params, "size", "1024"))
        chunk = int(_query(request.query_params, "chunk", "100"))
        return StreamingResponse(pattern(size, chunk), media_type=OCTETS)

    async def sse(request: Request) -> Response:
        observer.saw(request.scope, b"", 0, "")
        return StreamingResponse(
            sse_until_released(*sse_arguments(request.query_params)), media_type=EVENTS
        )

    async def ticks(request: Request) -> Response:
        observer.saw(request.scope, b"", 0, "")
        interval = float(_query(request.query_params, "interval", "0.005"))
        return StreamingResponse(forever(interval), media_type=EVENTS)

    async def health(request: Request) -> Response:
        observer.saw(request.scope, b"", 0, "")
        return PlainTextResponse("ok")

    async def ws(socket: StarletteWebSocket) -> None:
        await socket.accept()
        while True:
            try:
                text = await socket.receive_text()
            except WebSocketDisconnect:
                return
            observer.websocket.append(text)
            await socket.send_text(text.upper())

    return [
        Route("/echo", echo, methods=["POST"]),
        Route("/upload", upload, methods=["POST"]),
        Route("/ignore", ignore, methods=["POST"]),
        Route("/stream", stream),
        Route("/sse", sse),
        Route("/forever", ticks),
        Route("/health", health),
        WebSocketRoute("/ws", ws),
    ]


def _lifespan(observer: Observer) -> Callable[[Any], Any]:
    @asynccontextmanager
    async def lifespan(_app: Any) -> AsyncIterator[None]:
        observer.lifespan.append("startup")
        yield
        observer.lifespan.append("shutdown")

    return lifespan


def _build_starlette(observer: Observer, plugins: list[Any]) -> Starlette:
    return Starlette(routes=_starlette_routes(observer), lifespan=_lifespan(observer))


def _build_fastapi(observer: Observer, plugins: list[Any]) -> FastAPI:
    return FastAPI(routes=_starlette_routes(observer), lifespan=_lifespan(observer))


# --- Litestar --------------------------------------------------------------------------------


def _build_litestar(observer: Observer, plugins: list[Any]) -> Litestar:
    def scope_of(request: LitestarRequest[Any, Any, Any]) -> Mapping[str, Any]:
        return request.scope  # type: ignore[return-value]

    @post("/echo", status_code=200)
    async def echo(request: LitestarRequest[Any, Any, Any]) -> LitestarResponse[bytes]:
        body = await request.body()
        digest = hashlib.sha256(body).hexdigest()
        observer.saw(scope_of(request), body, len(body), digest)
        return LitestarResponse(
            body, media_type=content_type(scope_of(request)), headers=echo_headers(digest)
        )

    @post("/upload", status_code=200)
    async def upload(request: LitestarRequest[Any, Any, Any]) -> str:
        hasher, size = hashlib.sha256(), 0
        async for chunk in request.stream():
            hasher.update(chunk)
            size += len(chunk)
        observer.saw(scope_of(request), b"", size, hasher.hexdigest())
        return f"{size} {hasher.hexdigest()}"

    @post("/ignore", status_code=200)
    async def ignore(request: LitestarRequest[Any, Any, Any]) -> str:
        observer.saw(scope_of(request), b"", -1, "")
        return "ignored"

    @get("/stream")
    async def stream(request: LitestarRequest[Any, Any, Any]) -> Stream:
        observer.saw(scope_of(request), b"", 0, "")
        size = int(_query(request.query_params, "size", "1024"))
        chunk = int(_query(request.query_params, "chunk", "100"))
        return Stream(pattern(size, chunk), media_type=OCTETS)

    @get("/sse")
    async def sse(request: LitestarRequest[Any, Any, Any]) -> Stream:
        observer.saw(scope_of(request), b"", 0, "")
        return Stream(sse_until_released(*sse_arguments(request.query_params)), media_type=EVENTS)

    @get("/forever")
    async def ticks(request: LitestarRequest[Any, Any, Any]) -> Stream:
        observer.saw(scope_of(request), b"", 0, "")
        interval = float(_query(request.query_params, "interval", "0.005"))
        return Stream(forever(interval), media_type=EVENTS)

    @get("/health")
    async def health(request: LitestarRequest[Any, Any, Any]) -> str:
        observer.saw(scope_of(request), b"", 0, "")
        return "ok"

    @websocket("/ws")
    async def ws(socket: WebSocket[Any, Any, Any]) -> None:
        await socket.accept()
        while True:
            try:
                text = await socket.receive_text()
            except LitestarWebSocketDisconnect:
                return
            observer.websocket.append(text)
            await socket.send_text(text.upper())

    return Litestar(
        route_handlers=[echo, upload, ignore, stream, sse, ticks, health, ws],
        lifespan=[_lifespan(observer)],
        plugins=plugins,
        # The 64 MiB upload must reach the handler; Litestar refuses bodies over 10 MB.
        request_max_body_size=None,
    )


_BUILDERS: dict[str, Callable[[Observer, list[Any]], Any]] = {
    "starlette": _build_starlette,
    "fastapi": _build_fastapi,
    "litestar": _build_litestar,
}


def build_app(framework: str, observer: Observer, *, plugins: list[Any] | None = None) -> Any:
    """The app on ``framework``; ``plugins`` are Litestar plugins (ignored elsewhere)."""
    if framework not in _BUILDERS:
        raise ValueError(f"unknown framework {framework!r}; expected one of {FRAMEWORKS}")
    return _BUILDERS[framework](observer, list(plugins or ()))


def __getattr__(name: str) -> Any:
    if name == "app":
        return build_app(os.environ.get("TT_APP_FRAMEWORK", "starlette"), Observer())
    raise AttributeError(name)
