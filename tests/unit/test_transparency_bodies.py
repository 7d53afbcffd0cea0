"""Recording is invisible: the app gets the client's bytes, the client gets the app's.

Each body kind goes through the ``/echo`` app on Starlette, FastAPI and Litestar twice: with
no instrumentation at all, and behind the contrib middleware with timetracer recording. Both
sides of both runs are compared byte for byte; redaction and truncation show only in the
cassette.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.apps.transparency import FRAMEWORKS, Observer, build_app
from tests.unit.transparency_support import (
    BODIES,
    BODY_CAP,
    SECRETS,
    Instrumented,
    json_body,
    over_cap_body,
    recording,
    serve,
)
from timetracer.cassette import HttpExchange
from timetracer.config import TraceConfig

pytestmark = pytest.mark.anyio

CAP = BODY_CAP


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Instrumented]:
    with recording(tmp_path / "cassettes", TraceConfig(mode="record", max_body_bytes=CAP)) as on:
        yield on


def recorded_exchange(recorder: Instrumented) -> HttpExchange:
    (cassette,) = recorder.cassettes()
    assert cassette.exchange is not None
    return cassette.exchange


@pytest.mark.parametrize("kind", BODIES)
@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_app_and_client_see_the_same_bytes_with_recording_off_and_on(
    framework: str, kind: str, recorder: Instrumented
) -> None:
    body = BODIES[kind]()
    seen_off, seen_on = Observer(), Observer()

    off = await serve(
        build_app(framework, seen_off), "POST", "/echo", headers=body.headers, chunks=body.chunks
    )
    on = await serve(
        recorder.app(framework, seen_on), "POST", "/echo", headers=body.headers, chunks=body.chunks
    )

    assert seen_on.requests == seen_off.requests
    assert seen_on.requests[0].body == body.data
    assert on == off
    assert on.status == 200
    assert on.body == body.data
    assert (b"set-cookie", b"session=abc123; HttpOnly") in on.headers


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kind", ["json", "form"])
async def test_secrets_reach_the_app_and_the_client_but_not_the_cassette(
    framework: str, kind: str, recorder: Instrumented
) -> None:
    body = BODIES[kind]()
    seen = Observer()

    client = await serve(
        recorder.app(framework, seen), "POST", "/echo", headers=body.headers, chunks=body.chunks
    )
    exchange = recorded_exchange(recorder)

    secret = SECRETS[0]
    assert secret in seen.requests[0].body
    assert secret in client.body
    for stored in (exchange.request_body or b"", exchange.response_body or b""):
        assert not any(s in stored for s in SECRETS)
        assert b"[REDACTED]" in stored
    assert dict(exchange.response_headers)["set-cookie"] == "[REDACTED]"
    assert exchange.request_body_size == len(body.data)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("kind", ["multipart", "binary", "empty", "chunked"])
async def test_bodies_under_the_cap_are_stored_exactly(
    framework: str, kind: str, recorder: Instrumented
) -> None:
    body = BODIES[kind]()

    await serve(
        recorder.app(framework, Observer()),
        "POST",
        "/echo",
        headers=body.headers,
        chunks=body.chunks,
    )
    exchange = recorded_exchange(recorder)

    assert exchange.request_body == body.data
    assert exchange.response_body == body.data
    assert exchange.request_body_size == exchange.response_body_size == len(body.data)
    assert not exchange.request_truncated
    assert not exchange.response_truncated


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_bodies_over_the_cap_pass_whole_and_are_stored_cut_and_marked(
    framework: str, recorder: Instrumented
) -> None:
    body = over_cap_body()

    client = await serve(
        recorder.app(framework, Observer()),
        "POST",
        "/echo",
        headers=body.headers,
        chunks=body.chunks,
    )
    exchange = recorded_exchange(recorder)

    assert client.body == body.data
    assert exchange.request_body == body.data[:CAP]
    assert exchange.response_body == body.data[:CAP]
    assert exchange.request_body_size == exchange.response_body_size == len(body.data)
    assert exchange.request_truncated
    assert exchange.response_truncated


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_body_the_app_never_reads_stays_unread_and_unrecorded(
    framework: str, recorder: Instrumented
) -> None:
    body = json_body()
    seen_off, seen_on = Observer(), Observer()
    unread = [*body.chunks, b"never asked for"]

    off = await serve(
        build_app(framework, seen_off), "POST", "/ignore", headers=body.headers, chunks=unread
    )
    on = await serve(
        recorder.app(framework, seen_on), "POST", "/ignore", headers=body.headers, chunks=unread
    )
    exchange = recorded_exchange(recorder)

    assert on == off
    assert on.body == b"ignored"
    assert seen_on.requests == seen_off.requests
    assert exchange.status == 200
    assert exchange.request_body is None
