"""In-process ASGI drivers and instrumentation for the transparency tests.

``serve`` plays the server side of one HTTP exchange (the request body in the chunks given, a
client that may leave early) and reports what the client received; ``websocket_session`` and
``lifespan_cycle`` do the same for the other two ASGI scope types. ``Instrumented`` puts a
framework's app behind the real contrib ASGI middleware on a local tracer provider whose
spans go to the real cassette exporter, with timetracer recording (or replaying) it.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio
import httpx
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tests.apps.transparency import Observer, build_app
from tests.unit.spans import local_provider
from timetracer.capture.instrumentor import HttpCaptureInstrumentor, link_server_span
from timetracer.cassette import Cassette, iter_cassette_paths, load_cassette
from timetracer.config import TraceConfig
from timetracer_exporter import CassetteSpanExporter
from timetracer_replay.instrumentor import ReplayInstrumentor, mark_replayed

Message = dict[str, Any]
Headers = list[tuple[bytes, bytes]]
ASGIApp = Callable[..., Any]

EXCHANGE_TIMEOUT = 20.0
"""Seconds any single exchange may take: a recorder that hangs fails the test, not the run."""


def http_scope(
    method: str,
    path: str,
    query: bytes = b"",
    headers: Sequence[tuple[bytes, bytes]] = (),
    spec_version: str = "2.3",
) -> Message:
    """An HTTP scope as uvicorn builds it (ASGI spec 2.3: apps listen for ``http.disconnect``;
    from 2.4 on a server raises ``OSError`` from ``send`` instead)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": spec_version},
        "http_version": "1.1",
        "scheme": "http",
        "method": method,
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query,
        "headers": [(b"host", b"testserver"), *headers],
        "server": ("testserver", 80),
        "client": ("127.0.0.1", 50000),
        "state": {},
    }


@dataclass
class ClientView:
    """What the client received."""

    status: int = 0
    headers: Headers = field(default_factory=list)
    chunks: list[int] = field(default_factory=list)
    """The length of every ``http.response.body`` message, in order."""
    size: int = 0
    sha256: str = ""
    body: bytes = b""
    """The whole body (only when the exchange keeps it)."""


class FakeServer:
    """The server side of one HTTP exchange.

    Hands the app the request body in ``chunks`` (none at all reaches the app unless it asks),
    then ``http.disconnect`` once the response is complete or the client has left. A client
    with ``leave_after`` leaves after that many body bytes; later sends are dropped as
    uvicorn drops them, or raise ``OSError`` as ASGI 2.4 servers do (``raise_when_gone``).
    """

    def __init__(
        self,
        chunks: Iterable[bytes],
        *,
        keep_body: bool = True,
        leave_after: int | None = None,
        raise_when_gone: bool = False,
    ) -> None:
        self._chunks: Iterator[bytes] = iter(chunks)
        self._next: bytes | None = next(self._chunks, b"")
        self._keep_body = keep_body
        self._leave_after = leave_after
        self._raise_when_gone = raise_when_gone
        self._hasher = hashlib.sha256()
        self._body = bytearray()
        self._ended = anyio.Event()
        self.gone = False
        self.view = ClientView()
        self.on_first_chunk: Callable[[], None] | None = None

    async def receive(self) -> Message:
        """The next request message, or ``http.disconnect`` when the exchange is over."""
        if self._next is not None:
            body, self._next = self._next, next(self._chunks, None)
            return {"type": "http.request", "body": body, "more_body": self._next is not None}
        await self._ended.wait()
        return {"type": "http.disconnect"}

    async def send(self, message: Message) -> None:
        """Take one response message as a client would."""
        if self.gone:
            if self._raise_when_gone:
                raise OSError("the client went away")
            return
        view = self.view
        if message["type"] == "http.response.start":
            view.status = message["status"]
            view.headers = [(bytes(k), bytes(v)) for k, v in message.get("headers", ())]
            return
        if message["type"] != "http.response.body":
            return
        body = message.get("body", b"")
        view.chunks.append(len(body))
        view.size += len(body)
        self._hasher.update(body)
        view.sha256 = self._hasher.hexdigest()
        if self._keep_body:
            self._body += body
            view.body = bytes(self._body)
        if len(view.chunks) == 1 and self.on_first_chunk is not None:
            self.on_first_chunk()
        if self._leave_after is not None and view.size >= self._leave_after:
            self.gone = True
            self._ended.set()
        elif not message.get("more_body", False):
            self._ended.set()


async def serve(
    app: ASGIApp,
    method: str,
    path: str,
    *,
    query: bytes = b"",
    headers: Sequence[tuple[bytes, bytes]] = (),
    chunks: Iterable[bytes] = (b"",),
    spec_version: str = "2.3",
    server: FakeServer | None = None,
) -> ClientView:
    """Run one HTTP exchange through ``app``; return what the client received.

    ``server`` plays the server side (default: a ``FakeServer`` handing in ``chunks``).
    """
    fake = server or FakeServer(chunks)
    scope = http_scope(method, path, query, headers, spec_version)
    with anyio.fail_after(EXCHANGE_TIMEOUT):
        await app(scope, fake.receive, fake.send)
    return fake.view


async def websocket_session(app: ASGIApp, path: str, texts: Sequence[str]) -> list[Message]:
    """Connect, send ``texts`` one by one (each after the previous reply), disconnect; return
    every message the app sent."""
    scope = {**http_scope("GET", path), "type": "websocket", "scheme": "ws", "subprotocols": []}
    scope.pop("method")
    incoming, outgoing = anyio.create_memory_object_stream[Message](math.inf)
    sent: list[Message] = []
    pending = list(texts)

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] in ("websocket.accept", "websocket.send"):
            if pending:
                await incoming.send({"type": "websocket.receive", "text": pending.pop(0)})
            else:
                await incoming.send({"type": "websocket.disconnect", "code": 1000})

    await incoming.send({"type": "websocket.connect"})
    with anyio.fail_after(EXCHANGE_TIMEOUT), incoming, outgoing:
        await app(scope, outgoing.receive, send)
    return sent


async def lifespan_cycle(app: ASGIApp) -> list[Message]:
    """Run start-up and shut-down; return every message the app sent."""
    scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
    incoming = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]
    sent: list[Message] = []
    started = anyio.Event()

    async def receive() -> Message:
        if len(incoming) == 1:
            await started.wait()
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "lifespan.startup.complete":
            started.set()

    with anyio.fail_after(EXCHANGE_TIMEOUT):
        await app(scope, receive, send)
    return sent


BODY_CAP = 4096
"""``max_body_bytes`` of the byte-for-byte tests: ``over_cap_body`` is longer."""
SECRETS = (b"hunter2-secret", b"t0k3n-value")
"""The secret values in ``json_body`` and ``form_body``."""


@dataclass(frozen=True)
class Body:
    """A request body as a client sends it: headers and the chunks it arrives in."""

    headers: list[tuple[bytes, bytes]]
    chunks: list[bytes]

    @property
    def data(self) -> bytes:
        return b"".join(self.chunks)


def _encoded(**kwargs: object) -> Body:
    # httpx encodes forms and multipart bodies the way real clients do.
    request = httpx.Request("POST", "http://testserver/echo", **kwargs)  # type: ignore[arg-type]
    headers = [(b"content-type", request.headers["content-type"].encode())]
    return Body(headers, [request.read()])


def json_body() -> Body:
    # Spacing, key order and a non-ASCII character that a re-serialising recorder would change.
    raw = (
        b'{ "user":"ann",  "password": "hunter2-secret",\n "nested": {"token": "t0k3n-value"},'
        b' "name": "Ren\xc3\xa9e", "n": 1.50 }'
    )
    return Body([(b"content-type", b"application/json")], [raw])


def form_body() -> Body:
    return _encoded(data={"user": "ann", "password": "hunter2-secret", "note": "a&b=c ü"})


def multipart_body() -> Body:
    blob = bytes(range(256)) * 4
    return _encoded(data={"field": "value"}, files={"file": ("blob.bin", blob, "image/png")})


def binary_body() -> Body:
    return Body([(b"content-type", b"application/octet-stream")], [bytes(range(256))[::-1] * 8])


def empty_body() -> Body:
    return Body([(b"content-length", b"0")], [b""])


def chunked_body() -> Body:
    lines = [f"line {n:04d}\n".encode() for n in range(300)]  # 300 chunks of 10 bytes
    return Body([(b"content-type", b"text/plain"), (b"transfer-encoding", b"chunked")], lines)


def over_cap_body() -> Body:
    data = bytes(range(256)) * 40  # 10240 bytes, more than BODY_CAP
    chunks = [data[i : i + 1500] for i in range(0, len(data), 1500)]
    return Body([(b"content-type", b"application/octet-stream")], chunks)


BODIES: dict[str, Callable[[], Body]] = {
    "json": json_body,
    "form": form_body,
    "multipart": multipart_body,
    "binary": binary_body,
    "empty": empty_body,
    "chunked": chunked_body,
    "over-cap": over_cap_body,
}


OTEL_EXCLUDE_SPANS = ["receive", "send"]


def instrument_app(
    framework: str,
    observer: Observer,
    provider: TracerProvider,
    hook: Callable[..., None],
) -> ASGIApp:
    """Build the app on ``framework`` behind the contrib ASGI middleware, as the distro does."""
    if framework == "litestar":
        from litestar.plugins.opentelemetry import OpenTelemetryConfig, OpenTelemetryPlugin

        plugin = OpenTelemetryPlugin(
            OpenTelemetryConfig(
                tracer_provider=provider,
                server_request_hook_handler=hook,
                exclude_spans=OTEL_EXCLUDE_SPANS,  # type: ignore[arg-type]
            )
        )
        return build_app(framework, observer, plugins=[plugin])
    app = build_app(framework, observer)
    if framework == "fastapi":
        from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

        FastAPIInstrumentor.instrument_app(
            app,
            tracer_provider=provider,
            server_request_hook=hook,
            exclude_spans=OTEL_EXCLUDE_SPANS,  # type: ignore[arg-type]
        )
    else:
        # contrib's Starlette instrumentor takes no exclude_spans; timetracer applies it.
        from opentelemetry.instrumentation.starlette import StarletteInstrumentor

        StarletteInstrumentor.instrument_app(
            app, tracer_provider=provider, server_request_hook=hook
        )
    return app


@dataclass
class Instrumented:
    """Apps behind the contrib middleware, their spans written as cassettes to ``cassette_dir``."""

    cassette_dir: Path
    hook: Callable[..., None]
    spans: InMemorySpanExporter = field(default_factory=InMemorySpanExporter)
    provider: TracerProvider = field(init=False)
    exporter: CassetteSpanExporter = field(init=False)

    def __post_init__(self) -> None:
        self.cassette_dir.mkdir(parents=True, exist_ok=True)
        self.exporter = CassetteSpanExporter(self.cassette_dir, "none")
        self.provider = local_provider(self.spans)
        self.provider.add_span_processor(SimpleSpanProcessor(self.exporter))

    def app(self, framework: str, observer: Observer) -> ASGIApp:
        """The app on ``framework``, instrumented."""
        return instrument_app(framework, observer, self.provider, self.hook)

    def cassettes(self) -> list[Cassette]:
        """Every cassette written so far, oldest first."""
        paths = sorted(iter_cassette_paths(self.cassette_dir), key=lambda p: p.stat().st_mtime_ns)
        return [load_cassette(path) for path in paths]

    def shutdown(self) -> None:
        """Stop the provider (and its exporters)."""
        self.provider.shutdown()


@contextmanager
def recording(cassette_dir: Path, config: TraceConfig) -> Iterator[Instrumented]:
    """Record mode, as the distro sets it up, for the apps built inside the block."""
    capture = HttpCaptureInstrumentor()
    capture.instrument(config=config)
    instrumented = Instrumented(cassette_dir, link_server_span)
    try:
        yield instrumented
    finally:
        capture.uninstrument()
        instrumented.shutdown()


@contextmanager
def replaying(config: TraceConfig, spans_dir: Path) -> Iterator[Instrumented]:
    """Server-mode replay, as the distro sets it up, for the apps built inside the block.

    ``config`` names the recordings; the replayed spans go to ``spans_dir`` (which gets no
    cassettes: replayed spans carry no payloads).
    """
    replay = ReplayInstrumentor()
    replay.instrument(config=config)
    instrumented = Instrumented(spans_dir, mark_replayed)
    try:
        yield instrumented
    finally:
        replay.uninstrument()
        instrumented.shutdown()
