"""Streamed responses keep streaming while they are recorded, and endless ones stay bounded.

In-process, on Starlette, FastAPI and Litestar: chunk boundaries reach the client unchanged; an
event reaches the client while the app is still producing the stream; a never-ending stream
that the client leaves is recorded up to the cap, with the status and the truncation mark.
(``tests/integration/test_transparency_sse.py`` shows the same under uvicorn.)
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.requests import ClientDisconnect

from tests.apps.transparency import FRAMEWORKS, Observer, build_app
from tests.unit.transparency_support import FakeServer, Instrumented, recording, serve
from timetracer.cassette import HttpExchange
from timetracer.config import TraceConfig

pytestmark = pytest.mark.anyio

CAP = 1000


@pytest.fixture
def recorder(tmp_path: Path) -> Iterator[Instrumented]:
    with recording(tmp_path / "cassettes", TraceConfig(mode="record", max_body_bytes=CAP)) as on:
        yield on


def recorded_exchange(recorder: Instrumented) -> HttpExchange:
    (cassette,) = recorder.cassettes()
    assert cassette.exchange is not None
    return cassette.exchange


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_streamed_response_keeps_its_chunks_and_is_recorded(
    framework: str, recorder: Instrumented
) -> None:
    query = b"size=50000&chunk=700"

    off = await serve(build_app(framework, Observer()), "GET", "/stream", query=query)
    on = await serve(recorder.app(framework, Observer()), "GET", "/stream", query=query)
    exchange = recorded_exchange(recorder)

    assert on == off
    assert on.size == 50_000
    assert on.chunks[:-1] == [700] * 71 + [300]  # the framework's empty closing chunk aside
    assert exchange.response_body == on.body[:CAP]
    assert exchange.response_body_size == 50_000
    assert exchange.response_truncated


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_the_first_event_reaches_the_client_while_the_app_is_still_streaming(
    framework: str, recorder: Instrumented, tmp_path: Path
) -> None:
    release = tmp_path / "release"
    server = FakeServer([b""])
    released_before_first_event: list[bool] = []

    def first_event_arrived() -> None:
        # The app is waiting for this file before it sends its last event: had the recorder
        # held the stream back, the first event could not arrive before the app timed out.
        released_before_first_event.append(release.exists())
        release.touch()

    server.on_first_chunk = first_event_arrived
    query = f"release={release}&wait=10".encode()

    client = await serve(
        recorder.app(framework, Observer()), "GET", "/sse", query=query, server=server
    )

    assert released_before_first_event == [False]
    assert client.body == b"event: first\ndata: hello\n\nevent: last\ndata: released\n\n"
    assert recorded_exchange(recorder).response_body == client.body


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_never_ending_stream_the_client_leaves_is_recorded_up_to_the_cap(
    framework: str, recorder: Instrumented
) -> None:
    server = FakeServer([b""], leave_after=20_000)

    client = await serve(
        recorder.app(framework, Observer()), "GET", "/forever", query=b"interval=0", server=server
    )
    exchange = recorded_exchange(recorder)

    assert client.status == 200
    assert client.size >= 20_000
    assert exchange.status == 200
    assert dict(exchange.response_headers)["content-type"].startswith("text/event-stream")
    assert exchange.response_body == client.body[:CAP]
    assert exchange.response_body_size >= 20_000
    assert exchange.response_truncated


async def test_a_stream_whose_send_fails_after_the_client_left_is_recorded_as_far_as_it_got(
    recorder: Instrumented,
) -> None:
    # ASGI 2.4 servers tell a streaming app that the client left by raising from send.
    server = FakeServer([b""], leave_after=5_000, raise_when_gone=True)
    app = recorder.app("starlette", Observer())

    with pytest.raises(ClientDisconnect):  # Starlette's own answer to the OSError
        await serve(app, "GET", "/forever", query=b"interval=0", spec_version="2.4", server=server)
    exchange = recorded_exchange(recorder)

    assert exchange.status == 200
    assert exchange.response_body == server.view.body[:CAP]
    assert exchange.response_body_size == server.view.size
    assert exchange.response_truncated


@pytest.mark.parametrize("framework", FRAMEWORKS)
async def test_a_streamed_response_is_one_server_span_not_one_span_per_chunk(
    framework: str, recorder: Instrumented
) -> None:
    await serve(recorder.app(framework, Observer()), "GET", "/stream", query=b"size=8000&chunk=100")

    assert [span.name for span in recorder.spans.get_finished_spans()] == ["GET /stream"]
