"""``timetracer.capture.http``: one HTTP exchange recorded onto its server span.

An ``ExchangeRecorder`` sits between a fake ASGI server (``FakeServer``) and a fake app
(``read_then_respond``) on a span of a local provider.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import parse_qsl

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Span, SpanKind, Tracer

from timetracer import attributes as attr
from timetracer.capture.http import ExchangeRecorder, HttpCapture
from timetracer.config import TraceConfig
from timetracer.redaction import REDACTED

pytestmark = pytest.mark.anyio

Message = dict[str, Any]

SCOPE: Mapping[str, Any] = {
    "type": "http",
    "method": "POST",
    "path": "/login",
    "query_string": b"next=%2Fhome&token=abc",
    "headers": [
        (b"Content-Type", b"application/json"),
        (b"Authorization", b"Bearer s3cret"),
        (b"Accept", b"*/*"),
    ],
}
REQUEST = (b'{"user": "ann", ', b'"password": "hunter2"}')
RESPONSE_HEADERS = [(b"content-type", b"application/json"), (b"set-cookie", b"session=abc")]
RESPONSE = (b'{"id": 1, ', b'"name": "ann"}')


def request_messages(chunks: Sequence[bytes] = REQUEST) -> list[Message]:
    return [
        {"type": "http.request", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]


def response_messages(
    chunks: Sequence[bytes] = RESPONSE, status: int = 201, headers: Any = None
) -> list[Message]:
    start = {
        "type": "http.response.start",
        "status": status,
        "headers": RESPONSE_HEADERS if headers is None else headers,
    }
    bodies = [
        {"type": "http.response.body", "body": chunk, "more_body": index < len(chunks) - 1}
        for index, chunk in enumerate(chunks)
    ]
    return [start, *bodies]


class FakeServer:
    """The server side of ASGI: hands out ``incoming`` and keeps what the app sends."""

    def __init__(self, incoming: list[Message]) -> None:
        self.incoming = list(incoming)
        self.sent: list[Message] = []

    async def receive(self) -> Message:
        return self.incoming.pop(0)

    async def send(self, message: Message) -> None:
        self.sent.append(message)


async def read_then_respond(recorder: ExchangeRecorder, response: list[Message]) -> list[Message]:
    """An app that reads the whole request body, then sends ``response``; returns what it read."""
    received = []
    while True:
        message = await recorder.receive()
        received.append(message)
        if not message.get("more_body", False):
            break
    for message in response:
        await recorder.send(message)
    return received


@dataclass
class Exchange:
    """One driven exchange: what each side handed over and what the other side saw."""

    capture: HttpCapture
    request: list[Message]  # what the server handed in
    read_by_app: list[Message]
    response: list[Message]  # what the app sent
    sent_to_client: list[Message]


async def run_exchange(
    tracer: Tracer,
    config: TraceConfig,
    *,
    scope: Mapping[str, Any] = SCOPE,
    request: list[Message] | None = None,
    response: list[Message] | None = None,
    wrap_span: Any = None,
    attach: bool = True,
    kind: SpanKind = SpanKind.SERVER,
) -> Exchange:
    """Drive one exchange through an ``ExchangeRecorder`` on a span of ``tracer``.

    ``attach=False`` leaves the recorder to find the current span itself; ``wrap_span`` wraps
    the span before it is attached.
    """
    request = request_messages() if request is None else request
    response = response_messages() if response is None else response
    capture = HttpCapture(config)
    server = FakeServer(request)
    with tracer.start_as_current_span("POST /login", kind=kind) as span:
        recorder = ExchangeRecorder(capture, dict(scope), server.receive, server.send)
        if attach:
            recorder.attach(wrap_span(span) if wrap_span else span)
        read_by_app = await read_then_respond(recorder, response)
    return Exchange(capture, request, read_by_app, response, server.sent)


def finished_attributes(memory: InMemorySpanExporter) -> Mapping[str, Any]:
    (span,) = memory.get_finished_spans()
    return span.attributes or {}


def payload_keys(attributes: Mapping[str, Any]) -> set[str]:
    return {key for key in attributes if key.startswith(attr.PREFIX)}


async def test_request_line_and_headers_are_recorded_with_secrets_redacted(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    await run_exchange(tracer, TraceConfig(mode="record"))
    attributes = finished_attributes(memory)

    assert attributes[attr.HTTP_METHOD] == "POST"
    assert attributes[attr.HTTP_PATH] == "/login"
    assert parse_qsl(attributes[attr.HTTP_QUERY]) == [("next", "/home"), ("token", REDACTED)]
    assert attributes[attr.HTTP_REQUEST_HEADERS] == (
        "content-type", "application/json",
        "authorization", REDACTED,
        "accept", "*/*",
    )  # fmt: skip


async def test_a_request_line_off_the_asgi_spec_is_cleaned_as_the_sdk_cleans_it(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    # Method and path are the only request values not built by timetracer: a server sending
    # other types gets what set_attributes makes of them (a tuple, a str), not the raw object.
    scope = {**SCOPE, "method": ["POST"], "path": PurePosixPath("/login")}

    await run_exchange(tracer, TraceConfig(mode="record"), scope=scope)
    attributes = finished_attributes(memory)

    assert attributes[attr.HTTP_METHOD] == ("POST",)
    assert attributes[attr.HTTP_PATH] == "/login"
    assert attributes[attr.HTTP_REQUEST_HEADERS][0] == "content-type"


async def test_chunked_request_body_is_joined_redacted_and_sized(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    await run_exchange(tracer, TraceConfig(mode="record"))
    attributes = finished_attributes(memory)

    body = attributes[attr.HTTP_REQUEST_BODY]
    assert json.loads(body) == {"user": "ann", "password": REDACTED}
    assert attributes[attr.HTTP_REQUEST_BODY_SIZE] == len(b"".join(REQUEST))


async def test_response_status_headers_and_body_are_recorded(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    await run_exchange(tracer, TraceConfig(mode="record"))
    attributes = finished_attributes(memory)

    assert attributes[attr.HTTP_STATUS] == 201
    assert attributes[attr.HTTP_RESPONSE_HEADERS] == (
        "content-type", "application/json",
        "set-cookie", REDACTED,
    )  # fmt: skip
    assert attributes[attr.HTTP_RESPONSE_BODY] == b"".join(RESPONSE)
    assert attributes[attr.HTTP_RESPONSE_BODY_SIZE] == len(b"".join(RESPONSE))
    assert attributes[attr.HTTP_ROUTE] == "/login"


async def test_the_route_comes_from_the_scope_template(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    scope = {**SCOPE, "path": "/items/7", "path_template": "/items/{item_id}"}

    await run_exchange(tracer, TraceConfig(mode="record"), scope=scope)

    assert finished_attributes(memory)[attr.HTTP_ROUTE] == "/items/{item_id}"


async def test_messages_pass_through_unchanged_in_both_directions(tracer: Tracer) -> None:
    exchange = await run_exchange(tracer, TraceConfig(mode="record"))

    pairs = [
        *zip(exchange.read_by_app, exchange.request, strict=True),
        *zip(exchange.sent_to_client, exchange.response, strict=True),
    ]
    assert all(seen is sent for seen, sent in pairs)
    assert exchange.read_by_app[1]["body"] == b'"password": "hunter2"}'  # the app reads the secret


async def test_bodies_over_the_cap_are_stored_cut_and_the_app_still_gets_them_whole(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    scope = {**SCOPE, "headers": [(b"content-type", b"text/plain")]}
    request = request_messages([b"0123456789", b"abcdefghij"])
    response = response_messages([b"ABCDEFGHIJ", b"KLMNOPQRST"], headers=[])

    exchange = await run_exchange(
        tracer,
        TraceConfig(mode="record", max_body_bytes=8),
        scope=scope,
        request=request,
        response=response,
    )
    attributes = finished_attributes(memory)

    assert attributes[attr.HTTP_REQUEST_BODY] == b"01234567"
    assert attributes[attr.HTTP_REQUEST_BODY_SIZE] == 20
    assert attributes[attr.HTTP_RESPONSE_BODY] == b"ABCDEFGH"
    assert attributes[attr.HTTP_RESPONSE_BODY_SIZE] == 20
    assert b"".join(m["body"] for m in exchange.read_by_app) == b"0123456789abcdefghij"
    sent = b"".join(m.get("body", b"") for m in exchange.sent_to_client)
    assert sent == b"ABCDEFGHIJKLMNOPQRST"


async def test_truncated_json_bodies_never_store_a_secret(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    request = b'{"user": "ann", "password": "hunter2", "bio": "' + b"x" * 200 + b'"}'
    response = b'{"id": 1, "token": "t0ps3cret", "bio": "' + b"x" * 200 + b'"}'

    await run_exchange(
        tracer,
        TraceConfig(mode="record", max_body_bytes=64),
        request=request_messages([request]),
        response=response_messages([response]),
    )
    attributes = finished_attributes(memory)

    assert attributes[attr.HTTP_REQUEST_BODY_SIZE] == len(request)
    assert attributes[attr.HTTP_RESPONSE_BODY_SIZE] == len(response)
    assert b"hunter2" not in attributes[attr.HTTP_REQUEST_BODY]
    assert b"t0ps3cret" not in attributes[attr.HTTP_RESPONSE_BODY]


async def test_a_span_that_is_not_sampled_gets_no_payload(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    exchange = await run_exchange(tracer, TraceConfig(mode="record", sample_rate=0))

    assert payload_keys(finished_attributes(memory)) == set()
    assert exchange.read_by_app == exchange.request
    assert exchange.sent_to_client == exchange.response


async def test_without_the_hook_the_current_server_span_is_found_and_recorded(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    await run_exchange(tracer, TraceConfig(mode="record"), attach=False)

    assert finished_attributes(memory)[attr.HTTP_STATUS] == 201


async def test_without_the_hook_a_current_span_that_is_not_a_server_span_is_left_alone(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    await run_exchange(tracer, TraceConfig(mode="record"), attach=False, kind=SpanKind.INTERNAL)

    assert payload_keys(finished_attributes(memory)) == set()


class FailingSpan:
    """A real span whose ``set_attributes`` raises when it is given ``poison``."""

    def __init__(self, span: Span, poison: str) -> None:
        self._span = span
        self._poison = poison

    def __getattr__(self, name: str) -> Any:
        return getattr(self._span, name)

    def set_attributes(self, attributes: Mapping[str, Any]) -> None:
        if self._poison in attributes:
            raise RuntimeError("set_attributes failed")
        self._span.set_attributes(attributes)


@pytest.mark.parametrize(
    ("poison", "cause"),
    [
        (attr.HTTP_METHOD, "http-request:RuntimeError"),
        (attr.HTTP_REQUEST_BODY, "http-request-body:RuntimeError"),
        (attr.HTTP_RESPONSE_BODY, "http-response:RuntimeError"),
    ],
)
async def test_a_failure_while_recording_never_reaches_the_app_and_is_counted(
    tracer: Tracer, poison: str, cause: str
) -> None:
    exchange = await run_exchange(
        tracer,
        TraceConfig(mode="record"),
        wrap_span=lambda span: FailingSpan(span, poison),
    )

    assert exchange.capture.failures.counts == {cause: 1}
    assert exchange.read_by_app == exchange.request
    assert exchange.sent_to_client == exchange.response


async def test_after_a_failure_the_recorder_stops_recording_that_exchange(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    await run_exchange(
        tracer,
        TraceConfig(mode="record"),
        wrap_span=lambda span: FailingSpan(span, attr.HTTP_REQUEST_BODY),
    )

    # The request line was recorded; nothing after the failure was.
    attributes = finished_attributes(memory)
    assert attr.HTTP_METHOD in attributes
    assert attr.HTTP_STATUS not in attributes


async def test_a_redacted_body_is_not_marked_truncated(
    tracer: Tracer, memory: InMemorySpanExporter
) -> None:
    body = b'{"user": "ann", "password": "a-rather-long-secret-value-indeed"}'

    await run_exchange(tracer, TraceConfig(mode="record"), request=request_messages([body]))
    attributes = finished_attributes(memory)

    stored = attributes[attr.HTTP_REQUEST_BODY]
    assert b"a-rather-long" not in stored
    assert len(stored) < len(body)  # redaction shortened it ...
    assert attributes[attr.HTTP_REQUEST_BODY_TRUNCATED] is False  # ... but nothing was cut
