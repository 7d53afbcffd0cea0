"""An in-process recording set-up for the hardening tests: a Starlette app behind the real
contrib ASGI middleware and timetracer's capture, exporting to a real ``CassetteSpanExporter``
through a local ``TracerProvider`` (the global one is never touched).

Requests are sent as raw ASGI calls, so a test can use any method and path bytes at all,
including ones an HTTP client library would refuse to send.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.unit.spans import local_provider
from timetracer.capture.http import HttpCapture
from timetracer.capture.instrumentor import HttpCaptureInstrumentor, link_server_span
from timetracer.config import TraceConfig
from timetracer_exporter import CassetteSpanExporter

Message = dict[str, Any]


async def echo(request: Request) -> Response:
    """The request body back, with its size and digest in headers."""
    body = await request.body()
    headers = {"x-size": str(len(body)), "x-sha256": hashlib.sha256(body).hexdigest()}
    return Response(body, headers=headers, media_type=request.headers.get("content-type"))


async def item(request: Request) -> JSONResponse:
    return JSONResponse({"sku": request.path_params["sku"]})


def echo_app() -> Starlette:
    """``POST /echo`` and ``GET /items/{sku}``; anything else is Starlette's 404."""
    return Starlette(
        routes=[
            Route("/echo", echo, methods=["POST"]),
            Route("/items/{sku}", item, methods=["GET"]),
        ]
    )


@dataclass
class Answer:
    """What the client received."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass
class Recording:
    """The instrumented app and what records it."""

    app: Any
    exporter: CassetteSpanExporter
    capture: HttpCapture

    async def call(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        headers: Sequence[tuple[bytes, bytes]] = (),
        query: bytes = b"",
        chunk: int = 1 << 20,
    ) -> Answer:
        """Send one request as an ASGI call (the body in ``chunk``-sized messages)."""
        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "scheme": "http",
            "method": method,
            "path": path,
            "raw_path": path.encode("utf-8", "surrogateescape"),
            "root_path": "",
            "query_string": query,
            "headers": [(b"host", b"shop"), *headers],
            "server": ("shop", 80),
            "client": ("127.0.0.1", 50000),
        }
        chunks = [body[i : i + chunk] for i in range(0, len(body), chunk)] or [b""]
        incoming = [
            {"type": "http.request", "body": part, "more_body": index < len(chunks) - 1}
            for index, part in enumerate(chunks)
        ]
        sent: list[Message] = []

        async def receive() -> Message:
            return incoming.pop(0) if incoming else {"type": "http.disconnect"}

        async def send(message: Message) -> None:
            sent.append(message)

        await self.app(scope, receive, send)
        start = next(m for m in sent if m["type"] == "http.response.start")
        return Answer(
            status=start["status"],
            headers={k.decode(): v.decode() for k, v in start.get("headers", [])},
            body=b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body"),
        )


@contextmanager
def recording(config: TraceConfig, app: Any = None) -> Iterator[Recording]:
    """Record ``app`` (default :func:`echo_app`) with ``config`` until the block ends."""
    instrumentor = HttpCaptureInstrumentor()
    instrumentor.instrument(config=config)
    exporter = CassetteSpanExporter(config=config)
    provider = local_provider(exporter)
    middleware = OpenTelemetryMiddleware(
        app if app is not None else echo_app(),
        tracer_provider=provider,
        exclude_spans=["receive", "send"],
        server_request_hook=link_server_span,
    )
    try:
        capture = instrumentor.capture
        assert capture is not None
        yield Recording(middleware, exporter, capture)
    finally:
        provider.shutdown()
        instrumentor.uninstrument()
