"""``timetracer.capture.instrumentor``: a recorder around every contrib ASGI middleware call.

The real ``OpenTelemetryMiddleware`` runs here, on a local provider, in front of a tiny app.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from opentelemetry.instrumentation.asgi import OpenTelemetryMiddleware
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span

from tests.unit.spans import local_provider
from timetracer import attributes as attr
from timetracer.capture.instrumentor import (
    HttpCaptureInstrumentor,
    chain_server_request_hooks,
    link_server_span,
)
from timetracer.config import TraceConfig

pytestmark = pytest.mark.anyio

Message = dict[str, Any]


def http_scope(path: str = "/echo") -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "scheme": "http",
        "method": "POST",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"shop"), (b"content-type", b"text/plain")],
        "server": ("shop", 80),
        "client": ("127.0.0.1", 50000),
    }


async def echo(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """Answers with the request body."""
    body = b""
    while True:
        message = await receive()
        body += message.get("body", b"")
        if not message.get("more_body", False):
            break
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": body})


class Client:
    def __init__(self, body: bytes) -> None:
        self.incoming = [{"type": "http.request", "body": body, "more_body": False}]
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        self.sent.append(message)


@pytest.fixture
def instrumentor() -> Iterator[HttpCaptureInstrumentor]:
    instrumentor = HttpCaptureInstrumentor()
    instrumentor.instrument(config=TraceConfig(mode="record", max_body_bytes=4))
    yield instrumentor
    instrumentor.uninstrument()


async def serve(memory: InMemorySpanExporter, scope: dict[str, Any], **options: Any) -> Client:
    provider = local_provider(memory)
    middleware = OpenTelemetryMiddleware(
        echo, tracer_provider=provider, exclude_spans=["receive", "send"], **options
    )
    client = Client(b"hello world")
    await middleware(scope, client.receive, client.send)
    provider.shutdown()
    return client


def server_attributes(memory: InMemorySpanExporter) -> dict[str, Any]:
    (span,) = memory.get_finished_spans()
    return dict(span.attributes or {})


async def test_instrumented_middleware_records_the_exchange_on_its_server_span(
    instrumentor: HttpCaptureInstrumentor, memory: InMemorySpanExporter
) -> None:
    client = await serve(memory, http_scope(), server_request_hook=link_server_span)
    attributes = server_attributes(memory)

    assert attributes[attr.HTTP_METHOD] == "POST"
    assert attributes[attr.HTTP_PATH] == "/echo"
    assert attributes[attr.HTTP_REQUEST_BODY] == b"hell"
    assert attributes[attr.HTTP_REQUEST_BODY_SIZE] == 11
    assert attributes[attr.HTTP_STATUS] == 200
    assert attributes[attr.HTTP_RESPONSE_BODY] == b"hell"
    assert client.sent[1]["body"] == b"hello world"


async def test_a_middleware_built_without_the_hook_is_still_recorded(
    instrumentor: HttpCaptureInstrumentor, memory: InMemorySpanExporter
) -> None:
    await serve(memory, http_scope())

    assert server_attributes(memory)[attr.HTTP_STATUS] == 200


async def test_a_user_hook_chained_after_link_server_span_still_runs(
    instrumentor: HttpCaptureInstrumentor, memory: InMemorySpanExporter
) -> None:
    seen: list[str] = []

    def user_hook(span: Span, scope: dict[str, Any]) -> None:
        seen.append(scope["path"])

    await serve(memory, http_scope(), server_request_hook=chain_server_request_hooks(user_hook))

    assert seen == ["/echo"]
    assert server_attributes(memory)[attr.HTTP_STATUS] == 200


def test_chaining_nothing_or_the_link_itself_gives_the_link() -> None:
    assert chain_server_request_hooks(None) is link_server_span
    assert chain_server_request_hooks(link_server_span) is link_server_span


async def test_after_uninstrument_nothing_is_recorded(memory: InMemorySpanExporter) -> None:
    instrumentor = HttpCaptureInstrumentor()
    instrumentor.instrument(config=TraceConfig(mode="record"))
    instrumentor.uninstrument()

    await serve(memory, http_scope(), server_request_hook=link_server_span)

    assert not any(key.startswith(attr.PREFIX) for key in server_attributes(memory))
    assert instrumentor.capture is None


async def test_failures_are_counted_on_the_instrumentors_capture(
    instrumentor: HttpCaptureInstrumentor, memory: InMemorySpanExporter
) -> None:
    scope = http_scope()
    scope["query_string"] = "a=1"  # a str, not bytes: the recorder's decode() fails

    client = await serve(memory, scope, server_request_hook=link_server_span)

    assert instrumentor.capture is not None
    assert instrumentor.capture.failures.counts == {"http-request:AttributeError": 1}
    assert client.sent[1]["body"] == b"hello world"


async def test_non_http_scopes_pass_straight_through(
    instrumentor: HttpCaptureInstrumentor,
) -> None:
    calls: list[tuple[Any, Any, Any]] = []

    async def wrapped(scope: Any, receive: Any, send: Any) -> str:
        calls.append((scope, receive, send))
        return "done"

    async def receive() -> Message:
        return {}

    async def send(message: Message) -> None:
        return None

    scope = {"type": "lifespan"}
    result = await instrumentor._wrap_call(wrapped, None, (scope, receive, send), {})

    assert result == "done"
    assert calls == [(scope, receive, send)]
